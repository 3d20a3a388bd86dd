package linux

import (
	"context"
	"encoding/binary"
	"net/netip"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tcpconform/tcpconform/targets"
)

// socket is one descriptor the harness created in the namespace. The real
// descriptor is always non-blocking; blocking calls are emulated by polling,
// so that every wait honours its context.
type socket struct {
	nonblock atomic.Bool // as the script sees the socket
}

// sockets is the instance's targets.Sockets: real system calls on
// descriptors created inside the namespace (a socket belongs to the
// namespace it was created in, so only creation needs the namespace's
// thread). Errors for the script are the kernel's errno values.
type sockets struct{ in *instance }

var _ targets.Sockets = sockets{}

func (k sockets) get(fd int) (*socket, error) {
	k.in.mu.Lock()
	defer k.in.mu.Unlock()
	so, ok := k.in.fds[fd]
	if !ok {
		return nil, unix.EBADF
	}
	return so, nil
}

// enter starts a call that may block: it fails with EBADF once the instance
// is closing, and Close waits for it to end before closing descriptors, so
// that no call outlives its instance on a descriptor number the next
// instance may be given.
func (k sockets) enter(fd int) (*socket, func(), error) {
	k.in.mu.Lock()
	defer k.in.mu.Unlock()
	so, ok := k.in.fds[fd]
	if !ok || k.in.closing {
		return nil, nil, unix.EBADF
	}
	k.in.inflight++
	return so, func() {
		k.in.mu.Lock()
		k.in.inflight--
		k.in.idle.Broadcast()
		k.in.mu.Unlock()
	}, nil
}

func (k sockets) add(fd int, nonblock bool) {
	k.in.mu.Lock()
	defer k.in.mu.Unlock()
	so := &socket{}
	so.nonblock.Store(nonblock)
	k.in.fds[fd] = so
}

// pollStep is how often a blocking call rechecks its context.
const pollStep = 10 * time.Millisecond

