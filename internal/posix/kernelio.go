package posix

import (
	"context"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tcpconform/tcpconform/targets"
)

var (
	_ targets.NullBuffers  = (*Stack)(nil)
	_ targets.BareFamilies = (*Stack)(nil)
	_ targets.Files        = (*Stack)(nil)
	_ targets.Pipes        = (*Stack)(nil)
)

// rawSockaddr lays ap out as the kernel reads a sockaddr, in buf; it
// returns the address's length.
func rawSockaddr(ap netip.AddrPort, buf *unix.RawSockaddrAny) uint32 {
	*buf = unix.RawSockaddrAny{}
	port := func(p *uint16) {
		b := (*[2]byte)(unsafe.Pointer(p))
		b[0], b[1] = byte(ap.Port()>>8), byte(ap.Port())
	}
	if ap.Addr().Is4() {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(buf))
		sa.Family, sa.Addr = unix.AF_INET, ap.Addr().As4()
		port(&sa.Port)
		return unix.SizeofSockaddrInet4
	}
	sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(buf))
	sa.Family, sa.Addr = unix.AF_INET6, ap.Addr().As16()
	port(&sa.Port)
	return unix.SizeofSockaddrInet6
}

// familySockaddr is a zeroed address of family, of the size of a
// sockaddr_storage, as packetdrill hands the kernel for a bare family.
func familySockaddr(family int, buf *unix.RawSockaddrAny) uint32 {
	*buf = unix.RawSockaddrAny{}
	buf.Addr.Family = uint16(family)
	return unix.SizeofSockaddrAny
}

func errnoOf(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// sendRaw is sendto(2) with a buffer pointer that may be NULL and an address
// that may be absent (len 0); on a blocking socket it is a blocking call.
func (k *Stack) sendRaw(ctx context.Context, fd int, buf unsafe.Pointer, n, flags int, sa *unix.RawSockaddrAny, salen uint32) (int, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return 0, err
	}
	defer done()
	var to unsafe.Pointer
	if salen > 0 {
		to = unsafe.Pointer(sa)
	}
	got, err := k.blockCount(ctx, fd, so.waits(flags), func(fd int) (int, error) {
		got, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(buf), uintptr(n),
			uintptr(flags), uintptr(to), uintptr(salen))
		return int(got), errnoOf(e)
	})
	if err != nil {
		return -1, err
	}
	return got, nil
}

// SendNull implements targets.NullBuffers.
func (k *Stack) SendNull(ctx context.Context, fd, n, flags int, addr netip.AddrPort) (int, error) {
	var sa unix.RawSockaddrAny
	var salen uint32
	if addr.IsValid() {
		salen = rawSockaddr(addr, &sa)
	}
	return k.sendRaw(ctx, fd, nil, n, flags, &sa, salen)
}

// RecvNull implements targets.NullBuffers.
func (k *Stack) RecvNull(ctx context.Context, fd, n, flags int) (int, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return 0, err
	}
	defer done()
	got, err := k.blockCount(ctx, fd, so.waits(flags), func(fd int) (int, error) {
		got, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), 0, uintptr(n), uintptr(flags), 0, 0)
		return int(got), errnoOf(e)
	})
	if err != nil {
		return -1, err
	}
	return got, nil
}

// ConnectFamily implements targets.BareFamilies.
func (k *Stack) ConnectFamily(ctx context.Context, fd, family int) error {
	return k.connect(ctx, fd, func(fd int) error {
		var sa unix.RawSockaddrAny
		salen := familySockaddr(family, &sa)
		_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), uintptr(salen))
		return errnoOf(e)
	})
}

// SendToFamily implements targets.BareFamilies.
func (k *Stack) SendToFamily(ctx context.Context, fd int, b []byte, flags, family int) (int, error) {
	var sa unix.RawSockaddrAny
	salen := familySockaddr(family, &sa)
	var buf unsafe.Pointer
	if len(b) > 0 {
		buf = unsafe.Pointer(&b[0])
	}
	return k.sendRaw(ctx, fd, buf, len(b), flags, &sa, salen)
}

// Open implements targets.Files. The flags are the script's: O_NONBLOCK
// changes nothing for a regular file, which never makes a call wait.
func (k *Stack) Open(path string, flags, mode int) (int, error) {
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, uint32(mode))
	if err != nil {
		return -1, err
	}
	k.add(fd, flags&unix.O_NONBLOCK != 0)
	return fd, nil
}

// Pipe implements targets.Pipes.
func (k *Stack) Pipe() (int, int, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return -1, -1, err
	}
	k.add(p[0], false)
	k.add(p[1], false)
	return p[0], p[1], nil
}

// Sendfile implements targets.Files. On a blocking socket it sends all n
// bytes unless the file ends first, as sendfile(2) does.
func (k *Stack) Sendfile(ctx context.Context, out, in int, offset *int64, n int) (int, error) {
	if _, err := k.get(in); err != nil {
		return -1, err
	}
	so, done, err := k.enter(out)
	if err != nil {
		return -1, err
	}
	defer done()
	total := 0
	for {
		got, err := k.kernelBlocking(ctx, []int{out}, func() (int, error) {
			return unix.Sendfile(out, in, offset, n-total)
		})
		if err != nil {
			if total > 0 {
				return total, nil
			}
			return -1, err
		}
		total += got
		if got == 0 || total == n || so.nonblock.Load() {
			return total, nil
		}
	}
}

