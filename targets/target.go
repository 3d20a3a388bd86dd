// Package targets defines what a TCP stack under test offers the harness, and
// keeps the registry of the targets this build knows.
//
// A Target makes Instances: each one a fresh, isolated stack (a new gVisor
// stack, a new network namespace) with its own Link for raw IP packets, its own
// Sockets for the application side, its own Clock, and, where the stack can
// tell, the TCP state of its connections. Capabilities say which of these a
// spec may rely on; a spec that needs more than a target has is skipped with
// the reason, never passed.
package targets

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/tcpconform/tcpconform/state"
)

// Target is a kind of stack the harness can test.
type Target interface {
	// Name is the short name users select the target by ("netstack").
	Name() string
	// Describe says in a few words what the target is.
	Describe() string
	// Available returns nil when the target can run on this machine, and
	// otherwise an error saying why not (missing privilege, package, device).
	Available() error
	// New starts a fresh instance. The caller must Close it.
	New(ctx context.Context, cfg Config) (Instance, error)
}

// Config tunes a new instance.
type Config struct {
	// Seed makes the target's randomness (ISNs, ephemeral ports, IP IDs)
	// repeat from run to run where the target allows it. Zero picks a fixed
	// default seed, so runs are reproducible unless asked otherwise.
	Seed uint64
	// TimeWait, when non-zero, asks for a TIME-WAIT duration other than the
	// target's default. Targets that cannot change it ignore it.
	TimeWait time.Duration
	// MTU, when non-zero, is the link's MTU in bytes instead of the
	// default 1500 (packetdrill's --mtu). A target that cannot set it
	// refuses the instance with ErrUnsupported.
	MTU int
	// GROSize, when non-zero, hands each injected TCP datagram longer than
	// this much payload to the stack as a receive offload would have merged
	// segments of that size (packetdrill's --mss, its virtio header's
	// gso_size). A target that cannot refuses the instance with
	// ErrUnsupported.
	GROSize int
	// Offload asks for a link like packetdrill's: on Linux a TUN device
	// with checksum offload and TSO, which the kernel hands segments of up
	// to 64 KB. Scripts are written against it. Without it the link has
	// no segmentation or checksum offload, so that what the stack sends
	// arrives as a wire would carry it, segment by segment, as the
	// built-in cases check it. Targets whose link never offloads ignore
	// it.
	Offload bool
}

// DefaultMTU is the link MTU of every target unless Config.MTU says
// otherwise: Ethernet's (RFC 894).
const DefaultMTU = 1500

// LinkUnsupported returns an error wrapping ErrUnsupported when c asks the
// named target's link for what it cannot do: an MTU other than DefaultMTU
// (unless canSetMTU), or receive offload; nil otherwise.
func (c Config) LinkUnsupported(target string, canSetMTU bool) error {
	if c.MTU != 0 && c.MTU != DefaultMTU && !canSetMTU {
		return fmt.Errorf("%s target: %w: its link's MTU is fixed at %d (asked for %d)", target, ErrUnsupported, DefaultMTU, c.MTU)
	}
	if c.GROSize != 0 {
		return fmt.Errorf("%s target: %w: its link cannot hand injected TCP over as a receive offload's merge (segment size %d)", target, ErrUnsupported, c.GROSize)
	}
	return nil
}

// Instance is one running, isolated stack under test.
type Instance interface {
	Link() Link
	Sockets() Sockets
	Clock() Clock
	// State reports the TCP state of the connection with the given 4-tuple,
	// as seen by the target. ok is false when the target cannot observe
	// states (see Capabilities.State) or knows no such connection; a
	// connection it saw and forgot reads as state.Closed. A Tuple whose
	// Remote is the zero value names the listening socket on Local.
	State(t Tuple) (s state.State, ok bool)
	Capabilities() Capabilities
	// Addrs returns the addresses the instance answers on and the ones the
	// harness's peer uses.
	Addrs() Addrs
	// Close stops the instance and releases everything it holds. It is safe
	// to call more than once.
	Close() error
}

// Tuple names a connection from the target's point of view.
type Tuple struct {
	Local  netip.AddrPort // the target's side
	Remote netip.AddrPort // the harness's peer
}

func (t Tuple) String() string { return t.Local.String() + " <-> " + t.Remote.String() }

// Addrs are the addresses of an instance. The stack owns Local4/Local6; the
// harness's peer sends from Peer4/Peer6. All lie in documentation ranges.
type Addrs struct {
	Local4, Peer4 netip.Addr
	Local6, Peer6 netip.Addr
}