// wait blocks until fd is ready for events, or ctx is done.
func wait(ctx context.Context, stop <-chan struct{}, fd int, events int16) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case <-stop:
			return unix.EBADF // the instance closed under the call
		default:
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(pfd, int(pollStep/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
}

// retry runs call until it does not report EAGAIN, waiting for events in
// between when blocking.
func retry(ctx context.Context, stop <-chan struct{}, blocking bool, fd int, events int16, call func() error) error {
	for {
		err := call()
		if err != unix.EAGAIN || !blocking {
			return err
		}
		if err := wait(ctx, stop, fd, events); err != nil {
			return err
		}
	}
}

// Socket implements targets.Sockets.
func (k sockets) Socket(domain, typ, proto int) (int, error) {
	var fd int
	err := k.in.ex.do(func() error {
		var err error
		fd, err = unix.Socket(domain, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
		return err
	})
	if err != nil {
		return -1, err
	}
	k.add(fd, typ&unix.SOCK_NONBLOCK != 0)
	return fd, nil
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// Bind implements targets.Sockets.
func (k sockets) Bind(fd int, addr netip.AddrPort) error {
	if _, err := k.get(fd); err != nil {
		return err
	}
	return unix.Bind(fd, sockaddr(addr))
}

// Listen implements targets.Sockets.
func (k sockets) Listen(fd int, backlog int) error {
	if _, err := k.get(fd); err != nil {
		return err
	}
	return unix.Listen(fd, backlog)
}

// Accept implements targets.Sockets. The new socket is blocking.
func (k sockets) Accept(ctx context.Context, fd int) (int, netip.AddrPort, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	defer done()

	var nfd int
	var sa unix.Sockaddr
	err = retry(ctx, k.in.stop, !so.nonblock.Load(), fd, unix.POLLIN, func() error {
		var err error
		nfd, sa, err = unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		return err
	})
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	k.add(nfd, false)
	return nfd, addrPort(sa), nil
}

// Connect implements targets.Sockets.
func (k sockets) Connect(ctx context.Context, fd int, addr netip.AddrPort) error {
	return k.connect(ctx, fd, func() error { return unix.Connect(fd, sockaddr(addr)) })
}

// connect makes a connect call on fd, and on a blocking socket waits for
// the handshake it starts.
func (k sockets) connect(ctx context.Context, fd int, call func() error) error {
	so, done, err := k.enter(fd)
	if err != nil {
		return err
	}
	defer done()

	err = call()
	if err != unix.EINPROGRESS || so.nonblock.Load() {
		return err
	}
	if err := wait(ctx, k.in.stop, fd, unix.POLLOUT); err != nil {
		return err
	}
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if soerr != 0 {
		return unix.Errno(soerr)
	}
	return nil
}

// Read implements targets.Sockets.
func (k sockets) Read(ctx context.Context, fd int, n int) ([]byte, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return nil, err
	}
	defer done()

	buf := make([]byte, n)
	var got int
	err = retry(ctx, k.in.stop, !so.nonblock.Load(), fd, unix.POLLIN, func() error {
		var err error
		got, err = unix.Read(fd, buf)
		return err
	})
	if err != nil {
		return nil, err
	}
	return buf[:got], nil
}

// Write implements targets.Sockets. A blocking socket takes all of b, as a
// blocking write(2) does.
func (k sockets) Write(ctx context.Context, fd int, b []byte) (int, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return 0, err
	}
	defer done()

	total := 0
	nonblock := so.nonblock.Load()
	for {
		var n int
		err := retry(ctx, k.in.stop, !nonblock, fd, unix.POLLOUT, func() error {
			var err error
			n, err = unix.Write(fd, b[total:])
			return err
		})
		if err != nil {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
		total += n
		if total == len(b) || nonblock {
			// A blocking write on a socket still opening (the data rode
			// on a Fast Open SYN) returns once the handshake is over.
			if !nonblock {
				if err := awaitConnected(ctx, k.in.stop, fd); err != nil {
					return total, err
				}
			}
			return total, nil
		}
	}
}

// Shutdown implements targets.Sockets.
func (k sockets) Shutdown(fd int, how int) error {
	if _, err := k.get(fd); err != nil {
		return err
	}
	return unix.Shutdown(fd, how)
}

// Close implements targets.Sockets.
func (k sockets) Close(fd int) error {
	if _, err := k.get(fd); err != nil {
		return err
	}
	k.in.mu.Lock()
	delete(k.in.fds, fd)
	k.in.mu.Unlock()
	return unix.Close(fd)
}

// SetNonblock implements targets.Sockets.
func (k sockets) SetNonblock(fd int, nonblocking bool) error {
	so, err := k.get(fd)
	if err != nil {
		return err
	}
	so.nonblock.Store(nonblocking)
	return nil
}

// SetsockoptInt implements targets.Sockets.
func (k sockets) SetsockoptInt(fd, level, name, value int) error {
	if _, err := k.get(fd); err != nil {
		return err
	}
	return unix.SetsockoptInt(fd, level, name, value)
}

// GetsockoptInt implements targets.Sockets.
func (k sockets) GetsockoptInt(fd, level, name int) (int, error) {
	if _, err := k.get(fd); err != nil {
		return 0, err
	}
	return unix.GetsockoptInt(fd, level, name)
}

// LocalAddr implements targets.Sockets.
func (k sockets) LocalAddr(fd int) (netip.AddrPort, error) {
	return k.addr(fd, unix.Getsockname)
}

// RemoteAddr implements targets.Sockets.
func (k sockets) RemoteAddr(fd int) (netip.AddrPort, error) {
	return k.addr(fd, unix.Getpeername)
}

func (k sockets) addr(fd int, get func(int) (unix.Sockaddr, error)) (netip.AddrPort, error) {
	if _, err := k.get(fd); err != nil {
		return netip.AddrPort{}, err
	}
	sa, err := get(fd)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return addrPort(sa), nil
}

// SendTo implements targets.FlaggedIO. A blocking call takes all of b, as
// sendto(2) on a blocking socket does.
func (k sockets) SendTo(ctx context.Context, fd int, b []byte, flags int, addr netip.AddrPort) (int, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return 0, err
	}
	defer done()

	var to unix.Sockaddr
	if addr.IsValid() {
		to = sockaddr(addr)
	}
	blocking := !so.nonblock.Load() && flags&unix.MSG_DONTWAIT == 0
	total := 0
	for {
		var n int
		err = retry(ctx, k.in.stop, blocking, fd, unix.POLLOUT, func() error {
			var err error
			n, err = unix.SendmsgN(fd, b[total:], nil, to, flags|unix.MSG_DONTWAIT)
			return err
		})
		to = nil // the address (and Fast Open) go with the first piece only
		if !blocking || (err != nil && err != unix.EINPROGRESS) {
			if total > 0 && err != nil {
				return total, nil
			}
			return total + n, err
		}
		// A blocking socket that is still opening (sendto with
		// MSG_FASTOPEN) returns only once the handshake is over, as the
		// kernel's blocking path waits for it: with no cookie the SYN
		// went out bare and the data follows then.
		if werr := awaitConnected(ctx, k.in.stop, fd); werr != nil {
			return total, werr
		}
		if err == nil {
			total += n
		}
		flags &^= unix.MSG_FASTOPEN
		if total == len(b) {
			return total, nil
		}
	}
}

// RecvFrom implements targets.FlaggedIO. With MSG_WAITALL a blocking call
// reads until it has n bytes, the stream ends, or an error comes.
func (k sockets) RecvFrom(ctx context.Context, fd int, n int, flags int) ([]byte, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return nil, err
	}
	defer done()

	blocking := !so.nonblock.Load() && flags&unix.MSG_DONTWAIT == 0
	buf := make([]byte, n)
	total := 0
	for {
		var got int
		err := retry(ctx, k.in.stop, blocking, fd, unix.POLLIN, func() error {
			var err error
			got, _, err = unix.Recvfrom(fd, buf[total:], flags|unix.MSG_DONTWAIT)
			return err
		})
		if err != nil {
			if total > 0 {
				return buf[:total], nil
			}
			return nil, err
		}
		if flags&unix.MSG_TRUNC != 0 && got > n-total {
			return make([]byte, got), nil // MSG_TRUNC reports the full length
		}
		total += got
		if got == 0 || total == n || !blocking || flags&unix.MSG_WAITALL == 0 {
			return buf[:total], nil
		}
	}
}

