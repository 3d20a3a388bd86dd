package injector

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/tcpconform/tcpconform/internal/linuxabi"
	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/targets"
)

// callResult is what a system call returned: ret, and err, a syscall.Errno
// for the script to check or anything else for the harness.
type callResult struct {
	ret int64
	err error
	at  time.Duration // instance time when the call returned
}

// preparedCall is a system call with its arguments resolved. exec touches
// only the target, so it may run on another goroutine (a blocking call);
// post runs on the script's goroutine once the result is checked.
type preparedCall struct {
	exec func(ctx context.Context) callResult
	post func(ret int64)
	// newFD: the call returns a descriptor, which the script names by the
	// result it writes.
	newFD bool
	// optional: ENOPROTOOPT means the target lacks the option, so the
	// script is skipped rather than failed.
	optional bool
}

// blockingGrace is how long, in wall time, the script waits after each
// event for a blocking call to return, so its return is seen at the
// instance time that caused it.
const blockingGrace = 3 * time.Millisecond

// lateReport is how long, in wall time, the script waits for a blocking call
// that should have returned before it lets time pass beyond the call's due
// time.
const lateReport = 200 * time.Millisecond

// pendingCall is a blocking call ("T...END name(...)") in flight.
type pendingCall struct {
	sc       *script.Syscall
	pc       preparedCall
	due, tol time.Duration
	// late is how much later still the target may return it (its
	// profile's timer granularity and latency, as for outbound packets).
	late   time.Duration
	done   chan callResult
	cancel context.CancelFunc
}

// latest is the last moment the call may return.
func (c *pendingCall) latest() time.Duration { return c.due + c.tol + c.late }

func (r *scriptRun) syscall(ev *script.Event, sc *script.Syscall, start time.Duration) {
	pc := r.prepare(sc)
	// A call waits for the blocking call in flight to return first, as
	// packetdrill's do: after `+0...0 connect`, the handshake's packets and
	// a `close`, the connect returns before the close runs.
	r.awaitBlocking()
	if ev.Time.Blocking {
		base := start - ev.Time.Start
		due := base + ev.Time.BlockEnd
		ctx, cancel := context.WithCancel(r.t.ctx)
		call := &pendingCall{sc: sc, pc: pc, due: due, tol: r.tolerance(due - start), late: r.p.Late, done: make(chan callResult, 1), cancel: cancel}
		r.blocking = call
		go func() {
			res := pc.exec(ctx)
			res.at = r.p.Elapsed()
			call.done <- res
		}()
		r.pollBlocking(start)
		return
	}
	ctx, cancel := context.WithTimeout(r.t.ctx, BlockingCallLimit)
	res := pc.exec(ctx)
	cancel()
	if errors.Is(res.err, context.DeadlineExceeded) && r.t.ctx.Err() == nil {
		r.failAt(sc.Pos, "%s blocked for %v, but the script does not mark it as blocking (T...END %s)", callText(sc), BlockingCallLimit, sc.Name)
	}
	r.settle(sc, pc, res)
}

// settle checks a call's result against the script and applies its effects.
func (r *scriptRun) settle(sc *script.Syscall, pc preparedCall, res callResult) {
	want, err := r.intArg(sc.Result)
	if err != nil {
		r.scriptError(sc.Result.Position(), "result: %v", err)
	}
	errno, isErrno := res.err.(syscall.Errno)
	var vm *valueMismatch
	switch {
	case res.err == nil:
	case errors.As(res.err, &vm):
		r.failAt(sc.Pos, "%s returned %v", callText(sc), vm)
	case errors.Is(res.err, errCmsgData), errors.Is(res.err, errSockoptValue):
		r.failAt(sc.Pos, "%s returned %v", callText(sc), res.err)
	case isErrno:
		res.ret = -1
		if pc.optional && errno == syscall.ENOPROTOOPT && sc.Errno == "" {
			r.skip(sc.Pos, "%s: the option is not supported on target %s", callText(sc), r.t.target)
		}
	case errors.Is(res.err, targets.ErrUnsupported):
		r.skip(sc.Pos, "%s: %v", callText(sc), res.err)
	case errors.Is(res.err, targets.ErrTargetFailed):
		r.failAt(sc.Pos, "%s: %v", callText(sc), res.err)
	default:
		r.ctxErr(sc.Pos, fmt.Errorf("%s: %w", callText(sc), res.err))
	}
	got := describeResult(res.ret, errno)
	if sc.Errno != "" {
		wantErrno, ok := linuxabi.ErrnoNamed(sc.Errno)
		if !ok {
			r.scriptError(sc.Pos, "unknown errno %s", sc.Errno)
		}
		if res.ret != want || errno != wantErrno {
			r.failAt(sc.Pos, "%s returned %s; the script expects %s", callText(sc), got, describeResult(want, wantErrno))
		}
	} else if pc.newFD && want >= 0 {
		if res.ret < 0 {
			r.failAt(sc.Pos, "%s returned %s; the script expects a descriptor", callText(sc), got)
		}
		r.fds[want] = int(res.ret)
	} else if res.ret != want {
		r.failAt(sc.Pos, "%s returned %s; the script expects %d", callText(sc), got, want)
	}
	if pc.post != nil && res.err == nil {
		pc.post(res.ret)
	}
}

