package netstack

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/tcpconform/tcpconform/targets"
)

// firstFD is the first descriptor handed out, as after stdin, stdout and
// stderr in a process: packetdrill scripts expect socket() to return 3.
const firstFD = 3

// socket is one open descriptor.
type socket struct {
	ep       tcpip.Endpoint
	wq       *waiter.Queue
	domain   int
	nonblock atomic.Bool
}

// sockets is the instance's targets.Sockets: BSD calls on netstack endpoints
// (tcpip.Endpoint plus waiter queues, never gonet, whose deadlines run on wall
// time). Errors for the script are syscall.Errno. Descriptors are the lowest
// free number from 3 up.
//
// Every call settles the stack first, so it sees the effect of every segment
// injected before it: a read right after the peer's data finds the data.
// Blocking calls wait in wall time for the stack's goroutines, until ctx is
// done; on the virtual clock nothing a timer does happens meanwhile, so a call
// that needs a timer to fire waits for ctx. Blocking calls thus suit a caller
// that injects from another goroutine meanwhile, as packetdrill's blocking
// system calls do.
// Calls may come from several goroutines; the fd table is locked, but calls on
// one descriptor should not overlap.
type sockets struct{ in *instance }

var _ targets.Sockets = sockets{}

func (k sockets) get(fd int) (*socket, error) {
	k.in.settle()
	k.in.mu.Lock()
	defer k.in.mu.Unlock()
	so, ok := k.in.fds[fd]
	if !ok {
		return nil, syscall.EBADF
	}
	return so, nil
}

// add installs so under the lowest free descriptor and remembers its endpoint
// for State.
func (k sockets) add(so *socket) int {
	k.in.mu.Lock()
	defer k.in.mu.Unlock()
	fd := firstFD
	for k.in.fds[fd] != nil {
		fd++
	}
	k.in.fds[fd] = so
	if te, ok := so.ep.(*tcp.Endpoint); ok {
		k.in.known[te] = struct{}{}
	}
	return fd
}

// Socket implements targets.Sockets.
func (k sockets) Socket(domain, typ, proto int) (int, error) {
	if k.in.isClosed() {
		return -1, errClosed
	}
	var np tcpip.NetworkProtocolNumber
	switch domain {
	case syscall.AF_INET:
		np = ipv4.ProtocolNumber
	case syscall.AF_INET6:
		np = ipv6.ProtocolNumber
	default:
		return -1, syscall.EAFNOSUPPORT
	}
	nonblock := typ&syscall.SOCK_NONBLOCK != 0
	if typ&^(syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC) != syscall.SOCK_STREAM {
		return -1, syscall.ESOCKTNOSUPPORT
	}
	if proto != 0 && proto != syscall.IPPROTO_TCP {
		return -1, syscall.EPROTONOSUPPORT
	}
	wq := new(waiter.Queue)
	ep, err := k.in.s.NewEndpoint(tcp.ProtocolNumber, np, wq)
	if err != nil {
		return -1, toErr(err)
	}
	so := &socket{ep: ep, wq: wq, domain: domain}
	so.nonblock.Store(nonblock)
	return k.add(so), nil
}

// fullAddr converts a socket address for a socket of the given domain. An
// IPv4 address given to an AF_INET6 socket becomes v4-mapped; the
// unspecified address becomes netstack's empty (wildcard) address.
func fullAddr(domain int, ap netip.AddrPort) (tcpip.FullAddress, error) {
	a := ap.Addr()
	fa := tcpip.FullAddress{Port: ap.Port()}
	switch domain {
	case syscall.AF_INET:
		a = a.Unmap()
		if !a.Is4() {
			return fa, syscall.EAFNOSUPPORT
		}
		if !a.IsUnspecified() {
			fa.Addr = tcpip.AddrFrom4(a.As4())
		}
	default:
		if !a.IsValid() {
			return fa, syscall.EINVAL
		}
		if !(a.Is6() && a.IsUnspecified()) {
			fa.Addr = tcpip.AddrFrom16(a.As16())
		}
	}
	return fa, nil
}

