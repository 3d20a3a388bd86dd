package agentsdk

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/tcpconform/tcpconform/internal/linuxabi"
	"github.com/tcpconform/tcpconform/targets"
)

// maxRecv bounds the N of "recv FD N"; maxStaged bounds what put gathers
// under one name.
const (
	maxRecv   = 16 << 20
	maxStaged = 64 << 20
)

// verb is one request the backend answers: its argument count, and whether
// it may block (then it runs on a job, waiting on the socket of its first
// argument).
type verb struct {
	min, max int
	usage    string
	blocks   bool
	do       func(s *server, ctx context.Context, args []string) result
}

// verbs are the requests of docs/agent-protocol.md that reach the backend.
// quit, ping, cancel, reset and close are handle's own.
var verbs = map[string]verb{
	"socket":     {1, 2, "inet|inet6 [nonblock]", false, (*server).doSocket},
	"bind":       {3, 3, "FD ADDR PORT", false, (*server).doBind},
	"listen":     {2, 2, "FD BACKLOG", false, (*server).doListen},
	"accept":     {1, 1, "FD", true, (*server).doAccept},
	"connect":    {3, 3, "FD ADDR PORT", true, (*server).doConnect},
	"put":        {2, 2, "NAME HEX", false, (*server).doPut},
	"send":       {1, 2, "FD [HEX|@NAME]", true, (*server).doSend},
	"recv":       {2, 2, "FD N", true, (*server).doRecv},
	"sendto":     {3, 5, "FD FLAGS HEX|@NAME|- [ADDR PORT]", true, (*server).doSendTo},
	"recvfrom":   {3, 3, "FD N FLAGS", true, (*server).doRecvFrom},
	"shutdown":   {2, 2, "FD rd|wr|rdwr", false, (*server).doShutdown},
	"nonblock":   {2, 2, "FD 0|1", false, (*server).doNonblock},
	"setsockopt": {3, 4, "FD NAME VALUE | FD linger ONOFF SECONDS", false, (*server).doSetsockopt},
	"getsockopt": {2, 2, "FD NAME", false, (*server).doGetsockopt},
	"sockname":   {1, 1, "FD", false, (*server).doSockname},
	"peername":   {1, 1, "FD", false, (*server).doPeername},
	"tcpinfo":    {1, 1, "FD", false, (*server).doTCPInfo},
	"state":      {3, 4, "LADDR LPORT RADDR RPORT | LADDR LPORT -", false, (*server).doState},
	"sysctl":     {2, 16, "NAME VALUE...", false, (*server).doSysctl},
	"settle":     {1, 1, "N", true, (*server).doSettle},
	"shell":      {1, 1, "HEX", true, (*server).doShell},
}

func itoa(i int) string { return strconv.Itoa(i) }

// sock reads the descriptor in arg: only sockets the harness made or
// accepted through this server count, so that no request reaches the
// agent's own descriptors (its control line, say).
func (s *server) sock(arg string) (int, result, bool) {
	fd, err := strconv.Atoi(arg)
	if err != nil {
		return 0, fail(syscall.EINVAL, "bad descriptor "+arg), false
	}
	s.mu.Lock()
	held := s.socks[fd]
	s.mu.Unlock()
	if !held {
		return 0, fail(syscall.EBADF, ""), false
	}
	return fd, result{}, true
}

func (s *server) hold(fd int) {
	s.mu.Lock()
	s.socks[fd] = true
	s.mu.Unlock()
}

// parseAddrPort reads the two tokens of an address.
func parseAddrPort(addr, port string) (netip.AddrPort, bool) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.AddrPort{}, false
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.WithZone(""), uint16(p)), true
}

// onSock runs call on the socket of args[0].
func (s *server) onSock(args []string, call func(fd int) result) result {
	fd, res, good := s.sock(args[0])
	if !good {
		return res
	}
	return call(fd)
}

// done is the result of a call that returns nothing but an error.
func done(err error) result {
	if err != nil {
		return failErr(err)
	}
	return ok()
}

func (s *server) doSocket(_ context.Context, args []string) result {
	typ := syscall.SOCK_STREAM
	if len(args) == 2 {
		if args[1] != "nonblock" {
			return fail(syscall.EINVAL, "usage: socket inet|inet6 [nonblock]")
		}
		typ |= syscall.SOCK_NONBLOCK
	}
	var domain int
	switch args[0] {
	case "inet":
		domain = syscall.AF_INET
	case "inet6":
		domain = syscall.AF_INET6
	default:
		return fail(syscall.EAFNOSUPPORT, "")
	}
	fd, err := s.b.Socket(domain, typ, 0)
	if err != nil {
		return failErr(err)
	}
	s.hold(fd)
	return ok(itoa(fd))
}