func describeResult(ret int64, errno syscall.Errno) string {
	if ret == -1 && errno != 0 {
		return fmt.Sprintf("-1 %s (%v)", ErrnoName(errno), errno)
	}
	return fmt.Sprint(ret)
}

func callText(sc *script.Syscall) string { return sc.Name + "(" + joinArgs(sc.Args) + ")" }

func joinArgs(args []script.Expr) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += ", "
		}
		s += a.String()
	}
	return s
}

// pollBlocking collects the result of the blocking call in flight, if it has
// returned, and checks it. next is the scheduled time of what the script does
// next: a call still blocked although next is past its due time (and
// tolerance) fails. On a virtual clock it first waits a little wall time, so
// a call unblocked by what just happened is seen returning at this instant;
// on a real clock the call stamps its own return time, so nothing waits.
func (r *scriptRun) pollBlocking(next time.Duration) {
	c := r.blocking
	if c == nil {
		return
	}
	r.p.clock.Settle()
	var grace <-chan time.Time
	switch {
	case next > c.latest():
		// The script is about to go past the call's due time, so the call
		// must have returned: wait for it before time moves on (on a real
		// clock, until its deadline), giving its goroutine a generous
		// moment to report even on a loaded machine.
		wait := lateReport
		if !r.p.clock.Virtual() {
			wait += max(c.latest()-r.p.Elapsed(), 0)
		}
		grace = time.After(wait)
	case r.p.clock.Virtual():
		grace = time.After(blockingGrace)
	}
	select {
	case res := <-c.done:
		r.finishBlocking(res)
		return
	case <-grace:
	default:
		if grace != nil {
			select {
			case res := <-c.done:
				r.finishBlocking(res)
				return
			case <-grace:
			}
		}
	}
	if next > c.latest() {
		c.cancel()
		r.failAt(c.sc.Pos, "%s had not returned by %.6f s; the script expects it to return at %.6f s (tolerance %.6f s)",
			callText(c.sc), next.Seconds(), c.due.Seconds(), c.tol.Seconds())
	}
}

func (r *scriptRun) finishBlocking(res callResult) {
	c := r.blocking
	r.blocking = nil
	c.cancel()
	if res.at < c.due-c.tol || res.at > c.latest() {
		r.failAt(c.sc.Pos, "timing error: %s returned at %.6f s; the script expects %.6f s (tolerance %.6f s)",
			callText(c.sc), res.at.Seconds(), c.due.Seconds(), c.tol.Seconds())
	}
	r.settle(c.sc, c.pc, res)
}

// awaitBlocking waits for the blocking call in flight, if any, before the
// script goes on with another call or ends: it lets time pass to the call's
// due time plus tolerance and then wants its result.
func (r *scriptRun) awaitBlocking() {
	c := r.blocking
	if c == nil {
		return
	}
	if r.p.clock.Virtual() {
		r.waitUntil(c.latest())
		if r.blocking != c {
			return // collected while waiting
		}
	} else if wait := c.latest() - r.p.Elapsed(); wait > 0 {
		select {
		case res := <-c.done:
			r.finishBlocking(res)
			return
		case <-time.After(wait):
		}
	}
	// Past its due time (and tolerance) the call must have returned; its
	// goroutine stamps the return itself, so a loaded machine gets a
	// generous moment to report it without changing the verdict.
	select {
	case res := <-c.done:
		r.finishBlocking(res)
	case <-time.After(lateReport):
		c.cancel()
		r.failAt(c.sc.Pos, "%s had not returned by %.6f s; the script expects it to return at %.6f s (tolerance %.6f s)",
			callText(c.sc), r.p.Elapsed().Seconds(), c.due.Seconds(), c.tol.Seconds())
	}
}

// intArg evaluates an integer argument: a number, a symbol, "a|b", or "[N]".
func (r *scriptRun) intArg(e script.Expr) (int64, error) {
	switch v := e.(type) {
	case *script.Int:
		return v.Value, nil
	case *script.Symbol:
		if n, ok := linuxSymbols[v.Name]; ok {
			return n, nil
		}
		if n, ok := r.modeSymbol(v.Name); ok {
			return n, nil
		}
		if e, ok := linuxabi.ErrnoNamed(v.Name); ok {
			return int64(e), nil
		}
		return 0, &unknownSymbol{v.Name}
	case *script.BinaryOp:
		a, err := r.intArg(v.L)
		if err != nil {
			return 0, err
		}
		b, err := r.intArg(v.R)
		if err != nil {
			return 0, err
		}
		if v.Op != "|" {
			return 0, fmt.Errorf("operator %q is not supported", v.Op)
		}
		return a | b, nil
	case *script.Array:
		if len(v.Elems) == 1 {
			return r.intArg(v.Elems[0])
		}
	case nil:
		return 0, errors.New("missing value")
	}
	return 0, fmt.Errorf("%v is not an integer", e)
}