// sockAddr converts a netstack address back; IPv4-mapped addresses are
// unmapped, and the empty address is the domain's unspecified one.
func sockAddr(domain int, fa tcpip.FullAddress) netip.AddrPort {
	ap := addrPort(fa.Addr, fa.Port)
	if ap.Addr().IsValid() {
		return ap
	}
	if domain == syscall.AF_INET6 {
		return netip.AddrPortFrom(netip.IPv6Unspecified(), fa.Port)
	}
	return netip.AddrPortFrom(netip.IPv4Unspecified(), fa.Port)
}

// Bind implements targets.Sockets.
func (k sockets) Bind(fd int, addr netip.AddrPort) error {
	so, err := k.get(fd)
	if err != nil {
		return err
	}
	fa, err := fullAddr(so.domain, addr)
	if err != nil {
		return err
	}
	return toErr(so.ep.Bind(fa))
}

// Listen implements targets.Sockets.
func (k sockets) Listen(fd int, backlog int) error {
	so, err := k.get(fd)
	if err != nil {
		return err
	}
	return toErr(so.ep.Listen(backlog))
}

// waitFor registers for mask, runs try, and while try reports EAGAIN on a
// blocking socket waits for an event or ctx. It returns try's last error, or
// ctx's error.
func (so *socket) waitFor(ctx context.Context, mask waiter.EventMask, try func() tcpip.Error) error {
	if so.nonblock.Load() {
		return toErr(try())
	}
	entry, ch := waiter.NewChannelEntry(mask)
	so.wq.EventRegister(&entry)
	defer so.wq.EventUnregister(&entry)
	for {
		err := try()
		if _, again := err.(*tcpip.ErrWouldBlock); !again {
			return toErr(err)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Accept implements targets.Sockets. The new descriptor is blocking.
func (k sockets) Accept(ctx context.Context, fd int) (int, netip.AddrPort, error) {
	so, err := k.get(fd)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	var (
		nep  tcpip.Endpoint
		nwq  *waiter.Queue
		peer tcpip.FullAddress
	)
	err = so.waitFor(ctx, waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr, func() tcpip.Error {
		var e tcpip.Error
		nep, nwq, e = so.ep.Accept(&peer)
		return e
	})
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	nfd := k.add(&socket{ep: nep, wq: nwq, domain: so.domain})
	return nfd, sockAddr(so.domain, peer), nil
}

func connecting(s uint32) bool {
	switch tcp.EndpointState(s) {
	case tcp.StateConnecting, tcp.StateSynSent, tcp.StateSynRecv:
		return true
	}
	return false
}

// Connect implements targets.Sockets. A non-blocking socket returns
// EINPROGRESS (its outcome is then read with SO_ERROR or a second Connect);
// a blocking one waits until the handshake ends and reports its outcome.
func (k sockets) Connect(ctx context.Context, fd int, addr netip.AddrPort) error {
	so, err := k.get(fd)
	if err != nil {
		return err
	}
	fa, err := fullAddr(so.domain, addr)
	if err != nil {
		return err
	}
	if so.nonblock.Load() {
		return toErr(so.ep.Connect(fa))
	}
	entry, ch := waiter.NewChannelEntry(waiter.WritableEvents | waiter.EventHUp | waiter.EventErr)
	so.wq.EventRegister(&entry)
	defer so.wq.EventUnregister(&entry)
	terr := so.ep.Connect(fa)
	if _, started := terr.(*tcpip.ErrConnectStarted); !started {
		return toErr(terr)
	}
	for connecting(so.ep.State()) {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Connecting again reports the outcome: nil the first time after
	// success, the hard error (ECONNREFUSED, ETIMEDOUT, ...) after failure.
	return toErr(so.ep.Connect(fa))
}

// Read implements targets.Sockets.
func (k sockets) Read(ctx context.Context, fd int, n int) ([]byte, error) {
	so, err := k.get(fd)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, syscall.EINVAL
	}
	var buf bytes.Buffer
	err = so.waitFor(ctx, waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr, func() tcpip.Error {
		if n == 0 {
			return nil
		}
		_, e := so.ep.Read(&tcpip.LimitedWriter{W: &buf, N: int64(n)}, tcpip.ReadOptions{})
		if _, eof := e.(*tcpip.ErrClosedForReceive); eof {
			return nil
		}
		return e
	})
	if err != nil {
		return nil, err
	}
	return append([]byte{}, buf.Bytes()...), nil
}

// Write implements targets.Sockets. A blocking socket waits for send-buffer
// space until all of b is queued (or ctx ends, reporting what was taken); a
// non-blocking one takes what fits, or returns EAGAIN.
func (k sockets) Write(ctx context.Context, fd int, b []byte) (int, error) {
	so, err := k.get(fd)
	if err != nil {
		return 0, err
	}
	total := 0
	err = so.waitFor(ctx, waiter.WritableEvents|waiter.EventHUp|waiter.EventErr, func() tcpip.Error {
		for total < len(b) {
			n, e := so.ep.Write(bytes.NewReader(b[total:]), tcpip.WriteOptions{})
			total += int(n)
			if e != nil {
				if _, again := e.(*tcpip.ErrWouldBlock); again && total > 0 && so.nonblock.Load() {
					return nil
				}
				return e
			}
			if so.nonblock.Load() {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		if total > 0 {
			return total, nil
		}
		return 0, err
	}
	return total, nil
}

// Shutdown implements targets.Sockets.
func (k sockets) Shutdown(fd int, how int) error {
	so, err := k.get(fd)
	if err != nil {
		return err
	}
	var flags tcpip.ShutdownFlags
	switch how {
	case syscall.SHUT_RD:
		flags = tcpip.ShutdownRead
	case syscall.SHUT_WR:
		flags = tcpip.ShutdownWrite
	case syscall.SHUT_RDWR:
		flags = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return syscall.EINVAL
	}
	return toErr(so.ep.Shutdown(flags))
}

// Close implements targets.Sockets. The endpoint lives on in netstack as long
// as TCP needs it (FIN-WAIT, TIME-WAIT, ...), and State can still read it.
func (k sockets) Close(fd int) error {
	// Like every call, close sees the segments injected before it.
	k.in.settle()
	k.in.mu.Lock()
	so, ok := k.in.fds[fd]
	delete(k.in.fds, fd)
	k.in.mu.Unlock()
	if !ok {
		return syscall.EBADF
	}
	so.ep.Close()
	return nil
}

// SetNonblock implements targets.Sockets.
func (k sockets) SetNonblock(fd int, nonblocking bool) error {
	k.in.mu.Lock()
	defer k.in.mu.Unlock()
	so, ok := k.in.fds[fd]
	if !ok {
		return syscall.EBADF
	}
	so.nonblock.Store(nonblocking)
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SetsockoptInt implements targets.Sockets for SO_REUSEADDR, SO_KEEPALIVE,
// SO_SNDBUF, SO_RCVBUF, TCP_NODELAY, TCP_MAXSEG, TCP_CORK, the keep-alive
// times and count, TCP_SYNCNT, TCP_USER_TIMEOUT and TCP_LINGER2; anything else
// (SO_LINGER, which is not an int option, included) gives ENOPROTOOPT. Buffer
// sizes are passed to netstack as given (Linux doubles them; netstack clamps
// them to its configured range instead).
func (k sockets) SetsockoptInt(fd, level, name, value int) error {
	so, err := k.get(fd)
	if err != nil {
		return err
	}
	opts := so.ep.SocketOptions()
	switch level {
	case syscall.SOL_SOCKET:
		switch name {
		case syscall.SO_REUSEADDR:
			opts.SetReuseAddress(value != 0)
			return nil
		case syscall.SO_KEEPALIVE:
			opts.SetKeepAlive(value != 0)
			return nil
		case syscall.SO_SNDBUF:
			opts.SetSendBufferSize(int64(value), true)
			return nil
		case syscall.SO_RCVBUF:
			opts.SetReceiveBufferSize(int64(value), true)
			return nil
		}
	case syscall.IPPROTO_TCP:
		switch name {
		case syscall.TCP_NODELAY:
			opts.SetDelayOption(value == 0)
			return nil
		case syscall.TCP_MAXSEG:
			return toErr(so.ep.SetSockOptInt(tcpip.MaxSegOption, value))
		case syscall.TCP_CORK:
			opts.SetCorkOption(value != 0)
			return nil
		case syscall.TCP_KEEPCNT:
			return toErr(so.ep.SetSockOptInt(tcpip.KeepaliveCountOption, value))
		case syscall.TCP_SYNCNT:
			return toErr(so.ep.SetSockOptInt(tcpip.TCPSynCountOption, value))
		case syscall.TCP_KEEPIDLE:
			o := tcpip.KeepaliveIdleOption(time.Duration(value) * time.Second)
			return toErr(so.ep.SetSockOpt(&o))
		case syscall.TCP_KEEPINTVL:
			o := tcpip.KeepaliveIntervalOption(time.Duration(value) * time.Second)
			return toErr(so.ep.SetSockOpt(&o))
		case tcpUserTimeout:
			o := tcpip.TCPUserTimeoutOption(time.Duration(value) * time.Millisecond)
			return toErr(so.ep.SetSockOpt(&o))
		case syscall.TCP_LINGER2:
			o := tcpip.TCPLingerTimeoutOption(time.Duration(value) * time.Second)
			return toErr(so.ep.SetSockOpt(&o))
		}
	}
	return syscall.ENOPROTOOPT
}

// tcpUserTimeout is TCP_USER_TIMEOUT (linux/tcp.h), in milliseconds.
const tcpUserTimeout = 18

// GetsockoptInt implements targets.Sockets for the options SetsockoptInt
// takes, plus SO_ERROR (which, as on Linux, clears the pending error).
func (k sockets) GetsockoptInt(fd, level, name int) (int, error) {
	so, err := k.get(fd)
	if err != nil {
		return 0, err
	}
	opts := so.ep.SocketOptions()
	switch level {
	case syscall.SOL_SOCKET:
		switch name {
		case syscall.SO_REUSEADDR:
			return boolInt(opts.GetReuseAddress()), nil
		case syscall.SO_KEEPALIVE:
			return boolInt(opts.GetKeepAlive()), nil
		case syscall.SO_SNDBUF:
			return int(opts.GetSendBufferSize()), nil
		case syscall.SO_RCVBUF:
			return int(opts.GetReceiveBufferSize()), nil
		case syscall.SO_ERROR:
			e := so.ep.LastError()
			if e == nil {
				return 0, nil
			}
			if errno, ok := errnoOf(e); ok {
				return int(errno), nil
			}
			return int(syscall.EIO), nil
		}
	case syscall.IPPROTO_TCP:
		switch name {
		case syscall.TCP_NODELAY:
			return boolInt(!opts.GetDelayOption()), nil
		case syscall.TCP_MAXSEG:
			v, e := so.ep.GetSockOptInt(tcpip.MaxSegOption)
			return v, toErr(e)
		case syscall.TCP_CORK:
			return boolInt(opts.GetCorkOption()), nil
		}
	}
	return 0, syscall.ENOPROTOOPT
}

// LocalAddr implements targets.Sockets (getsockname).
func (k sockets) LocalAddr(fd int) (netip.AddrPort, error) {
	return k.addr(fd, tcpip.Endpoint.GetLocalAddress)
}

// RemoteAddr implements targets.Sockets (getpeername).
func (k sockets) RemoteAddr(fd int) (netip.AddrPort, error) {
	return k.addr(fd, tcpip.Endpoint.GetRemoteAddress)
}

// addr reads one of the socket's addresses with get.
func (k sockets) addr(fd int, get func(tcpip.Endpoint) (tcpip.FullAddress, tcpip.Error)) (netip.AddrPort, error) {
	so, err := k.get(fd)
	if err != nil {
		return netip.AddrPort{}, err
	}
	fa, e := get(so.ep)
	if e != nil {
		return netip.AddrPort{}, toErr(e)
	}
	return sockAddr(so.domain, fa), nil
}

// SetsockoptBytes implements targets.RawSockopts for SO_LINGER, whose value
// is a struct linger {int l_onoff; int l_linger;} in the host's byte order:
// lingering on with a zero time makes close() abort the connection with an
// RST (RFC 9293 section 3.10.5, ABORT). Anything else gives ENOPROTOOPT.
func (k sockets) SetsockoptBytes(fd, level, name int, value []byte) error {
	so, err := k.get(fd)
	if err != nil {
		return err
	}
	if level != syscall.SOL_SOCKET || name != syscall.SO_LINGER {
		return syscall.ENOPROTOOPT
	}
	if len(value) < 8 {
		return syscall.EINVAL
	}
	on := int32(binary.NativeEndian.Uint32(value))
	secs := int32(binary.NativeEndian.Uint32(value[4:]))
	so.ep.SocketOptions().SetLinger(tcpip.LingerOption{Enabled: on != 0, Timeout: time.Duration(secs) * time.Second})
	return nil
}

var _ targets.RawSockopts = sockets{}
