//go:build linux

package main

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// maxRecv bounds the N of "recv FD N".
const maxRecv = 16 << 20

// Linux option numbers the syscall package does not name.
const (
	soReusePort    = 15
	tcpUserTimeout = 18
)

// sockopts maps the protocol's option names to levels and option numbers.
var sockopts = map[string]struct{ level, name int }{
	"reuseaddr":    {syscall.SOL_SOCKET, syscall.SO_REUSEADDR},
	"reuseport":    {syscall.SOL_SOCKET, soReusePort},
	"oobinline":    {syscall.SOL_SOCKET, syscall.SO_OOBINLINE},
	"keepalive":    {syscall.SOL_SOCKET, syscall.SO_KEEPALIVE},
	"sndbuf":       {syscall.SOL_SOCKET, syscall.SO_SNDBUF},
	"rcvbuf":       {syscall.SOL_SOCKET, syscall.SO_RCVBUF},
	"error":        {syscall.SOL_SOCKET, syscall.SO_ERROR},
	"linger":       {syscall.SOL_SOCKET, syscall.SO_LINGER},
	"nodelay":      {syscall.IPPROTO_TCP, syscall.TCP_NODELAY},
	"maxseg":       {syscall.IPPROTO_TCP, syscall.TCP_MAXSEG},
	"cork":         {syscall.IPPROTO_TCP, syscall.TCP_CORK},
	"keepidle":     {syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE},
	"keepintvl":    {syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL},
	"keepcnt":      {syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT},
	"syncnt":       {syscall.IPPROTO_TCP, syscall.TCP_SYNCNT},
	"linger2":      {syscall.IPPROTO_TCP, syscall.TCP_LINGER2},
	"user_timeout": {syscall.IPPROTO_TCP, tcpUserTimeout},
	"tos":          {syscall.IPPROTO_IP, syscall.IP_TOS},
	"tclass":       {syscall.IPPROTO_IPV6, syscall.IPV6_TCLASS},
	"v6only":       {syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY},
}

func itoa(i int) string { return strconv.Itoa(i) }

// sockArg finds the socket named by args[0] after checking that args has
// between min and max tokens; a bad count or number gives EINVAL with
// usage, a descriptor the harness does not own EBADF.
func (s *server) sockArg(args []string, min, max int, usage string) (*sock, result, bool) {
	if len(args) < min || len(args) > max {
		return nil, fail(syscall.EINVAL, usage), false
	}
	fd, err := strconv.Atoi(args[0])
	if err != nil {
		return nil, fail(syscall.EINVAL, usage), false
	}
	s.mu.Lock()
	sk := s.socks[fd]
	s.mu.Unlock()
	if sk == nil {
		return nil, fail(syscall.EBADF, "no such socket"), false
	}
	return sk, result{}, true
}

func (s *server) nonblocking(sk *sock) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sk.nonblock
}

func (s *server) add(sk *sock) {
	s.mu.Lock()
	s.socks[sk.fd] = sk
	s.mu.Unlock()
}

func (s *server) doSocket(args []string) result {
	const usage = "usage: socket inet|inet6 [nonblock]"
	if len(args) < 1 || len(args) > 2 || len(args) == 2 && args[1] != "nonblock" {
		return fail(syscall.EINVAL, usage)
	}
	var family int
	switch args[0] {
	case "inet":
		family = syscall.AF_INET
	case "inet6":
		family = syscall.AF_INET6
	default:
		return fail(syscall.EINVAL, usage)
	}
	// A socket belongs to the network namespace it is created in.
	var fd int
	var err error
	s.inNetns(func() {
		fd, err = syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	})
	if err != nil {
		return failErr(err)
	}
	s.add(&sock{fd: fd, family: family, nonblock: len(args) == 2})
	return ok(itoa(fd))
}

func (s *server) doBind(args []string) result {
	const usage = "usage: bind FD ADDR PORT"
	sk, res, good := s.sockArg(args, 3, 3, usage)
	if !good {
		return res
	}
	sa, err := sockaddr(sk.fd, sk.family, args[1], args[2])
	if err != nil {
		return fail(syscall.EINVAL, usage)
	}
	if err := syscall.Bind(sk.fd, sa); err != nil {
		return failErr(err)
	}
	return ok()
}

func (s *server) doListen(args []string) result {
	const usage = "usage: listen FD BACKLOG"
	sk, res, good := s.sockArg(args, 2, 2, usage)
	if !good {
		return res
	}
	backlog, err := strconv.Atoi(args[1])
	if err != nil {
		return fail(syscall.EINVAL, usage)
	}
	if err := syscall.Listen(sk.fd, backlog); err != nil {
		return failErr(err)
	}
	return ok()
}