// Splice implements targets.Pipes.
func (k *Stack) Splice(ctx context.Context, in int, inOff *int64, out int, outOff *int64, n, flags int) (int, error) {
	if _, err := k.get(out); err != nil {
		return -1, err
	}
	_, done, err := k.enter(in)
	if err != nil {
		return -1, err
	}
	defer done()
	return k.kernelBlocking(ctx, []int{in, out}, func() (int, error) {
		got, err := unix.Splice(in, inOff, out, outOff, n, flags)
		return int(got), err
	})
}

// kernelBlocking makes call the way the script's descriptors would have it.
// Sockets among fds that the script sees as blocking are made blocking for
// the call, with send and receive timeouts of pollStep: the kernel then
// waits as it would for the script, and decides what a blocking call
// returns (splice stops at urgent data with 0, where a non-blocking one
// says EAGAIN), yet comes back every step so that ctx can end the wait.
// EAGAIN from such a timeout, or from a pipe end not ready, makes the call
// again while any of fds is blocking.
func (k *Stack) kernelBlocking(ctx context.Context, fds []int, call func() (int, error)) (int, error) {
	blocking := false
	for _, fd := range fds {
		so, err := k.get(fd)
		if err != nil {
			return -1, err
		}
		if so.nonblock.Load() {
			continue
		}
		blocking = true
		if _, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
			continue // not a socket
		}
		restore, err := blockFor(fd, pollStep)
		if err != nil {
			return -1, err
		}
		defer restore()
	}
	if !blocking {
		return call()
	}
	var n int
	err := k.untilReady(ctx, func() error {
		var err error
		n, err = call()
		return err
	})
	if err != nil {
		return -1, err
	}
	return n, nil
}

// blockFor makes socket fd blocking with send and receive timeouts of d,
// and returns how to put it back.
func blockFor(fd int, d time.Duration) (restore func(), err error) {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return nil, err
	}
	rcv, err := unix.GetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO)
	if err != nil {
		return nil, err
	}
	snd, err := unix.GetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO)
	if err != nil {
		return nil, err
	}
	tv := unix.NsecToTimeval(d.Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags&^unix.O_NONBLOCK); err != nil {
		return nil, err
	}
	return func() {
		unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags)
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, rcv)
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, snd)
	}, nil
}

// recvmsg is recvmsg(2) as the script writes it. unix.Recvmsg puts a
// one-byte buffer in place of an empty one on a stream socket, so a script's
// zero-length iovec (reading only the control messages of the error queue)
// would read a byte; here the iovec is what the script gave.
func recvmsg(fd int, p, oob []byte, flags int) (n, oobn, recvflags int, err error) {
	var msg unix.Msghdr
	var iov unix.Iovec
	if len(p) > 0 {
		iov.Base = &p[0]
	}
	iov.SetLen(len(p))
	msg.Iov, msg.Iovlen = &iov, 1
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
	if e != 0 {
		return 0, 0, 0, e
	}
	return int(r), int(msg.Controllen), int(msg.Flags), nil
}

var _ targets.Iovecs = (*Stack)(nil)

// SendMsg implements targets.Iovecs. On a blocking socket the kernel takes
// all the iovecs before it returns.
func (k *Stack) SendMsg(ctx context.Context, fd int, iov [][]byte, flags int) (int, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return 0, err
	}
	defer done()
	spaced := apart(iov)
	n, err := k.blockCount(ctx, fd, so.waits(flags), func(fd int) (int, error) {
		return unix.SendmsgBuffers(fd, spaced, nil, nil, flags)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// apart copies the buffers of iov into one array with a gap after each, so
// that no two are adjacent in memory: the kernel merges adjacent zerocopy
// buffers into one page fragment, where separately allocated ones (as
// packetdrill's are) stay apart.
func apart(iov [][]byte) [][]byte {
	const gap = 64
	size := 0
	for _, b := range iov {
		size += len(b) + gap
	}
	backing := make([]byte, size)
	out := make([][]byte, len(iov))
	off := 0
	for i, b := range iov {
		out[i] = backing[off : off+len(b) : off+len(b)]
		copy(out[i], b)
		off += len(b) + gap
	}
	return out
}

var _ targets.RawGetsockopts = (*Stack)(nil)

// GetsockoptBytes implements targets.RawGetsockopts.
func (k *Stack) GetsockoptBytes(fd, level, name, n int) ([]byte, error) {
	if _, err := k.get(fd); err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	l := uint32(n)
	var p unsafe.Pointer
	if n > 0 {
		p = unsafe.Pointer(&buf[0])
	}
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), uintptr(p), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return nil, e
	}
	return buf[:l], nil
}