// DocumentationAddrs are the addresses every built-in target uses: the stack
// at .1 and the peer at .2 of 192.0.2.0/24 (RFC 5737) and 2001:db8::/64
// (RFC 3849).
var DocumentationAddrs = Addrs{
	Local4: netip.MustParseAddr("192.0.2.1"),
	Peer4:  netip.MustParseAddr("192.0.2.2"),
	Local6: netip.MustParseAddr("2001:db8::1"),
	Peer6:  netip.MustParseAddr("2001:db8::2"),
}

// Capabilities is what an instance supports, so that specs needing more can be
// skipped with a reason.
type Capabilities struct {
	IPv4, IPv6 bool
	// VirtualTime: the clock moves only when the harness advances it.
	VirtualTime bool
	// State: Instance.State reports connection states.
	State bool
	// SynReceivedState: State also sees passive children in SYN-RECEIVED,
	// before accept.
	SynReceivedState bool
}

// Packet is one raw IP datagram the stack sent, stamped with the instance
// clock at the moment the stack handed it to its link.
type Packet struct {
	At   time.Time
	Data []byte
}

// Link carries raw IP packets (no link-layer header) to and from the stack.
type Link interface {
	// Inject hands one IPv4 or IPv6 datagram to the stack as if it had
	// arrived on the wire. The packet is copied.
	Inject(pkt []byte) error
	// Poll returns the next packet the stack sent, if one is waiting, without
	// blocking. On a virtual clock, call Clock.Settle first so that segments
	// still being processed have had their effect.
	Poll() (Packet, bool)
	// Next waits for the next packet the stack sends, until ctx is done. It
	// waits in wall time; on a virtual clock nothing a timer would send
	// arrives unless the clock is advanced.
	Next(ctx context.Context) (Packet, error)
}

// Clock is the instance's time.
type Clock interface {
	Now() time.Time
	// Virtual reports whether time moves only by Advance.
	Virtual() bool
	// Settle waits until the stack has finished processing everything that
	// was handed to it, so that states, timers and replies are in place.
	Settle()
	// Advance moves time forward by d, running every timer that falls due on
	// a virtual clock, and sleeping on a real one. It settles first.
	Advance(ctx context.Context, d time.Duration) error
	// NextTimer returns when the earliest pending timer fires, if the clock
	// knows (virtual clocks do); the harness uses it to jump straight there.
	NextTimer() (time.Time, bool)
}

// Sockets is the application side of the stack: BSD socket calls with
// errno-style results. Numbers (option levels and names, flags) are
// Linux's, so scripts can use them verbatim; internal/linuxabi keeps the
// option table. Every error a call returns for the script to check is a
// syscall.Errno; any other error is a harness failure.
type Sockets interface {
	// Socket creates a socket; domain is AF_INET or AF_INET6, typ
	// SOCK_STREAM (optionally or'ed with SOCK_NONBLOCK).
	Socket(domain, typ, proto int) (fd int, err error)
	Bind(fd int, addr netip.AddrPort) error
	Listen(fd int, backlog int) error
	// Accept returns a connected socket. A blocking socket waits until a
	// connection is ready or ctx is done; a non-blocking one returns EAGAIN.
	Accept(ctx context.Context, fd int) (nfd int, peer netip.AddrPort, err error)
	// Connect starts an active open. A non-blocking socket returns
	// EINPROGRESS; a blocking one waits for the handshake or ctx.
	Connect(ctx context.Context, fd int, addr netip.AddrPort) error
	// Read reads up to n bytes; EAGAIN when nothing is there on a
	// non-blocking socket, an empty slice at end of stream.
	Read(ctx context.Context, fd int, n int) ([]byte, error)
	// Write queues b for sending and returns how much was taken.
	Write(ctx context.Context, fd int, b []byte) (int, error)
	// Shutdown takes SHUT_RD, SHUT_WR or SHUT_RDWR.
	Shutdown(fd int, how int) error
	Close(fd int) error
	SetNonblock(fd int, nonblocking bool) error
	SetsockoptInt(fd, level, name, value int) error
	GetsockoptInt(fd, level, name int) (int, error)
	// LocalAddr and RemoteAddr are getsockname and getpeername.
	LocalAddr(fd int) (netip.AddrPort, error)
	RemoteAddr(fd int) (netip.AddrPort, error)
}

// ErrTargetFailed marks a call that failed because the stack under test
// itself died or stopped answering (an agent process that crashed or
// exited): that fails the case, with the reason, rather than counting as a
// harness error.
var ErrTargetFailed = errors.New("the target failed")

// ErrUnsupported marks what a target cannot do (a sysctl it has no
// equivalent for, a TCP_INFO field it does not keep). A case or script that
// needs it is skipped with the reason, never passed or failed.
var ErrUnsupported = errors.New("unsupported on this target")

// Sysctls is implemented by instances that take Linux sysctl settings
// ("net.ipv4.tcp_sack", "1") and translate them to their own knobs. Settings
// without an equivalent return an error wrapping ErrUnsupported.
type Sysctls interface {
	SetSysctl(name, value string) error
}