// args checks the number of arguments and resolves the integer ones (nil
// entries for those not wanted as integers).
func (r *scriptRun) arg(sc *script.Syscall, i int) int64 {
	if i >= len(sc.Args) {
		r.scriptError(sc.Pos, "%s needs at least %d arguments", sc.Name, i+1)
	}
	n, err := r.intArg(sc.Args[i])
	var unknown *unknownSymbol
	if errors.As(err, &unknown) {
		r.skip(sc.Args[i].Position(), "%s argument %d: %v: tcpconform does not know its value", sc.Name, i+1, err)
	}
	if err != nil {
		r.scriptError(sc.Args[i].Position(), "%s argument %d: %v", sc.Name, i+1, err)
	}
	return n
}

// fd resolves the descriptor argument i.
func (r *scriptRun) fd(sc *script.Syscall, i int) int {
	if i >= len(sc.Args) {
		r.scriptError(sc.Pos, "%s needs a descriptor", sc.Name)
	}
	fd, err := r.fdOf(sc.Args[i])
	if err != nil {
		r.scriptError(sc.Args[i].Position(), "%v", err)
	}
	return fd
}

// flagsArg returns the flags argument i, or 0 when it is absent.
func (r *scriptRun) flagsArg(sc *script.Syscall, i int) int64 {
	if i >= len(sc.Args) {
		return 0
	}
	return r.arg(sc, i)
}

// flagged returns the target's flag-taking calls, or skips the script;
// argument i holds the flags.
func (r *scriptRun) flagged(sc *script.Syscall, i int) targets.FlaggedIO {
	fio, ok := r.p.Sockets().(targets.FlaggedIO)
	if !ok {
		r.skip(sc.Pos, "%s with flags %v is not supported on target %s", sc.Name, sc.Args[i], r.t.target)
	}
	return fio
}

// dataLen is the byte count of read/write (argument 3) or readv/writev (the
// iovecs' total).
func (r *scriptRun) dataLen(sc *script.Syscall) int {
	if strings.HasSuffix(sc.Name, "v") {
		return r.iovLen(sc, sc.Args[1])
	}
	return int(r.arg(sc, 2))
}

// fastOpen returns where a send with MSG_FASTOPEN connects to, and makes the
// connection the socket opens the one under test, as connect does; without
// the flag it returns no address.
func (r *scriptRun) fastOpen(fd int, flags int64) netip.AddrPort {
	if flags&syscall.MSG_FASTOPEN == 0 {
		return netip.AddrPort{}
	}
	if r.cur == nil || r.cur.fd != fd {
		r.cur, r.listening = &flow{peerPort: r.connectPort, fd: fd}, false
	}
	return r.sockAddr(r.p.LocalAddr(), r.connectPort)
}

// iovLen sums the lengths of an iovec array: [{..., 1000}, {..., 500}].
func (r *scriptRun) iovLen(sc *script.Syscall, e script.Expr) int {
	n := 0
	for _, l := range r.iovLens(sc, e) {
		n += l
	}
	return n
}

// iovLens returns the length of each iovec of an array.
func (r *scriptRun) iovLens(sc *script.Syscall, e script.Expr) []int {
	arr, ok := e.(*script.Array)
	if !ok {
		r.scriptError(e.Position(), "%s wants an iovec array", sc.Name)
	}
	var lens []int
	for _, el := range arr.Elems {
		st, ok := el.(*script.Struct)
		if !ok || len(st.Fields) != 2 {
			r.scriptError(el.Position(), "an iovec is {buffer, length}")
		}
		l, err := r.intArg(st.Fields[1])
		if err != nil {
			r.scriptError(st.Fields[1].Position(), "iovec length: %v", err)
		}
		lens = append(lens, int(l))
	}
	return lens
}

func result(n int, err error) callResult { return callResult{ret: int64(n), err: err} }

