package posix

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

// socket is one descriptor the stack's user created. The real
// descriptor's O_NONBLOCK is what the user set (but for a pipe's, see
// isPipe), and a call on a blocking one is a real blocking system call (see
// block).
type socket struct {
	nonblock atomic.Bool // as the user set it
}

var _ targets.Sockets = (*Stack)(nil)

func (k *Stack) get(fd int) (*socket, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	so, ok := k.fds[fd]
	if !ok {
		return nil, unix.EBADF
	}
	return so, nil
}

// enter starts a call that may block: it fails with EBADF once the stack
// is closing or resetting, and those wait for it to end before closing
// descriptors, so that no call outlives its socket on a descriptor number
// that may be given out again.
func (k *Stack) enter(fd int) (*socket, func(), error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	so, ok := k.fds[fd]
	if !ok || k.closing {
		return nil, nil, unix.EBADF
	}
	k.inflight++
	return so, func() {
		k.mu.Lock()
		k.inflight--
		k.idle.Broadcast()
		k.mu.Unlock()
	}, nil
}

// add registers a new descriptor, blocking or not as the user sees it (its
// creator made the real one so, but for a pipe: see SetNonblock). A
// descriptor that arrives while the stack is closing (a call that returned
// late) is closed.
func (k *Stack) add(fd int, nonblock bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closing {
		unix.Close(fd)
		return
	}
	so := &socket{}
	so.nonblock.Store(nonblock)
	k.fds[fd] = so
}

// pollStep is how often an emulated poll or epoll_wait rechecks its context.
const pollStep = 10 * time.Millisecond