// awaitConnected waits, for a blocking call, until a socket that is still
// in SYN-SENT has finished its handshake, and reports how that ended.
func awaitConnected(ctx context.Context, stop <-chan struct{}, fd int) error {
	ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil || ti.State != 2 { // TCP_SYN_SENT
		return nil
	}
	if err := wait(ctx, stop, fd, unix.POLLOUT); err != nil {
		return err
	}
	if soerr, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); soerr != 0 {
		return unix.Errno(soerr)
	}
	return nil
}

// RecvMsg implements targets.FlaggedIO. Reading the error queue
// (MSG_ERRQUEUE) never blocks, as recvmsg(2) does not for it.
func (k sockets) RecvMsg(ctx context.Context, fd int, n int, flags int) (int, int, []targets.Cmsg, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return 0, 0, nil, err
	}
	defer done()

	blocking := !so.nonblock.Load() && flags&(unix.MSG_DONTWAIT|unix.MSG_ERRQUEUE) == 0
	buf, oob := make([]byte, n), make([]byte, 4096)
	var got, oobn, msgFlags int
	err = retry(ctx, k.in.stop, blocking, fd, unix.POLLIN, func() error {
		var err error
		got, oobn, msgFlags, err = recvmsg(fd, buf, oob, flags|unix.MSG_DONTWAIT)
		return err
	})
	if err != nil {
		return 0, 0, nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return 0, 0, nil, err
	}
	cmsgs := make([]targets.Cmsg, len(msgs))
	for i, m := range msgs {
		cmsgs[i] = targets.Cmsg{Level: int(m.Header.Level), Type: int(m.Header.Type), Data: m.Data}
	}
	return got, msgFlags, cmsgs, nil
}

// Poll implements targets.Poller.
func (k sockets) Poll(ctx context.Context, fds []targets.PollFd, timeout time.Duration) (int, error) {
	pfds := make([]unix.PollFd, len(fds))
	for i, f := range fds {
		_, done, err := k.enter(f.Fd)
		if err != nil {
			return -1, err
		}
		defer done()
		pfds[i] = unix.PollFd{Fd: int32(f.Fd), Events: f.Events}
	}
	deadline := time.Now().Add(timeout)
	for {
		step := pollStep
		if timeout >= 0 {
			step = min(step, max(time.Until(deadline), 0))
		}
		n, err := unix.Poll(pfds, int(step/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, err
		}
		if n > 0 || (timeout >= 0 && !time.Now().Before(deadline)) {
			for i := range fds {
				fds[i].Revents = pfds[i].Revents
			}
			return n, nil
		}
		if err := ctx.Err(); err != nil {
			return -1, err
		}
		select {
		case <-k.in.stop:
			return -1, unix.EBADF
		default:
		}
	}
}

// IoctlInt implements targets.Ioctler.
func (k sockets) IoctlInt(fd int, req uint) (int, error) {
	if _, err := k.get(fd); err != nil {
		return 0, err
	}
	return unix.IoctlGetInt(fd, req)
}

// EpollCreate implements targets.Epoller.
func (k sockets) EpollCreate() (int, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return -1, err
	}
	k.add(fd, false)
	return fd, nil
}

// EpollCtl implements targets.Epoller.
func (k sockets) EpollCtl(epfd, op, fd int, ev targets.EpollEvent) error {
	if _, err := k.get(epfd); err != nil {
		return err
	}
	e := unix.EpollEvent{Events: ev.Events}
	binary.NativeEndian.PutUint64((*[8]byte)(unsafe.Pointer(&e.Fd))[:], ev.Data)
	return unix.EpollCtl(epfd, op, fd, &e)
}

// EpollWait implements targets.Epoller.
func (k sockets) EpollWait(ctx context.Context, epfd int, max int, timeout time.Duration) ([]targets.EpollEvent, error) {
	_, done, err := k.enter(epfd)
	if err != nil {
		return nil, err
	}
	defer done()
	evs := make([]unix.EpollEvent, max)
	deadline := time.Now().Add(timeout)
	for {
		step := pollStep
		if timeout >= 0 {
			step = min(step, time.Until(deadline))
			if step < 0 {
				step = 0
			}
		}
		n, err := unix.EpollWait(epfd, evs, int(step/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n > 0 || (timeout >= 0 && !time.Now().Before(deadline)) {
			out := make([]targets.EpollEvent, n)
			for i, e := range evs[:n] {
				out[i] = targets.EpollEvent{Events: e.Events, Data: binary.NativeEndian.Uint64((*[8]byte)(unsafe.Pointer(&e.Fd))[:])}
			}
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		select {
		case <-k.in.stop:
			return nil, unix.EBADF
		default:
		}
	}
}

// SetsockoptBytes implements targets.RawSockopts.
func (k sockets) SetsockoptBytes(fd, level, name int, value []byte) error {
	if _, err := k.get(fd); err != nil {
		return err
	}
	return unix.SetsockoptString(fd, level, name, string(value))
}