// prepare resolves a call's arguments and returns how to make it.
func (r *scriptRun) prepare(sc *script.Syscall) preparedCall {
	so := r.p.Sockets()
	switch sc.Name {
	case "socket":
		domain := int64(syscall.AF_INET)
		if r.mode != IPModeV4 {
			domain = syscall.AF_INET6
		}
		if _, ell := sc.Args[0].(*script.Ellipsis); !ell {
			domain = r.arg(sc, 0)
		}
		typ, proto := r.arg(sc, 1), r.arg(sc, 2)
		return preparedCall{newFD: true, exec: func(context.Context) callResult {
			return result(so.Socket(int(domain), int(typ), int(proto)))
		}, post: func(fd int64) { r.nonblock[int(fd)] = typ&syscall.SOCK_NONBLOCK != 0 }}
	case "bind":
		fd := r.fd(sc, 0)
		addr := r.sockAddr(r.p.TargetAddr(), r.bindPort)
		return preparedCall{exec: func(context.Context) callResult { return result(0, so.Bind(fd, addr)) }}
	case "listen":
		fd, backlog := r.fd(sc, 0), r.arg(sc, 1)
		return preparedCall{exec: func(context.Context) callResult { return result(0, so.Listen(fd, int(backlog))) },
			post: func(int64) { r.listening = true }}
	case "accept":
		fd := r.fd(sc, 0)
		return preparedCall{newFD: true, exec: func(ctx context.Context) callResult {
			nfd, _, err := so.Accept(ctx, fd)
			return result(nfd, err)
		}, post: func(nfd int64) {
			if r.cur != nil && !r.listening {
				r.cur.fd = int(nfd)
			}
		}}
	case "connect":
		fd := r.fd(sc, 0)
		if family, ok := r.bareFamily(sc, 1); ok {
			return r.connectFamily(sc, fd, family)
		}
		addr := r.sockAddr(r.p.LocalAddr(), r.connectPort)
		// The connection under test is the one this socket opens; its
		// port is learned from its SYN.
		r.cur, r.listening = &flow{peerPort: r.connectPort, fd: fd}, false
		return preparedCall{exec: func(ctx context.Context) callResult { return result(0, so.Connect(ctx, fd, addr)) }}
	case "read", "readv":
		fd := r.fd(sc, 0)
		if r.nullBuffer(sc) {
			return r.nullIO(sc, fd, int(r.arg(sc, 2)), 0, netip.AddrPort{})
		}
		n := r.dataLen(sc)
		return preparedCall{exec: func(ctx context.Context) callResult {
			b, err := so.Read(ctx, fd, n)
			return result(len(b), err)
		}}
	case "recv", "recvfrom":
		fd := r.fd(sc, 0)
		n, flags := int(r.arg(sc, 2)), r.flagsArg(sc, 3)
		if r.nullBuffer(sc) {
			return r.nullIO(sc, fd, n, flags, netip.AddrPort{})
		}
		if flags == 0 {
			return preparedCall{exec: func(ctx context.Context) callResult {
				b, err := so.Read(ctx, fd, n)
				return result(len(b), err)
			}}
		}
		fio := r.flagged(sc, 3)
		return preparedCall{exec: func(ctx context.Context) callResult {
			b, err := fio.RecvFrom(ctx, fd, n, int(flags))
			return result(len(b), err)
		}}
	case "write", "writev":
		fd := r.fd(sc, 0)
		if r.nullBuffer(sc) {
			return r.nullIO(sc, fd, int(r.arg(sc, 2)), 0, netip.AddrPort{})
		}
		n := r.dataLen(sc)
		return preparedCall{exec: func(ctx context.Context) callResult {
			return result(so.Write(ctx, fd, make([]byte, n)))
		}}
	case "send", "sendto":
		fd := r.fd(sc, 0)
		n, flags := int(r.arg(sc, 2)), r.flagsArg(sc, 3)
		if family, ok := r.bareFamily(sc, 4); ok && sc.Name == "sendto" {
			return r.sendToFamily(sc, fd, n, flags, family)
		}
		to := r.fastOpen(fd, flags)
		if r.nullBuffer(sc) {
			return r.nullIO(sc, fd, n, flags, to)
		}
		if flags == 0 {
			return preparedCall{exec: func(ctx context.Context) callResult {
				return result(so.Write(ctx, fd, make([]byte, n)))
			}}
		}
		fio := r.flagged(sc, 3)
		return preparedCall{exec: func(ctx context.Context) callResult {
			return result(fio.SendTo(ctx, fd, make([]byte, n), int(flags), to))
		}}
	case "poll":
		return r.poll(sc)
	case "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait":
		return r.epoll(sc)
	case "sendmsg":
		return r.sendmsg(sc)
	case "recvmsg":
		return r.recvmsg(sc)
	case "ioctl":
		return r.ioctl(sc)
	case "close":
		fd := r.fd(sc, 0)
		return preparedCall{exec: func(context.Context) callResult { return result(0, so.Close(fd)) },
			post: func(int64) {
				// The number may come back for the next socket.
				if r.cur != nil && r.cur.fd == fd {
					r.cur.fd = -1
				}
			}}
	case "shutdown":
		fd, how := r.fd(sc, 0), r.arg(sc, 1)
		return preparedCall{exec: func(context.Context) callResult { return result(0, so.Shutdown(fd, int(how))) }}
	case "setsockopt", "getsockopt":
		return r.sockopt(sc)
	case "fcntl":
		return r.fcntl(sc)
	case "open":
		return r.open(sc)
	case "sendfile":
		return r.sendfile(sc)
	case "pipe":
		return r.pipe(sc)
	case "splice":
		return r.splice(sc)
	case "cap_set":
		r.skip(sc.Pos, "cap_set is not supported by tcpconform: the calls run in the harness's own process, whose capabilities it would change")
	case "psp_rx_assoc", "psp_tx_assoc":
		r.skip(sc.Pos, "%s (PSP encryption) is not supported by tcpconform", sc.Name)
	}
	r.skip(sc.Pos, "system call %s is not supported by tcpconform yet", sc.Name)
	return preparedCall{}
}

