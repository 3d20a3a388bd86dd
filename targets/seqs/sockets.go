package seqs

import (
	"context"
	"net/netip"
	"syscall"
	"time"

	"github.com/soypat/seqs"
	"github.com/soypat/seqs/stacks"

	"github.com/tcpconform/tcpconform/targets"
)

// socket is one descriptor: unbound, bound to a port, a listener, or a
// connection (opened by Connect or handed out by Accept).
type socket struct {
	nonblock bool
	port     uint16 // bound local port; 0 before Bind, Listen or Connect
	bound    netip.Addr
	lis      *stacks.TCPListener
	conn     *conn
	// Options: seqs takes the buffer sizes when a connection or listener
	// is made; the others are only remembered.
	rcvbuf, sndbuf int
	reuseaddr      bool
	abortOnClose   bool // SO_LINGER {1, 0}
	shutRD, shutWR bool
	soError        syscall.Errno
}

// Default buffer sizes: seqs' own default (2048) would advertise a window of
// two segments; 16 KB is what a small device would give a socket to
// receive into. The send ring gets the most seqs allows, since a listener's
// connections take their sizes when listen() makes them, before a script
// can raise SO_SNDBUF on the listening socket. Both rings of a connection
// together stay within 65535 octets: NewTCPConn adds the two sizes as
// uint16, so a larger sum wraps around and it panics (tcpconn.go).
const (
	defaultRcvBuf = 16384
	defaultSndBuf = maxBuf - defaultRcvBuf
	maxBuf        = 65535 // seqs' ring sizes are uint16, and its windows unscaled
)

// spin is how long a blocking call sleeps between two looks at the stack.
const spin = 100 * time.Microsecond

var (
	_ targets.Sockets     = (*Stack)(nil)
	_ targets.RawSockopts = (*Stack)(nil)
)

// lowestFD is the first descriptor handed out, as on Linux after stdin,
// stdout and stderr: scripts name sockets by number.
const lowestFD = 3

func (s *Stack) get(fd int) (*socket, error) {
	if s.closed {
		return nil, errClosed
	}
	if s.broken != nil {
		return nil, s.broken
	}
	so, ok := s.fds[fd]
	if !ok {
		return nil, syscall.EBADF
	}
	return so, nil
}

// do runs f on the socket under mu and drains the stack after it.
func (s *Stack) do(fd int, f func(so *socket) error) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	so, err := s.get(fd)
	if err != nil {
		return err
	}
	defer s.recoverPanic(&err)
	err = f(so)
	s.drain()
	return err
}

// wait runs try on the socket under mu until it is done, sleeping between
// tries; a non-blocking socket gets EAGAIN (or errAgain) at once instead.
func (s *Stack) wait(ctx context.Context, fd int, errAgain error, try func(so *socket) (done bool, err error)) error {
	for {
		var done, nonblock bool
		err := s.do(fd, func(so *socket) (err error) {
			nonblock = so.nonblock
			done, err = try(so)
			return err
		})
		if err != nil || done {
			return err
		}
		if nonblock {
			return errAgain
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(spin):
		}
	}
}

// Socket implements targets.Sockets: IPv4 stream sockets only.
func (s *Stack) Socket(domain, typ, proto int) (int, error) {
	if domain != syscall.AF_INET {
		return -1, syscall.EAFNOSUPPORT
	}
	if typ&^(syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC) != syscall.SOCK_STREAM {
		return -1, syscall.ESOCKTNOSUPPORT
	}
	if proto != 0 && proto != syscall.IPPROTO_TCP {
		return -1, syscall.EPROTONOSUPPORT
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return -1, errClosed
	}
	fd := lowestFD
	for s.fds[fd] != nil {
		fd++
	}
	s.fds[fd] = &socket{nonblock: typ&syscall.SOCK_NONBLOCK != 0, rcvbuf: defaultRcvBuf, sndbuf: defaultSndBuf}
	return fd, nil
}

// portInUse reports whether a socket or a live connection holds port: seqs
// gives each local port to one handler.
func (s *Stack) portInUse(port uint16) bool {
	for _, so := range s.fds {
		if so.port == port {
			return true
		}
	}
	for _, k := range s.conns {
		if !k.gone && k.local == port {
			return true
		}
	}
	return false
}

// ephemeral picks a free port in the IANA dynamic range (RFC 6335).
func (s *Stack) ephemeral() (uint16, error) {
	for range 1024 {
		p := uint16(49152 + s.random()%16384)
		if !s.portInUse(p) {
			return p, nil
		}
	}
	return 0, syscall.EADDRNOTAVAIL
}

// Bind implements targets.Sockets.
func (s *Stack) Bind(fd int, addr netip.AddrPort) error {
	return s.do(fd, func(so *socket) error {
		a := addr.Addr().Unmap()
		switch {
		case so.port != 0:
			return syscall.EINVAL
		case !a.Is4():
			return syscall.EAFNOSUPPORT
		case !a.IsUnspecified() && a != targets.DocumentationAddrs.Local4:
			return syscall.EADDRNOTAVAIL
		}
		port := addr.Port()
		if port == 0 {
			p, err := s.ephemeral()
			if err != nil {
				return err
			}
			port = p
		} else if s.portInUse(port) {
			return syscall.EADDRINUSE
		}
		so.port, so.bound = port, a
		return nil
	})
}