func (s *server) doBind(_ context.Context, args []string) result {
	return s.onSock(args, func(fd int) result {
		ap, good := parseAddrPort(args[1], args[2])
		if !good {
			return fail(syscall.EINVAL, "bad address")
		}
		return done(s.b.Bind(fd, ap))
	})
}

func (s *server) doListen(_ context.Context, args []string) result {
	return s.onSock(args, func(fd int) result {
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return fail(syscall.EINVAL, "bad backlog")
		}
		return done(s.b.Listen(fd, n))
	})
}

func (s *server) doAccept(ctx context.Context, args []string) result {
	return s.onSock(args, func(fd int) result {
		nfd, peer, err := s.b.Accept(ctx, fd)
		if err != nil {
			return failErr(err)
		}
		s.hold(nfd)
		return ok(itoa(nfd), peer.Addr().String(), itoa(int(peer.Port())))
	})
}

func (s *server) doConnect(ctx context.Context, args []string) result {
	return s.onSock(args, func(fd int) result {
		ap, good := parseAddrPort(args[1], args[2])
		if !good {
			return fail(syscall.EINVAL, "bad address")
		}
		return done(s.b.Connect(ctx, fd, ap))
	})
}

// doPut gathers data under a name for a later "send FD @NAME".
func (s *server) doPut(_ context.Context, args []string) result {
	b, err := hex.DecodeString(args[1])
	if err != nil {
		return fail(syscall.EINVAL, "bad hex")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.staged == nil {
		s.staged = map[string][]byte{}
	}
	if len(s.staged[args[0]])+len(b) > maxStaged {
		return fail(syscall.ENOMEM, "more than 64 MB put under one name")
	}
	s.staged[args[0]] = append(s.staged[args[0]], b...)
	return ok(itoa(len(s.staged[args[0]])))
}

// data reads the data argument of a send: hex, "@NAME" for what put
// gathered (which it forgets), or "-" for none.
func (s *server) data(arg string) ([]byte, result, bool) {
	if name, staged := strings.CutPrefix(arg, "@"); staged {
		s.mu.Lock()
		b, found := s.staged[name]
		delete(s.staged, name)
		s.mu.Unlock()
		if !found {
			return nil, fail(syscall.EINVAL, "nothing put under "+name), false
		}
		return b, result{}, true
	}
	if arg == "-" {
		return nil, result{}, true
	}
	b, err := hex.DecodeString(arg)
	if err != nil {
		return nil, fail(syscall.EINVAL, "bad hex"), false
	}
	return b, result{}, true
}

// sent is the answer of a send: a count, or the error.
func sent(n int, err error) result {
	if err != nil && n <= 0 {
		return failErr(err)
	}
	return ok(itoa(n))
}

// received is the answer of a receive: LEN and the data.
func received(b []byte, err error) result {
	if err != nil {
		return failErr(err)
	}
	return ok(itoa(len(b)), hex.EncodeToString(b))
}

func (s *server) doSend(ctx context.Context, args []string) result {
	return s.onSock(args, func(fd int) result {
		var b []byte
		if len(args) == 2 {
			var res result
			var good bool
			if b, res, good = s.data(args[1]); !good {
				return res
			}
		}
		return sent(s.b.Write(ctx, fd, b))
	})
}

func (s *server) doRecv(ctx context.Context, args []string) result {
	return s.onSock(args, func(fd int) result {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 0 || n > maxRecv {
			return fail(syscall.EINVAL, "bad length")
		}
		return received(s.b.Read(ctx, fd, n))
	})
}

// flagged is the backend's targets.FlaggedIO with the socket and the
// flags of a sendto or recvfrom, or the failure.
func (s *server) flagged(fdArg, flagsArg string) (targets.FlaggedIO, int, int, result, bool) {
	f, has := s.b.(targets.FlaggedIO)
	if !has {
		return nil, 0, 0, fail(syscall.ENOSYS, "the stack takes no MSG_ flags"), false
	}
	fd, res, good := s.sock(fdArg)
	if !good {
		return nil, 0, 0, res, false
	}
	flags, err := strconv.Atoi(flagsArg)
	if err != nil {
		return nil, 0, 0, fail(syscall.EINVAL, "bad flags"), false
	}
	return f, fd, flags, result{}, true
}

func (s *server) doSendTo(ctx context.Context, args []string) result {
	if len(args) == 4 {
		return fail(syscall.EINVAL, "usage: sendto FD FLAGS HEX|@NAME|- [ADDR PORT]")
	}
	f, fd, flags, res, good := s.flagged(args[0], args[1])
	if !good {
		return res
	}
	b, res, good := s.data(args[2])
	if !good {
		return res
	}
	var to netip.AddrPort
	if len(args) == 5 {
		if to, good = parseAddrPort(args[3], args[4]); !good {
			return fail(syscall.EINVAL, "bad address")
		}
	}
	return sent(f.SendTo(ctx, fd, b, flags, to))
}

func (s *server) doRecvFrom(ctx context.Context, args []string) result {
	f, fd, flags, res, good := s.flagged(args[0], args[2])
	if !good {
		return res
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 0 || n > maxRecv {
		return fail(syscall.EINVAL, "bad length")
	}
	return received(f.RecvFrom(ctx, fd, n, flags))
}

func (s *server) doShutdown(_ context.Context, args []string) result {
	return s.onSock(args, func(fd int) result {
		how, known := map[string]int{"rd": syscall.SHUT_RD, "wr": syscall.SHUT_WR, "rdwr": syscall.SHUT_RDWR}[args[1]]
		if !known {
			return fail(syscall.EINVAL, "usage: shutdown FD rd|wr|rdwr")
		}
		return done(s.b.Shutdown(fd, how))
	})
}

// doClose closes the socket. Calls still waiting on it answer EBADF first.
// The close itself runs on a job: with SO_LINGER set, close(2) waits for
// the peer's acknowledgement, and other requests must not wait behind it.
func (s *server) doClose(req Request) {
	if len(req.Args) != 1 {
		s.out.send(req.ID, fail(syscall.EINVAL, "usage: close FD"))
		return
	}
	fd, res, good := s.sock(req.Args[0])
	if !good {
		s.out.send(req.ID, res)
		return
	}
	s.cancelJobs(func(j *job) bool { return j.fd == fd }, errSocketClosed, -1)
	s.mu.Lock()
	delete(s.socks, fd)
	s.mu.Unlock()
	s.start(Request{ID: req.ID, Verb: "close"}, verb{do: func(s *server, _ context.Context, _ []string) result {
		return done(s.b.Close(fd))
	}})
}

func (s *server) doNonblock(_ context.Context, args []string) result {
	return s.onSock(args, func(fd int) result {
		if args[1] != "0" && args[1] != "1" {
			return fail(syscall.EINVAL, "usage: nonblock FD 0|1")
		}
		return done(s.b.SetNonblock(fd, args[1] == "1"))
	})
}

// lingerBytes is struct linger as the host lays it out.
func lingerBytes(onoff, secs int32) []byte {
	b := make([]byte, 8)
	binary.NativeEndian.PutUint32(b, uint32(onoff))
	binary.NativeEndian.PutUint32(b[4:], uint32(secs))
	return b
}

func (s *server) doSetsockopt(_ context.Context, args []string) result {
	opt, known := linuxabi.SockoptByProto(args[1])
	if !known {
		return fail(syscall.ENOPROTOOPT, "unknown option "+args[1])
	}
	if (args[1] == "linger") != (len(args) == 4) {
		return fail(syscall.EINVAL, "usage: setsockopt FD NAME VALUE | FD linger ONOFF SECONDS")
	}
	return s.onSock(args, func(fd int) result {
		var vals []int32
		for _, a := range args[2:] {
			v, err := strconv.ParseInt(a, 10, 32)
			if err != nil {
				return fail(syscall.EINVAL, "bad value "+a)
			}
			vals = append(vals, int32(v))
		}
		if args[1] != "linger" {
			return done(s.b.SetsockoptInt(fd, opt.Level, opt.Number, int(vals[0])))
		}
		raw, has := s.b.(targets.RawSockopts)
		if !has {
			return fail(syscall.ENOPROTOOPT, "the stack takes no linger")
		}
		return done(raw.SetsockoptBytes(fd, opt.Level, opt.Number, lingerBytes(vals[0], vals[1])))
	})
}

func (s *server) doGetsockopt(_ context.Context, args []string) result {
	opt, known := linuxabi.SockoptByProto(args[1])
	if !known {
		return fail(syscall.ENOPROTOOPT, "unknown option "+args[1])
	}
	return s.onSock(args, func(fd int) result {
		if args[1] != "linger" {
			v, err := s.b.GetsockoptInt(fd, opt.Level, opt.Number)
			if err != nil {
				return failErr(err)
			}
			return ok(itoa(v))
		}
		raw, has := s.b.(targets.RawGetsockopts)
		if !has {
			return fail(syscall.ENOPROTOOPT, "the stack tells no linger")
		}
		b, err := raw.GetsockoptBytes(fd, opt.Level, opt.Number, 8)
		if err != nil {
			return failErr(err)
		}
		if len(b) < 8 {
			return fail(syscall.EIO, "short linger")
		}
		return ok(itoa(int(int32(binary.NativeEndian.Uint32(b)))), itoa(int(int32(binary.NativeEndian.Uint32(b[4:])))))
	})
}

// name answers sockname and peername.
func name(ap netip.AddrPort, err error) result {
	if err != nil {
		return failErr(err)
	}
	return ok(ap.Addr().String(), itoa(int(ap.Port())))
}

func (s *server) doSockname(_ context.Context, args []string) result {
	return s.onSock(args, func(fd int) result { return name(s.b.LocalAddr(fd)) })
}

func (s *server) doPeername(_ context.Context, args []string) result {
	return s.onSock(args, func(fd int) result { return name(s.b.RemoteAddr(fd)) })
}

// doTCPInfo answers Linux's struct tcp_info, made from the backend's
// fields.
func (s *server) doTCPInfo(_ context.Context, args []string) result {
	ti, has := s.b.(targets.TCPInfo)
	if !has {
		return fail(syscall.ENOSYS, "the stack keeps no tcp_info")
	}
	return s.onSock(args, func(fd int) result {
		m, err := ti.TCPInfo(fd)
		if err != nil {
			return failErr(err)
		}
		return ok(hex.EncodeToString(targets.EncodeLinuxTCPInfo(m)))
	})
}

func (s *server) doState(_ context.Context, args []string) result {
	st, has := s.b.(Stater)
	if !has {
		return fail(syscall.ENOSYS, "the stack tells no states")
	}
	const usage = "usage: state LADDR LPORT RADDR RPORT | state LADDR LPORT -"
	var t targets.Tuple
	var good bool
	if t.Local, good = parseAddrPort(args[0], args[1]); !good {
		return fail(syscall.EINVAL, usage)
	}
	switch {
	case len(args) == 3 && args[2] == "-":
	case len(args) == 4:
		if t.Remote, good = parseAddrPort(args[2], args[3]); !good {
			return fail(syscall.EINVAL, usage)
		}
	default:
		return fail(syscall.EINVAL, usage)
	}
	got, found := st.State(t)
	if !found {
		return fail(syscall.ENOENT, "no such connection")
	}
	return ok(got.String())
}

func (s *server) doSysctl(_ context.Context, args []string) result {
	c, has := s.b.(targets.Sysctls)
	if !has {
		return fail(syscall.EOPNOTSUPP, "the stack has no sysctls")
	}
	// A value of several fields (net.ipv4.tcp_rmem) comes as several tokens.
	return done(c.SetSysctl(args[0], strings.Join(args[1:], " ")))
}

// doShell runs a shell command (hex of its text) where the stack is, and
// answers what it printed, in hex.
func (s *server) doShell(ctx context.Context, args []string) result {
	sh, has := s.b.(targets.Shell)
	if !has {
		return fail(syscall.ENOSYS, "no shell")
	}
	cmd, err := hex.DecodeString(args[0])
	if err != nil {
		return fail(syscall.EINVAL, "bad hex")
	}
	out, err := sh.RunShell(ctx, string(cmd), "")
	if err != nil {
		return fail(syscall.EIO, err.Error())
	}
	return ok(hex.EncodeToString(out))
}

func (s *server) doSettle(ctx context.Context, args []string) result {
	if s.pk == nil {
		return fail(syscall.ENOSYS, "no packet channel")
	}
	n, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		return fail(syscall.EINVAL, "bad count")
	}
	sentSoFar, err := s.pk.settle(ctx, n, s.b)
	if err != nil {
		return failErr(err)
	}
	return ok(strconv.FormatUint(sentSoFar, 10))
}