// sockopt handles setsockopt and getsockopt of integer options.
func (r *scriptRun) sockopt(sc *script.Syscall) preparedCall {
	so := r.p.Sockets()
	fd, level, name := r.fd(sc, 0), r.arg(sc, 1), r.arg(sc, 2)
	if len(sc.Args) < 4 {
		r.scriptError(sc.Pos, "%s needs a value", sc.Name)
	}
	if str, ok := sc.Args[3].(*script.String); ok && sc.Name == "setsockopt" {
		return r.setsockoptBytes(sc, fd, level, name, str)
	}
	if str, ok := sc.Args[3].(*script.String); ok {
		return r.getsockoptBytes(sc, fd, level, name, str)
	}
	if st, ok := sc.Args[3].(*script.Struct); ok && sc.Name == "setsockopt" {
		return r.setsockoptLinger(sc, fd, level, name, st)
	}
	val, err := r.intArg(sc.Args[3])
	if err != nil {
		r.skip(sc.Pos, "%s with the value %v is not supported by tcpconform", sc.Name, sc.Args[3])
	}
	if sc.Name == "setsockopt" {
		return preparedCall{optional: true, exec: func(context.Context) callResult {
			return result(0, so.SetsockoptInt(fd, int(level), int(name), int(val)))
		}}
	}
	return preparedCall{optional: true, exec: func(context.Context) callResult {
		got, err := so.GetsockoptInt(fd, int(level), int(name))
		// Options are 32-bit: 0xffffffff in a script is -1 from the kernel.
		if err == nil && uint32(got) != uint32(val) {
			return callResult{err: &valueMismatch{want: val, got: int64(got)}}
		}
		return result(0, err)
	}}
}

// setsockoptBytes handles options whose value is a string, such as
// setsockopt(3, SOL_TCP, TCP_FASTOPEN_KEY, "\x01...", 16): the option's
// length is the script's last argument, and the string is cut or padded
// with zeros to it, as a C buffer of that size would read.
func (r *scriptRun) setsockoptBytes(sc *script.Syscall, fd int, level, name int64, str *script.String) preparedCall {
	raw, ok := r.p.Sockets().(targets.RawSockopts)
	if !ok {
		r.skip(sc.Pos, "setsockopt with a string value is not supported on target %s", r.t.target)
	}
	if str.Prefix {
		r.skip(sc.Pos, "setsockopt with a %q... prefix is not supported by tcpconform", str.Value)
	}
	n := len(str.Value)
	if len(sc.Args) > 4 {
		n = int(r.arg(sc, 4))
	}
	if n < 0 || n > 1<<16 {
		r.scriptError(sc.Pos, "setsockopt length %d is out of range", n)
	}
	value := make([]byte, n)
	copy(value, str.Value)
	return preparedCall{optional: true,
		exec: func(context.Context) callResult {
			return result(0, raw.SetsockoptBytes(fd, int(level), int(name), value))
		},
		post: func(int64) { r.noteFastOpenKey(level, name, value) }}
}

// modeSymbol resolves the symbols packetdrill's runner defines per IP
// version: the level and type of IP error-queue control messages.
func (r *scriptRun) modeSymbol(name string) (int64, bool) {
	v6 := r.mode == IPModeV6
	switch name {
	case "CMSG_LEVEL_IP":
		if v6 {
			return syscall.SOL_IPV6, true
		}
		return syscall.SOL_IP, true
	case "CMSG_TYPE_RECVERR":
		if v6 {
			return syscall.IPV6_RECVERR, true
		}
		return syscall.IP_RECVERR, true
	}
	return 0, false
}

// unknownSymbol is a constant missing from the harness's table.
type unknownSymbol struct{ name string }

func (e *unknownSymbol) Error() string { return "unknown symbol " + e.name }

// valueMismatch is a value the call returned through a pointer (getsockopt,
// ioctl, poll's revents) other than the script's.
type valueMismatch struct {
	want, got int64
	what      string // "value" when empty
}

func (e *valueMismatch) Error() string {
	what := e.what
	if what == "" {
		what = "value"
	}
	return fmt.Sprintf("%s %d (0x%x), the script expects %d (0x%x)", what, e.got, e.got, e.want, e.want)
}