// blocking makes one attempt of a call that may block; when it would
// block, it answers EAGAIN for a non-blocking socket or else waits for
// events on a job and tries again until done. try reports whether the call
// is over. onCancel, if not nil, turns a cancellation into the answer
// (a send that has already handed over bytes says how many).
func (s *server) blocking(id string, sk *sock, events int16, try func() (result, bool), onCancel func(result) result) {
	if res, done := try(); done {
		s.out.send(id, res)
		return
	}
	if s.nonblocking(sk) {
		s.out.fail(id, syscall.EAGAIN, "")
		return
	}
	s.startJob(id, sk.fd, func(j *job) result {
		for {
			if res, ready := j.wait(events); !ready {
				if onCancel != nil {
					return onCancel(res)
				}
				return res
			}
			if res, done := try(); done {
				return res
			}
		}
	})
}

func (s *server) doAccept(id string, args []string) {
	sk, res, good := s.sockArg(args, 1, 1, "usage: accept FD")
	if !good {
		s.out.send(id, res)
		return
	}
	s.blocking(id, sk, pollIn, func() (result, bool) {
		nfd, sa, err := syscall.Accept4(sk.fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		if err == syscall.EAGAIN {
			return result{}, false
		}
		if err != nil {
			return failErr(err), true
		}
		s.add(&sock{fd: nfd, family: sk.family}) // accepted sockets block
		a, p := formatSockaddr(sa)
		return ok(itoa(nfd), a, p), true
	}, nil)
}

// doConnect connects the socket. A blocking connect waits on a job for the
// socket to become writable and then calls connect again, which is what
// Linux's own blocking connect does after its wait: 0 once established,
// EALREADY while the handshake goes on (wait more), or the error that
// ended it (consuming SO_ERROR and leaving the socket unconnected).
func (s *server) doConnect(id string, args []string) {
	const usage = "usage: connect FD ADDR PORT"
	sk, res, good := s.sockArg(args, 3, 3, usage)
	if !good {
		s.out.send(id, res)
		return
	}
	sa, err := sockaddr(sk.fd, sk.family, args[1], args[2])
	if err != nil {
		s.out.fail(id, syscall.EINVAL, usage)
		return
	}
	err = syscall.Connect(sk.fd, sa)
	switch {
	case err == nil:
		s.out.ok(id)
		return
	case err != syscall.EINPROGRESS && err != syscall.EALREADY, s.nonblocking(sk):
		s.out.send(id, failErr(err))
		return
	}
	s.startJob(id, sk.fd, func(j *job) result {
		for {
			if res, ready := j.wait(pollOut); !ready {
				return res
			}
			switch err := syscall.Connect(sk.fd, sa); err {
			case nil, syscall.EISCONN:
				return ok()
			case syscall.EALREADY, syscall.EINPROGRESS:
			default:
				return failErr(err)
			}
		}
	})
}

// sendNoSignal is send(2) with MSG_NOSIGNAL: a closed connection gives
// EPIPE, never SIGPIPE.
func sendNoSignal(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, e := syscall.Syscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(p), uintptr(len(b)), syscall.MSG_NOSIGNAL, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// doPut gathers data under a name for a later "send FD @NAME".
func (s *server) doPut(args []string) result {
	if len(args) != 2 {
		return fail(syscall.EINVAL, "usage: put NAME HEX")
	}
	b, err := hex.DecodeString(args[1])
	if err != nil {
		return fail(syscall.EINVAL, "bad hex")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.staged == nil {
		s.staged = map[string][]byte{}
	}
	s.staged[args[0]] = append(s.staged[args[0]], b...)
	return ok(itoa(len(s.staged[args[0]])))
}

// doSend sends the data. On a non-blocking socket it is one send(2): the
// bytes the kernel took, or EAGAIN. A blocking send goes on until every
// byte is taken; if it fails or is cancelled after taking some, it answers
// with their count, as send(2) does when interrupted.
func (s *server) doSend(id string, args []string) {
	const usage = "usage: send FD [HEX]"
	sk, res, good := s.sockArg(args, 1, 2, usage)
	if !good {
		s.out.send(id, res)
		return
	}
	var data []byte
	if len(args) == 2 {
		var err error
		if name, ok := strings.CutPrefix(args[1], "@"); ok {
			s.mu.Lock()
			data, ok = s.staged[name]
			delete(s.staged, name)
			s.mu.Unlock()
			if !ok {
				s.out.fail(id, syscall.EINVAL, "nothing put under "+name)
				return
			}
		} else if data, err = hex.DecodeString(args[1]); err != nil {
			s.out.fail(id, syscall.EINVAL, "bad hex")
			return
		}
	}
	if s.nonblocking(sk) {
		n, err := sendNoSignal(sk.fd, data)
		if err != nil {
			s.out.send(id, failErr(err))
		} else {
			s.out.ok(id, itoa(n))
		}
		return
	}
	total := 0
	try := func() (result, bool) {
		for {
			n, err := sendNoSignal(sk.fd, data[total:])
			if err == syscall.EAGAIN || err == nil && n == 0 && total < len(data) {
				return result{}, false
			}
			if err != nil {
				if total > 0 {
					return ok(itoa(total)), true
				}
				return failErr(err), true
			}
			total += n
			if total >= len(data) {
				return ok(itoa(total)), true
			}
		}
	}
	s.blocking(id, sk, pollOut, try, func(res result) result {
		if total > 0 {
			return ok(itoa(total))
		}
		return res
	})
}

func (s *server) doRecv(id string, args []string) {
	const usage = "usage: recv FD N"
	sk, res, good := s.sockArg(args, 2, 2, usage)
	if !good {
		s.out.send(id, res)
		return
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 0 || n > maxRecv {
		s.out.fail(id, syscall.EINVAL, usage)
		return
	}
	buf := make([]byte, n)
	s.blocking(id, sk, pollIn, func() (result, bool) {
		n, err := syscall.Read(sk.fd, buf)
		if err == syscall.EAGAIN {
			return result{}, false
		}
		if err != nil {
			return failErr(err), true
		}
		return ok(itoa(n), hex.EncodeToString(buf[:n])), true
	}, nil)
}

func (s *server) doShutdown(args []string) result {
	const usage = "usage: shutdown FD rd|wr|rdwr"
	sk, res, good := s.sockArg(args, 2, 2, usage)
	if !good {
		return res
	}
	var how int
	switch args[1] {
	case "rd":
		how = syscall.SHUT_RD
	case "wr":
		how = syscall.SHUT_WR
	case "rdwr":
		how = syscall.SHUT_RDWR
	default:
		return fail(syscall.EINVAL, usage)
	}
	if err := syscall.Shutdown(sk.fd, how); err != nil {
		return failErr(err)
	}
	return ok()
}

// doClose closes the socket. Calls still waiting on it answer EBADF first,
// so that no job ever polls a descriptor number that has been reused. The
// close itself runs on a goroutine: with SO_LINGER set, close(2) waits
// (up to the linger time) for the peer to acknowledge, even on a
// non-blocking socket, and other requests must not wait behind it.
func (s *server) doClose(id string, args []string) {
	sk, res, good := s.sockArg(args, 1, 1, "usage: close FD")
	if !good {
		s.out.send(id, res)
		return
	}
	s.cancelJobs(func(j *job) bool { return j.fd == sk.fd }, syscall.EBADF, "socket closed", -1)
	s.mu.Lock()
	delete(s.socks, sk.fd)
	s.mu.Unlock()
	go func() {
		if err := syscall.Close(sk.fd); err != nil {
			s.out.send(id, failErr(err))
			return
		}
		s.out.ok(id)
	}()
}

func (s *server) doNonblock(args []string) result {
	const usage = "usage: nonblock FD 0|1"
	sk, res, good := s.sockArg(args, 2, 2, usage)
	if !good {
		return res
	}
	if args[1] != "0" && args[1] != "1" {
		return fail(syscall.EINVAL, usage)
	}
	s.mu.Lock()
	sk.nonblock = args[1] == "1"
	s.mu.Unlock()
	return ok()
}

func (s *server) doSetsockopt(args []string) result {
	const usage = "usage: setsockopt FD NAME VALUE | setsockopt FD linger ONOFF SECONDS"
	if len(args) < 3 {
		return fail(syscall.EINVAL, usage)
	}
	opt, known := sockopts[args[1]]
	if !known {
		return fail(syscall.ENOPROTOOPT, "unknown option "+args[1])
	}
	n := 3
	if args[1] == "linger" {
		n = 4
	}
	sk, res, good := s.sockArg(args, n, n, usage)
	if !good {
		return res
	}
	var vals []int
	for _, a := range args[2:] {
		v, err := strconv.ParseInt(a, 10, 32)
		if err != nil {
			return fail(syscall.EINVAL, usage)
		}
		vals = append(vals, int(v))
	}
	var err error
	if args[1] == "linger" {
		err = syscall.SetsockoptLinger(sk.fd, opt.level, opt.name, &syscall.Linger{Onoff: int32(vals[0]), Linger: int32(vals[1])})
	} else {
		err = syscall.SetsockoptInt(sk.fd, opt.level, opt.name, vals[0])
	}
	if err != nil {
		return failErr(err)
	}
	return ok()
}

func (s *server) doGetsockopt(args []string) result {
	const usage = "usage: getsockopt FD NAME"
	if len(args) != 2 {
		return fail(syscall.EINVAL, usage)
	}
	opt, known := sockopts[args[1]]
	if !known {
		return fail(syscall.ENOPROTOOPT, "unknown option "+args[1])
	}
	sk, res, good := s.sockArg(args, 2, 2, usage)
	if !good {
		return res
	}
	if args[1] == "linger" {
		var l syscall.Linger
		size := uint32(unsafe.Sizeof(l))
		_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(sk.fd), uintptr(opt.level), uintptr(opt.name),
			uintptr(unsafe.Pointer(&l)), uintptr(unsafe.Pointer(&size)), 0)
		if e != 0 {
			return failErr(e)
		}
		return ok(itoa(int(l.Onoff)), itoa(int(l.Linger)))
	}
	// SO_ERROR comes back as the errno's number, as getsockopt gives it.
	v, err := syscall.GetsockoptInt(sk.fd, opt.level, opt.name)
	if err != nil {
		return failErr(err)
	}
	return ok(itoa(v))
}

// doTCPInfo answers getsockopt(TCP_INFO): the kernel's struct tcp_info, as
// long as this kernel makes it, in hex.
func (s *server) doTCPInfo(args []string) result {
	sk, res, good := s.sockArg(args, 1, 1, "usage: tcpinfo FD")
	if !good {
		return res
	}
	buf := make([]byte, 512)
	size := uint32(len(buf))
	_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(sk.fd), syscall.IPPROTO_TCP, syscall.TCP_INFO,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0)
	if e != 0 {
		return failErr(e)
	}
	return ok(hex.EncodeToString(buf[:size]))
}

func (s *server) doName(verb string, args []string) result {
	sk, res, good := s.sockArg(args, 1, 1, "usage: "+verb+" FD")
	if !good {
		return res
	}
	var sa syscall.Sockaddr
	var err error
	if verb == "sockname" {
		sa, err = syscall.Getsockname(sk.fd)
	} else {
		sa, err = syscall.Getpeername(sk.fd)
	}
	if err != nil {
		return failErr(err)
	}
	a, p := formatSockaddr(sa)
	return ok(a, p)
}

// sockaddr builds the address for the socket fd of family from text. An
// IPv4 address on an inet6 socket becomes its v4-mapped form; an IPv6
// address on an inet socket goes to the kernel as it is, for it to refuse.
func sockaddr(fd, family int, addr, port string) (syscall.Sockaddr, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, err
	}
	if family == syscall.AF_INET && a.Is4In6() {
		a = a.Unmap()
	}
	if family == syscall.AF_INET && a.Is4() {
		return &syscall.SockaddrInet4{Port: int(p), Addr: a.As4()}, nil
	}
	sa := &syscall.SockaddrInet6{Port: int(p), Addr: a.As16()}
	if z := a.Zone(); z != "" {
		sa.ZoneId = zoneIndex(fd, z)
	}
	return sa, nil
}

// zoneIndex is the interface index of an IPv6 zone: a number, or an
// interface name looked up in the socket fd's network namespace (0 if
// unknown). (Not in /sys/class/net: sysfs shows the devices of the
// namespace that mounted it.)
func zoneIndex(fd int, z string) uint32 {
	if n, err := strconv.ParseUint(z, 10, 32); err == nil {
		return uint32(n)
	}
	i, err := ifIndex(fd, z)
	if err != nil {
		return 0
	}
	return uint32(i)
}

// formatSockaddr gives an address as the protocol's two tokens.
func formatSockaddr(sa syscall.Sockaddr) (addr, port string) {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrFrom4(a.Addr).String(), itoa(a.Port)
	case *syscall.SockaddrInet6:
		return netip.AddrFrom16(a.Addr).String(), itoa(a.Port)
	}
	return "0.0.0.0", "0"
}