// Shell is implemented by instances that can run a shell command inside the
// stack's own environment (a Linux network namespace), in dir. It returns
// what the command printed; a command that fails returns an error.
type Shell interface {
	RunShell(ctx context.Context, cmd, dir string) ([]byte, error)
}

// FlaggedIO is implemented by instances whose sockets take send and receive
// flags (MSG_*), and sendto's address: MSG_FASTOPEN on an unconnected socket
// opens the connection with data on the SYN.
type FlaggedIO interface {
	// SendTo sends b with flags, to addr when it is valid.
	SendTo(ctx context.Context, fd int, b []byte, flags int, addr netip.AddrPort) (int, error)
	// RecvFrom reads up to n bytes with flags.
	RecvFrom(ctx context.Context, fd int, n int, flags int) ([]byte, error)
	// RecvMsg reads up to n bytes with flags, and returns the message's
	// flags and control messages as well.
	RecvMsg(ctx context.Context, fd int, n int, flags int) (got int, msgFlags int, cmsgs []Cmsg, err error)
}

// Cmsg is one control message of a received message.
type Cmsg struct {
	Level, Type int
	Data        []byte
}

// PollFd is one entry of a poll(2) call.
type PollFd struct {
	Fd              int
	Events, Revents int16
}

// Poller is implemented by instances whose sockets can be polled. Poll
// waits up to timeout (negative: until ctx is done) and fills Revents.
type Poller interface {
	Poll(ctx context.Context, fds []PollFd, timeout time.Duration) (int, error)
}

// Ioctler is implemented by instances that answer integer socket ioctls
// (SIOCINQ, SIOCOUTQ).
type Ioctler interface {
	IoctlInt(fd int, req uint) (int, error)
}

// EpollEvent is one event of an epoll instance: the event bits and the
// 64-bit data registered with the descriptor.
type EpollEvent struct {
	Events uint32
	Data   uint64
}

// Epoller is implemented by instances whose sockets can be watched with
// epoll. Descriptors it returns are closed with Sockets.Close.
type Epoller interface {
	EpollCreate() (int, error)
	EpollCtl(epfd, op, fd int, ev EpollEvent) error
	// EpollWait waits up to timeout (negative: until ctx is done).
	EpollWait(ctx context.Context, epfd int, max int, timeout time.Duration) ([]EpollEvent, error)
}

// TCPInfo is implemented by instances that report the Linux tcp_info fields
// of a socket ("tcpi_state", "tcpi_snd_cwnd", times in microseconds). The
// map holds only the fields the target keeps.
type TCPInfo interface {
	TCPInfo(fd int) (map[string]int64, error)
}

// ErrUnavailable wraps the reason a target cannot run here.
var ErrUnavailable = errors.New("target unavailable")

var (
	mu       sync.Mutex
	registry = map[string]Target{}
)

// Register adds a target to the registry; it panics on a duplicate name, which
// is a programming error.
func Register(t Target) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[t.Name()]; dup {
		panic("targets: duplicate target " + t.Name())
	}
	registry[t.Name()] = t
}

// Lookup returns the target registered under name.
func Lookup(name string) (Target, error) {
	mu.Lock()
	defer mu.Unlock()
	if t, ok := registry[name]; ok {
		return t, nil
	}
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown target %q (known: %v)", name, names)
}

// All returns every registered target, sorted by name.
func All() []Target {
	mu.Lock()
	defer mu.Unlock()
	out := make([]Target, 0, len(registry))
	for _, t := range registry {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// RawSockopts is implemented by instances whose sockets take options whose
// value is a byte string (TCP_FASTOPEN_KEY, TCP_CONGESTION).
type RawSockopts interface {
	SetsockoptBytes(fd, level, name int, value []byte) error
}

// FastOpenCookies is implemented by instances that can tell which TCP Fast
// Open cookie their server side gives a client (RFC 7413 section 4.1.1
// leaves the algorithm to the server): one cookie per server key, for a SYN
// from client to server. The keys are the stack-wide ones in effect, in
// order, then extra (keys set on listeners), so that two calls with the same
// extra keys line up index by index.
type FastOpenCookies interface {
	FastOpenCookies(client, server netip.Addr, extra [][]byte) ([][]byte, error)
}

// Shutdowner is implemented by targets that keep something running from one
// instance to the next (one virtual machine per run, booted at the first
// case). The harness calls Shutdown once its run is over; a later New starts
// afresh.
type Shutdowner interface {
	Shutdown() error
}

// ShutdownAll shuts down what every registered target keeps running.
func ShutdownAll() {
	for _, t := range All() {
		if s, ok := t.(Shutdowner); ok {
			s.Shutdown()
		}
	}
}