// ioctl handles integer ioctls such as ioctl(4, SIOCINQ, [1000]) = 0: the
// value the script writes is compared with the target's.
func (r *scriptRun) ioctl(sc *script.Syscall) preparedCall {
	io, ok := r.p.Sockets().(targets.Ioctler)
	if !ok {
		r.skip(sc.Pos, "ioctl is not supported on target %s", r.t.target)
	}
	fd, req := r.fd(sc, 0), r.arg(sc, 1)
	if len(sc.Args) < 3 {
		r.scriptError(sc.Pos, "ioctl needs a value")
	}
	want, err := r.intArg(sc.Args[2])
	if err != nil {
		r.skip(sc.Pos, "ioctl with the value %v is not supported by tcpconform", sc.Args[2])
	}
	return preparedCall{exec: func(context.Context) callResult {
		got, err := io.IoctlInt(fd, uint(req))
		if err == nil && int64(got) != want {
			return callResult{err: &valueMismatch{want: want, got: int64(got)}}
		}
		return result(0, err)
	}}
}

// poll handles poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, timeout):
// the result and each entry's revents are compared with the script's.
func (r *scriptRun) poll(sc *script.Syscall) preparedCall {
	poller, ok := r.p.Sockets().(targets.Poller)
	if !ok {
		r.skip(sc.Pos, "poll is not supported on target %s", r.t.target)
	}
	arr, ok := sc.Args[0].(*script.Array)
	if !ok || len(sc.Args) < 3 {
		r.scriptError(sc.Pos, "poll wants [{fd=..., events=..., revents=...}], nfds, timeout")
	}
	var fds []targets.PollFd
	var wantRevents []int64
	for _, el := range arr.Elems {
		st, ok := el.(*script.Struct)
		if !ok {
			r.scriptError(el.Position(), "a pollfd is {fd=..., events=..., revents=...}")
		}
		var pfd targets.PollFd
		var rev int64
		for _, fe := range st.Fields {
			as, ok := fe.(*script.Assign)
			if !ok {
				r.scriptError(fe.Position(), "a pollfd field is name=value")
			}
			switch as.Name {
			case "fd":
				fd, err := r.fdOf(as.Value)
				if err != nil {
					r.scriptError(as.Pos, "%v", err)
				}
				pfd.Fd = fd
			case "events", "revents":
				v, err := r.intArg(as.Value)
				if err != nil {
					r.skip(as.Pos, "poll %s %v: %v", as.Name, as.Value, err)
				}
				if as.Name == "events" {
					pfd.Events = int16(v)
				} else {
					rev = v
				}
			}
		}
		fds = append(fds, pfd)
		wantRevents = append(wantRevents, rev)
	}
	ms := r.arg(sc, 2)
	timeout := time.Duration(ms) * time.Millisecond
	if ms < 0 {
		timeout = -1
	}
	return preparedCall{exec: func(ctx context.Context) callResult {
		n, err := poller.Poll(ctx, fds, timeout)
		if err != nil {
			return callResult{err: err}
		}
		for i, f := range fds {
			if int64(f.Revents) != wantRevents[i] {
				return callResult{err: &valueMismatch{want: wantRevents[i], got: int64(f.Revents), what: fmt.Sprintf("revents of fd entry %d", i)}}
			}
		}
		return callResult{ret: int64(n)}
	}}
}

// epoller returns the target's epoll, or skips the script.
func (r *scriptRun) epoller(sc *script.Syscall) targets.Epoller {
	ep, ok := r.p.Sockets().(targets.Epoller)
	if !ok {
		r.skip(sc.Pos, "%s is not supported on target %s", sc.Name, r.t.target)
	}
	return ep
}

// epollEvent reads {events=..., fd=N} (or ptr=, u32=, u64=): the data of an
// fd= event is the target's descriptor, so that events name it.
func (r *scriptRun) epollEvent(e script.Expr) (ev targets.EpollEvent, fdData bool) {
	st, ok := e.(*script.Struct)
	if !ok {
		r.scriptError(e.Position(), "an epoll event is {events=..., fd=...}")
	}
	for _, fe := range st.Fields {
		as, ok := fe.(*script.Assign)
		if !ok {
			r.scriptError(fe.Position(), "an epoll event field is name=value")
		}
		switch as.Name {
		case "events":
			v, err := r.intArg(as.Value)
			if err != nil {
				r.skip(as.Pos, "epoll events %v: %v", as.Value, err)
			}
			ev.Events = uint32(v)
		case "fd":
			fd, err := r.fdOf(as.Value)
			if err != nil {
				r.scriptError(as.Pos, "%v", err)
			}
			ev.Data, fdData = uint64(fd), true
		case "ptr", "u32", "u64":
			v, err := r.intArg(as.Value)
			if err != nil {
				r.scriptError(as.Pos, "%v", err)
			}
			ev.Data = uint64(v)
		}
	}
	return ev, fdData
}

