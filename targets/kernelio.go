package targets

import (
	"context"
	"net/netip"
)

// The interfaces below are the system calls and argument forms packetdrill
// scripts use beyond plain socket calls. A target that lacks one is skipped,
// with the reason, by any script that needs it.

// NullBuffers is implemented by instances whose socket calls can be given a
// NULL buffer, as packetdrill passes one through (write(4, NULL, 1000)): the
// call's result is the stack's own answer (EFAULT on Linux).
type NullBuffers interface {
	// SendNull sends n bytes from a NULL buffer with flags, to addr when it
	// is valid.
	SendNull(ctx context.Context, fd, n, flags int, addr netip.AddrPort) (int, error)
	// RecvNull receives up to n bytes into a NULL buffer with flags.
	RecvNull(ctx context.Context, fd, n, flags int) (int, error)
}

// BareFamilies is implemented by instances whose connect and sendto take a
// bare address family where an address goes, as packetdrill scripts write
// connect(3, AF_UNSPEC, ...): the call gets a zeroed address of that family;
// AF_UNSPEC dissolves the socket's connection.
type BareFamilies interface {
	ConnectFamily(ctx context.Context, fd, family int) error
	SendToFamily(ctx context.Context, fd int, b []byte, flags, family int) (int, error)
}

// Files is implemented by instances that can open files where the stack
// runs and send them on sockets. Descriptors it returns are closed with
// Sockets.Close.
type Files interface {
	// Open opens path with open(2) flags and mode.
	Open(path string, flags, mode int) (int, error)
	// Sendfile sends up to n bytes of in on out. A non-nil offset is where
	// to read in, and is advanced past what was sent; a nil one reads from
	// in's own position.
	Sendfile(ctx context.Context, out, in int, offset *int64, n int) (int, error)
}

// Pipes is implemented by instances that make pipes and move data between
// them and sockets without a copy to the caller (splice). Descriptors it
// returns are closed with Sockets.Close.
type Pipes interface {
	// Pipe returns a pipe's read and write ends.
	Pipe() (r, w int, err error)
	// Splice moves up to n bytes from in to out with splice(2) flags; a
	// non-nil offset is where to read or write that side, and is advanced.
	Splice(ctx context.Context, in int, inOff *int64, out int, outOff *int64, n, flags int) (int, error)
}

// Iovecs is implemented by instances whose sendmsg takes the iovecs as
// separate buffers, as the kernel sees them: with MSG_ZEROCOPY each becomes
// a page fragment of its own, so the split of the data into segments
// depends on them.
type Iovecs interface {
	// SendMsg sends the buffers of iov in order with flags, on a connected
	// socket; a blocking call takes them all.
	SendMsg(ctx context.Context, fd int, iov [][]byte, flags int) (int, error)
}

// RawGetsockopts is implemented by instances that read options whose value
// is a byte string (TCP_CONGESTION).
type RawGetsockopts interface {
	// GetsockoptBytes reads up to n bytes of the option's value.
	GetsockoptBytes(fd, level, name, n int) ([]byte, error)
}