func bufSize(n int) uint16 { return uint16(min(max(n, 64), maxBuf)) }

// Listen implements targets.Sockets with a TCPListener holding backlog
// connections (at least one).
func (s *Stack) Listen(fd int, backlog int) error {
	return s.do(fd, func(so *socket) error {
		switch {
		case so.lis != nil:
			return nil
		case so.conn != nil:
			return syscall.EINVAL
		}
		if so.port == 0 {
			p, err := s.ephemeral()
			if err != nil {
				return err
			}
			so.port = p
		}
		l, err := stacks.NewTCPListener(s.ps, stacks.TCPListenerConfig{
			MaxConnections: uint16(min(max(backlog, 1), 64)),
			ConnTxBufSize:  bufSize(so.sndbuf),
			ConnRxBufSize:  bufSize(so.rcvbuf),
		})
		if err != nil {
			return toErrno(err)
		}
		if err := l.StartListening(so.port); err != nil {
			return toErrno(err)
		}
		so.lis = l
		s.listened[so.port] = true
		return nil
	})
}

// Accept implements targets.Sockets. seqs' TCPListener.Accept hands out an
// ESTABLISHED connection it has not handed out before, and spins until
// there is one; it is called only once there is.
func (s *Stack) Accept(ctx context.Context, fd int) (nfd int, peer netip.AddrPort, err error) {
	err = s.wait(ctx, fd, syscall.EAGAIN, func(so *socket) (bool, error) {
		if so.lis == nil {
			return false, syscall.EINVAL
		}
		cs, used := listenerConns(so.lis)
		ready := false
		for i, c := range cs {
			ready = ready || (!used[i] && c.State() == seqs.StateEstablished)
		}
		if !ready {
			return false, nil
		}
		nc, err := so.lis.Accept()
		if err != nil {
			return false, toErrno(err)
		}
		c := nc.(*stacks.TCPConn)
		k := s.track(c)
		nfd = lowestFD
		for s.fds[nfd] != nil {
			nfd++
		}
		s.fds[nfd] = &socket{port: so.port, bound: targets.DocumentationAddrs.Local4, conn: k, rcvbuf: so.rcvbuf, sndbuf: so.sndbuf}
		peer = k.remote
		return true, nil
	})
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	return nfd, peer, nil
}

// Connect implements targets.Sockets with TCPConn.OpenDialTCP.
func (s *Stack) Connect(ctx context.Context, fd int, addr netip.AddrPort) error {
	started := false
	return s.wait(ctx, fd, syscall.EINPROGRESS, func(so *socket) (bool, error) {
		if started {
			return s.connected(so)
		}
		switch {
		case so.lis != nil:
			return false, syscall.EISCONN
		case so.conn != nil && so.conn.gone:
			return false, syscall.ECONNABORTED
		case so.conn != nil && so.conn.last == seqs.StateSynSent:
			return false, syscall.EALREADY
		case so.conn != nil:
			return false, syscall.EISCONN
		case !addr.Addr().Unmap().Is4():
			return false, syscall.EAFNOSUPPORT
		}
		if so.port == 0 {
			p, err := s.ephemeral()
			if err != nil {
				return false, err
			}
			so.port = p
		}
		rx := bufSize(so.rcvbuf)
		tx := min(bufSize(so.sndbuf), maxBuf-rx)
		c, err := stacks.NewTCPConn(s.ps, stacks.TCPConnConfig{TxBufSize: tx, RxBufSize: rx})
		if err != nil {
			return false, toErrno(err)
		}
		remote := netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
		if err := c.OpenDialTCP(so.port, peerMAC, remote, seqs.Value(s.random())); err != nil {
			return false, toErrno(err)
		}
		so.conn = s.track(c)
		started = true
		return false, nil
	})
}

// connected tells a connecting socket's fate: done once ESTABLISHED, an
// errno once seqs dropped the connection.
func (s *Stack) connected(so *socket) (bool, error) {
	k := so.conn
	switch {
	case k.gone && k.reset:
		so.soError = syscall.ECONNREFUSED
		return false, syscall.ECONNREFUSED
	case k.gone:
		so.soError = syscall.ETIMEDOUT
		return false, syscall.ETIMEDOUT
	case k.last == seqs.StateSynSent || k.last == seqs.StateSynRcvd:
		return false, nil
	}
	return true, nil
}