// epoll handles epoll_create, epoll_ctl and epoll_wait with one event, as
// scripts write them: epoll_wait(5, {events=EPOLLIN, fd=4}, 1, 0) = 1
// compares the first event returned.
func (r *scriptRun) epoll(sc *script.Syscall) preparedCall {
	ep := r.epoller(sc)
	switch sc.Name {
	case "epoll_create", "epoll_create1":
		return preparedCall{newFD: true, exec: func(context.Context) callResult { return result(ep.EpollCreate()) }}
	case "epoll_ctl":
		epfd, op, fd := r.fd(sc, 0), r.arg(sc, 1), r.fd(sc, 2)
		ev, _ := r.epollEvent(sc.Args[3])
		return preparedCall{exec: func(context.Context) callResult { return result(0, ep.EpollCtl(epfd, int(op), fd, ev)) }}
	}
	epfd := r.fd(sc, 0)
	want, _ := r.epollEvent(sc.Args[1])
	max, ms := r.arg(sc, 2), r.arg(sc, 3)
	timeout := time.Duration(ms) * time.Millisecond
	if ms < 0 {
		timeout = -1
	}
	return preparedCall{exec: func(ctx context.Context) callResult {
		evs, err := ep.EpollWait(ctx, epfd, int(max), timeout)
		if err != nil {
			return callResult{err: err}
		}
		if len(evs) > 0 {
			if evs[0].Events != want.Events {
				return callResult{err: &valueMismatch{want: int64(want.Events), got: int64(evs[0].Events), what: "events"}}
			}
			if evs[0].Data != want.Data {
				return callResult{err: &valueMismatch{want: int64(want.Data), got: int64(evs[0].Data), what: "event data"}}
			}
		}
		return callResult{ret: int64(len(evs))}
	}}
}

// sendmsg handles sendmsg(fd, {msg_name(...)=..., msg_iov(N)=[{..., len},
// ...], msg_flags=0}, flags) without control messages: the iovecs' total is
// sent as with sendto.
func (r *scriptRun) sendmsg(sc *script.Syscall) preparedCall {
	fd := r.fd(sc, 0)
	msg, ok := sc.Args[1].(*script.Struct)
	if !ok {
		r.scriptError(sc.Args[1].Position(), "sendmsg wants a msghdr {...}")
	}
	var lens []int
	for _, fe := range msg.Fields {
		as, ok := fe.(*script.Assign)
		if !ok {
			continue
		}
		switch as.Name {
		case "msg_iov":
			lens = r.iovLens(sc, as.Value)
		case "msg_control":
			r.skip(sc.Pos, "sendmsg with control messages is not supported by tcpconform")
		}
	}
	flags := r.flagsArg(sc, 2)
	if iv, ok := r.p.Sockets().(targets.Iovecs); ok && flags&syscall.MSG_FASTOPEN == 0 {
		// Each iovec its own buffer, as the kernel sees them: with
		// MSG_ZEROCOPY each becomes a page fragment of its own.
		return preparedCall{exec: func(ctx context.Context) callResult {
			iov := make([][]byte, len(lens))
			for i, l := range lens {
				iov[i] = make([]byte, l)
			}
			return result(iv.SendMsg(ctx, fd, iov, int(flags)))
		}}
	}
	n := 0
	for _, l := range lens {
		n += l
	}
	to := r.fastOpen(fd, flags)
	fio := r.flagged(sc, 2)
	return preparedCall{exec: func(ctx context.Context) callResult {
		return result(fio.SendTo(ctx, fd, make([]byte, n), int(flags), to))
	}}
}

// wantCmsg is a control message a script expects, with its data as bytes.
type wantCmsg struct {
	level, typ int64
	data       []byte
	// stamp, when set, is the software timestamp an SCM_TIMESTAMPING
	// message must carry, as script time (see scmTimestamp).
	stamp *time.Duration
}

// cmsgData turns a script's cmsg_data into the bytes the kernel writes: an
// integer is a native int; {ee_errno=..., ee_origin=..., ee_type=...,
// ee_code=..., ee_info=..., ee_data=...} is a struct sock_extended_err.
func (r *scriptRun) cmsgData(sc *script.Syscall, e script.Expr) []byte {
	if st, ok := e.(*script.Struct); ok {
		fields := map[string]int64{}
		for _, fe := range st.Fields {
			as, ok := fe.(*script.Assign)
			if !ok || !strings.HasPrefix(as.Name, "ee_") {
				r.skip(sc.Pos, "control message data %v is not supported by tcpconform", e)
			}
			v, err := r.intArg(as.Value)
			if err != nil {
				r.skip(sc.Pos, "control message data %v: %v", e, err)
			}
			fields[as.Name] = v
		}
		b := make([]byte, 16)
		binary.NativeEndian.PutUint32(b[0:], uint32(fields["ee_errno"]))
		b[4], b[5], b[6] = byte(fields["ee_origin"]), byte(fields["ee_type"]), byte(fields["ee_code"])
		binary.NativeEndian.PutUint32(b[8:], uint32(fields["ee_info"]))
		binary.NativeEndian.PutUint32(b[12:], uint32(fields["ee_data"]))
		return b
	}
	v, err := r.intArg(e)
	if err != nil {
		r.skip(sc.Pos, "control message data %v is not supported by tcpconform", e)
	}
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, uint32(v))
	return b
}