// Socket implements targets.Sockets.
func (k *Stack) Socket(domain, typ, proto int) (int, error) {
	var fd int
	err := k.th.Do(func() error {
		var err error
		fd, err = unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
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
func (k *Stack) Bind(fd int, addr netip.AddrPort) error {
	if _, err := k.get(fd); err != nil {
		return err
	}
	return unix.Bind(fd, sockaddr(addr))
}

// Listen implements targets.Sockets.
func (k *Stack) Listen(fd int, backlog int) error {
	if _, err := k.get(fd); err != nil {
		return err
	}
	return unix.Listen(fd, backlog)
}

// Accept implements targets.Sockets. The new socket is blocking.
func (k *Stack) Accept(ctx context.Context, fd int) (int, netip.AddrPort, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	defer done()

	var nfd int
	var sa unix.Sockaddr
	err = k.block(ctx, fd, !so.nonblock.Load(), func(fd int) error {
		var err error
		nfd, sa, err = unix.Accept4(fd, unix.SOCK_CLOEXEC)
		if err == nil {
			k.add(nfd, false)
		}
		return err
	})
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	return nfd, addrPort(sa), nil
}

// Connect implements targets.Sockets.
func (k *Stack) Connect(ctx context.Context, fd int, addr netip.AddrPort) error {
	return k.connect(ctx, fd, func(fd int) error { return unix.Connect(fd, sockaddr(addr)) })
}

// connect makes a connect call on fd, given the descriptor to use; on a
// blocking socket the kernel waits for the handshake it starts.
func (k *Stack) connect(ctx context.Context, fd int, call func(fd int) error) error {
	so, done, err := k.enter(fd)
	if err != nil {
		return err
	}
	defer done()

	return k.block(ctx, fd, !so.nonblock.Load(), call)
}

// Read implements targets.Sockets.
func (k *Stack) Read(ctx context.Context, fd int, n int) ([]byte, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return nil, err
	}
	defer done()

	buf := make([]byte, n)
	var got int
	err = k.block(ctx, fd, !so.nonblock.Load(), func(fd int) error {
		var err error
		got, err = unix.Read(fd, buf)
		return err
	})
	if err != nil {
		return nil, err
	}
	return buf[:got], nil
}

// Write implements targets.Sockets. On a blocking socket the kernel takes
// all of b before it returns, and waits for a handshake in progress first.
func (k *Stack) Write(ctx context.Context, fd int, b []byte) (int, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return 0, err
	}
	defer done()

	var n int
	err = k.block(ctx, fd, !so.nonblock.Load(), func(fd int) error {
		var err error
		n, err = unix.Write(fd, b)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Shutdown implements targets.Sockets.
func (k *Stack) Shutdown(fd int, how int) error {
	if _, err := k.get(fd); err != nil {
		return err
	}
	return unix.Shutdown(fd, how)
}

// Close implements targets.Sockets.
func (k *Stack) Close(fd int) error {
	if _, err := k.get(fd); err != nil {
		return err
	}
	k.mu.Lock()
	delete(k.fds, fd)
	k.mu.Unlock()
	return unix.Close(fd)
}

// SetNonblock implements targets.Sockets.
func (k *Stack) SetNonblock(fd int, nonblocking bool) error {
	so, err := k.get(fd)
	if err != nil {
		return err
	}
	if !isPipe(fd) {
		if err := unix.SetNonblock(fd, nonblocking); err != nil {
			return err
		}
	}
	so.nonblock.Store(nonblocking)
	return nil
}

// isPipe reports whether fd is a pipe. A pipe's real descriptor stays
// non-blocking and a blocking call on it is emulated (kernelBlocking): no
// shutdown can wake a call blocked on a pipe, and nothing TCP sends depends
// on how a pipe is waited on.
func isPipe(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO
}

// SetsockoptInt implements targets.Sockets.
func (k *Stack) SetsockoptInt(fd, level, name, value int) error {
	if _, err := k.get(fd); err != nil {
		return err
	}
	return unix.SetsockoptInt(fd, level, name, value)
}

// GetsockoptInt implements targets.Sockets.
func (k *Stack) GetsockoptInt(fd, level, name int) (int, error) {
	if _, err := k.get(fd); err != nil {
		return 0, err
	}
	return unix.GetsockoptInt(fd, level, name)
}

// LocalAddr implements targets.Sockets.
func (k *Stack) LocalAddr(fd int) (netip.AddrPort, error) {
	return k.addr(fd, unix.Getsockname)
}

// RemoteAddr implements targets.Sockets.
func (k *Stack) RemoteAddr(fd int) (netip.AddrPort, error) {
	return k.addr(fd, unix.Getpeername)
}

func (k *Stack) addr(fd int, get func(int) (unix.Sockaddr, error)) (netip.AddrPort, error) {
	if _, err := k.get(fd); err != nil {
		return netip.AddrPort{}, err
	}
	sa, err := get(fd)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return addrPort(sa), nil
}

// SendTo implements targets.FlaggedIO. On a blocking socket the kernel takes
// all of b, and a sendto with MSG_FASTOPEN waits for the handshake, as
// packetdrill sees them do.
func (k *Stack) SendTo(ctx context.Context, fd int, b []byte, flags int, addr netip.AddrPort) (int, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return 0, err
	}
	defer done()

	var to unix.Sockaddr
	if addr.IsValid() {
		to = sockaddr(addr)
	}
	n, err := k.blockCount(ctx, fd, so.waits(flags), func(fd int) (int, error) {
		return unix.SendmsgN(fd, b, nil, to, flags)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// RecvFrom implements targets.FlaggedIO. With MSG_TRUNC the result is as
// long as what the kernel reports (the datagram's or the skipped length).
func (k *Stack) RecvFrom(ctx context.Context, fd int, n int, flags int) ([]byte, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return nil, err
	}
	defer done()

	buf := make([]byte, n)
	got, err := k.blockCount(ctx, fd, so.waits(flags), func(fd int) (int, error) {
		got, _, err := unix.Recvfrom(fd, buf, flags)
		return got, err
	})
	if err != nil {
		return nil, err
	}
	if got > n {
		return make([]byte, got), nil
	}
	return buf[:got], nil
}

// RecvMsg implements targets.FlaggedIO. Reading the error queue
// (MSG_ERRQUEUE) never blocks, as recvmsg(2) does not for it.
func (k *Stack) RecvMsg(ctx context.Context, fd int, n int, flags int) (int, int, []targets.Cmsg, error) {
	so, done, err := k.enter(fd)
	if err != nil {
		return 0, 0, nil, err
	}
	defer done()

	blocking := !so.nonblock.Load() && flags&(unix.MSG_DONTWAIT|unix.MSG_ERRQUEUE) == 0
	buf, oob := make([]byte, n), make([]byte, 4096)
	var got, oobn, msgFlags int
	err = k.block(ctx, fd, blocking, func(fd int) error {
		var err error
		got, oobn, msgFlags, err = recvmsg(fd, buf, oob, flags)
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
func (k *Stack) Poll(ctx context.Context, fds []targets.PollFd, timeout time.Duration) (int, error) {
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
		case <-k.stop:
			return -1, unix.EBADF
		default:
		}
	}
}

// IoctlInt implements targets.Ioctler.
func (k *Stack) IoctlInt(fd int, req uint) (int, error) {
	if _, err := k.get(fd); err != nil {
		return 0, err
	}
	return unix.IoctlGetInt(fd, req)
}

// EpollCreate implements targets.Epoller.
func (k *Stack) EpollCreate() (int, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return -1, err
	}
	k.add(fd, false)
	return fd, nil
}

// EpollCtl implements targets.Epoller.
func (k *Stack) EpollCtl(epfd, op, fd int, ev targets.EpollEvent) error {
	if _, err := k.get(epfd); err != nil {
		return err
	}
	e := unix.EpollEvent{Events: ev.Events}
	binary.NativeEndian.PutUint64((*[8]byte)(unsafe.Pointer(&e.Fd))[:], ev.Data)
	return unix.EpollCtl(epfd, op, fd, &e)
}

// EpollWait implements targets.Epoller.
func (k *Stack) EpollWait(ctx context.Context, epfd int, max int, timeout time.Duration) ([]targets.EpollEvent, error) {
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
		case <-k.stop:
			return nil, unix.EBADF
		default:
		}
	}
}

// SetsockoptBytes implements targets.RawSockopts.
func (k *Stack) SetsockoptBytes(fd, level, name int, value []byte) error {
	if _, err := k.get(fd); err != nil {
		return err
	}
	return unix.SetsockoptString(fd, level, name, string(value))
}