// Read implements targets.Sockets with TCPConn.Read, called only when it
// will not spin: with data buffered, or once the connection is past
// ESTABLISHED (then seqs returns what it has, or that it is closed).
func (s *Stack) Read(ctx context.Context, fd int, n int) ([]byte, error) {
	var out []byte
	err := s.wait(ctx, fd, syscall.EAGAIN, func(so *socket) (bool, error) {
		k, err := so.usable()
		if err != nil {
			return false, err
		}
		if k.gone || so.shutRD {
			out = []byte{}
			return true, nil
		}
		st := k.c.State()
		if k.c.BufferedInput() == 0 && (st.IsPreestablished() || st == seqs.StateEstablished) {
			return false, nil
		}
		buf := make([]byte, min(n, max(k.c.BufferedInput(), 1)))
		got, err := k.c.Read(buf)
		if err != nil {
			// seqs refuses reads once the connection is closing
			// (TCPConn.checkPipeOpen), buffered data or not: to
			// the application that is the end of the stream.
			out = []byte{}
			return true, nil
		}
		out = buf[:got]
		return true, nil
	})
	return out, err
}

// usable returns so's connection for a read or a write, or the error the
// call gets first: ENOTCONN without one, ECONNRESET once after a reset.
func (so *socket) usable() (*conn, error) {
	k := so.conn
	switch {
	case k == nil:
		return nil, syscall.ENOTCONN
	case k.gone && k.reset && !k.resetSeen:
		k.resetSeen = true
		return nil, syscall.ECONNRESET
	}
	return k, nil
}

// Write implements targets.Sockets with TCPConn.Write, called with no more
// than its send ring can take, since it spins until everything fits. A
// blocking write goes on until all of b is taken.
func (s *Stack) Write(ctx context.Context, fd int, b []byte) (int, error) {
	total := 0
	err := s.wait(ctx, fd, syscall.EAGAIN, func(so *socket) (bool, error) {
		k, err := so.usable()
		if err != nil {
			return false, err
		}
		if k.gone || so.shutWR {
			return false, syscall.EPIPE
		}
		st := k.c.State()
		if st.IsPreestablished() {
			return false, nil
		}
		free := txFree(k.c)
		if free == 0 {
			return false, nil
		}
		got, err := k.c.Write(b[total:min(len(b), total+free)])
		total += got
		if err != nil {
			return false, toErrno(err)
		}
		return total == len(b) || so.nonblock, nil
	})
	if total > 0 {
		return total, nil
	}
	return 0, err
}

// Shutdown implements targets.Sockets. seqs has no half-close: SHUT_WR
// (and SHUT_RDWR) is TCPConn.Close, which sends the FIN once the send ring
// is empty; SHUT_RD only makes later reads end of stream.
func (s *Stack) Shutdown(fd int, how int) error {
	return s.do(fd, func(so *socket) error {
		if so.conn == nil || so.conn.gone {
			return syscall.ENOTCONN
		}
		switch how {
		case syscall.SHUT_RD:
			so.shutRD = true
			return nil
		case syscall.SHUT_WR, syscall.SHUT_RDWR:
			so.shutRD = so.shutRD || how == syscall.SHUT_RDWR
			if so.shutWR {
				return nil
			}
			so.shutWR = true
			so.conn.c.Close()
			return nil
		}
		return syscall.EINVAL
	})
}

// Close implements targets.Sockets. A connection is closed with
// TCPConn.Close (a FIN after the data), or aborted with PortStack.CloseTCP
// under SO_LINGER {1, 0}; a listener with PortStack.CloseTCP, since
// TCPListener.Close refuses to close an open listener. seqs serves the
// connections a listener accepted through the listener's port, so they go
// with it.
func (s *Stack) Close(fd int) error {
	return s.do(fd, func(so *socket) error {
		delete(s.fds, fd)
		switch {
		case so.lis != nil:
			s.ps.CloseTCP(so.port)
		case so.conn != nil && !so.conn.gone && so.abortOnClose:
			s.ps.CloseTCP(so.conn.local)
		case so.conn != nil && !so.conn.gone && !so.shutWR:
			so.conn.c.Close()
		}
		return nil
	})
}

// SetNonblock implements targets.Sockets.
func (s *Stack) SetNonblock(fd int, nonblocking bool) error {
	return s.do(fd, func(so *socket) error {
		so.nonblock = nonblocking
		return nil
	})
}

// LocalAddr implements targets.Sockets.
func (s *Stack) LocalAddr(fd int) (netip.AddrPort, error) {
	var a netip.AddrPort
	err := s.do(fd, func(so *socket) error {
		addr := so.bound
		if so.conn != nil || !addr.IsValid() && so.port != 0 {
			addr = targets.DocumentationAddrs.Local4
		}
		if !addr.IsValid() {
			addr = netip.IPv4Unspecified()
		}
		a = netip.AddrPortFrom(addr, so.port)
		return nil
	})
	return a, err
}

// RemoteAddr implements targets.Sockets.
func (s *Stack) RemoteAddr(fd int) (netip.AddrPort, error) {
	var a netip.AddrPort
	err := s.do(fd, func(so *socket) error {
		if so.conn == nil || so.conn.gone || !so.conn.remote.IsValid() {
			return syscall.ENOTCONN
		}
		a = so.conn.remote
		return nil
	})
	return a, err
}