// recvmsg handles recvmsg(fd, {msg_name(...)=..., msg_iov(N)=[...],
// msg_flags=F, msg_control=[{cmsg_level=..., cmsg_type=..., cmsg_data=...}]},
// flags): the length, the message flags and each control message (level,
// type, and the leading bytes of its data) are compared with the script's.
func (r *scriptRun) recvmsg(sc *script.Syscall) preparedCall {
	fio, ok := r.p.Sockets().(targets.FlaggedIO)
	if !ok {
		r.skip(sc.Pos, "recvmsg is not supported on target %s", r.t.target)
	}
	fd := r.fd(sc, 0)
	msg, ok := sc.Args[1].(*script.Struct)
	if !ok {
		r.scriptError(sc.Args[1].Position(), "recvmsg wants a msghdr {...}")
	}
	n, wantFlags := 0, int64(0)
	var want []wantCmsg
	for _, fe := range msg.Fields {
		as, ok := fe.(*script.Assign)
		if !ok {
			continue
		}
		switch as.Name {
		case "msg_iov":
			n = r.iovLen(sc, as.Value)
		case "msg_flags":
			v, err := r.intArg(as.Value)
			if err != nil {
				r.skip(sc.Pos, "msg_flags %v: %v", as.Value, err)
			}
			wantFlags = v
		case "msg_control":
			arr, ok := as.Value.(*script.Array)
			if !ok {
				r.scriptError(as.Pos, "msg_control is an array of {cmsg_level=..., cmsg_type=..., cmsg_data=...}")
			}
			for _, el := range arr.Elems {
				st, ok := el.(*script.Struct)
				if !ok {
					r.scriptError(el.Position(), "a control message is {cmsg_level=..., cmsg_type=..., cmsg_data=...}")
				}
				var c wantCmsg
				for _, cf := range st.Fields {
					ca, ok := cf.(*script.Assign)
					if !ok {
						r.scriptError(cf.Position(), "a control message field is name=value")
					}
					switch ca.Name {
					case "cmsg_level", "cmsg_type":
						v, err := r.intArg(ca.Value)
						if err != nil {
							r.skip(sc.Pos, "%s %v: %v", ca.Name, ca.Value, err)
						}
						if ca.Name == "cmsg_level" {
							c.level = v
						} else {
							c.typ = v
						}
					case "cmsg_data":
						if stamp, ok := r.scmTimestamp(sc, ca.Value); ok {
							c.stamp = stamp
						} else {
							c.data = r.cmsgData(sc, ca.Value)
						}
					}
				}
				want = append(want, c)
			}
		}
	}
	flags := r.flagsArg(sc, 2)
	return preparedCall{exec: func(ctx context.Context) callResult {
		got, msgFlags, cmsgs, err := fio.RecvMsg(ctx, fd, n, int(flags))
		if err != nil {
			return callResult{err: err}
		}
		if int64(msgFlags) != wantFlags {
			return callResult{err: &valueMismatch{want: wantFlags, got: int64(msgFlags), what: "msg_flags"}}
		}
		if len(cmsgs) != len(want) {
			return callResult{err: &valueMismatch{want: int64(len(want)), got: int64(len(cmsgs)), what: "number of control messages"}}
		}
		for i, c := range cmsgs {
			w := want[i]
			if int64(c.Level) != w.level || int64(c.Type) != w.typ {
				return callResult{err: &valueMismatch{want: w.level<<16 | w.typ, got: int64(c.Level)<<16 | int64(c.Type),
					what: fmt.Sprintf("control message %d level<<16|type", i)}}
			}
			if err := r.checkStamp(i, c.Data, w.stamp); err != nil {
				return callResult{err: err}
			}
			if len(c.Data) < len(w.data) || !bytes.Equal(c.Data[:len(w.data)], w.data) {
				return callResult{err: fmt.Errorf("%w: control message %d data %x, the script expects %x", errCmsgData, i, c.Data, w.data)}
			}
		}
		return callResult{ret: int64(got)}
	}}
}

// errCmsgData marks a control message whose data differs from the script's.
var errCmsgData = errors.New("control message mismatch")

// fcntl handles F_GETFL and F_SETFL for O_NONBLOCK.
func (r *scriptRun) fcntl(sc *script.Syscall) preparedCall {
	so := r.p.Sockets()
	fd, cmd := r.fd(sc, 0), r.arg(sc, 1)
	switch cmd {
	case syscall.F_GETFL:
		flags := int64(syscall.O_RDWR)
		if r.nonblock[fd] {
			flags |= syscall.O_NONBLOCK
		}
		return preparedCall{exec: func(context.Context) callResult { return callResult{ret: flags} }}
	case syscall.F_SETFL:
		on := r.arg(sc, 2)&syscall.O_NONBLOCK != 0
		return preparedCall{exec: func(context.Context) callResult { return result(0, so.SetNonblock(fd, on)) },
			post: func(int64) { r.nonblock[fd] = on }}
	}
	r.skip(sc.Pos, "fcntl command %v is not supported by tcpconform", sc.Args[1])
	return preparedCall{}
}
