//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// protocolVersion is the version of docs/agent-protocol.md spoken here.
const protocolVersion = 1

// serveOptions configures serve.
type serveOptions struct {
	// Release is the stack version in the hello line; "" means the
	// running kernel's release (uname -r).
	Release string
	// IPv4 and IPv6 announce the features of the same names: the stack
	// has an address of that family for the harness to talk to.
	IPv4, IPv6 bool
	// SysctlDir is where sysctl knobs live ("" means /proc/sys); tests
	// point it at a scratch directory.
	SysctlDir string
	// ProcNet holds the tcp and tcp6 tables read by "state" (""
	// means /proc/net, or /proc/thread-self/net with Netns).
	ProcNet string
	// Netns, if not nil, is the stack's network namespace: every reset
	// makes a new one, and the calls that depend on the namespace run on
	// its thread. Only the guest's init has one; without, the stack is
	// the agent's own namespace, for good.
	Netns *netns
	// Log takes diagnostics; nil discards them.
	Log io.Writer
}

// serve speaks the agent protocol: it writes the hello line to w, then
// answers the request lines read from r until a quit request or the end of
// r. Sockets still open when it returns are closed abortively and changed
// sysctls are restored. It returns nil after quit or at end of input, or the
// read error.
func serve(r io.Reader, w io.Writer, opts serveOptions) error {
	if opts.SysctlDir == "" {
		opts.SysctlDir = "/proc/sys"
	}
	if opts.ProcNet == "" {
		opts.ProcNet = "/proc/net"
		if opts.Netns != nil {
			opts.ProcNet = "/proc/thread-self/net"
		}
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	s := &server{
		opts:    opts,
		out:     &replier{w: w},
		socks:   map[int]*sock{},
		pending: map[string]*job{},
		sysctls: &sysctls{dir: opts.SysctlDir, saved: map[string]string{}},
	}
	if opts.Netns != nil {
		s.sysctls.inNetns = opts.Netns.do
	}
	defer s.finish()
	s.out.line(s.hello())

	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" && s.handle(line) {
			return nil
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// server is the state of one serve call.
type server struct {
	opts    serveOptions
	out     *replier
	sysctls *sysctls

	mu      sync.Mutex
	socks   map[int]*sock   // the sockets the harness owns, by kernel fd
	pending map[string]*job // blocking calls in flight, by request id
	// staged holds data gathered by put for a later send, by name: the
	// serial line takes only a few KB at once, so long sends come in
	// pieces.
	staged map[string][]byte
}

// sock is one socket the harness created or accepted. The kernel socket is
// always O_NONBLOCK; nonblock is the application's flag, which decides
// whether a call waits.
type sock struct {
	fd       int
	family   int
	nonblock bool
}

func (s *server) hello() string {
	rel := s.opts.Release
	if rel == "" {
		rel = kernelRelease()
	}
	f := []string{"hello", "tcpconform-agent", fmt.Sprint(protocolVersion), "linux", rel}
	if s.opts.IPv4 {
		f = append(f, "ipv4")
	}
	if s.opts.IPv6 {
		f = append(f, "ipv6")
	}
	f = append(f, "state", "put", "tcpinfo")
	return strings.Join(f, " ")
}

// kernelRelease is uname -r, or "unknown".
func kernelRelease() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "unknown"
	}
	var b []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	if len(b) == 0 {
		return "unknown"
	}
	return string(b)
}

// inNetns runs f where the stack's network namespace is: on the
// namespace's thread, or on the calling one when the stack is the agent's
// own namespace.
func (s *server) inNetns(f func()) {
	if s.opts.Netns != nil {
		s.opts.Netns.do(f)
		return
	}
	f()
}

func (s *server) logf(format string, args ...any) {
	fmt.Fprintf(s.opts.Log, "tcpconform guest: "+format+"\n", args...)
}

// replier writes reply lines. Calls finish on several goroutines, so every
// line goes out whole, in one Write, under a lock.
type replier struct {
	mu   sync.Mutex
	w    io.Writer
	dead atomic.Bool // set once writing failed or serve is over
}

func (r *replier) line(s string) {
	if r.dead.Load() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := io.WriteString(r.w, s+"\n"); err != nil {
		r.dead.Store(true)
	}
}

func (r *replier) send(id string, res result) { r.line(res.line(id)) }

func (r *replier) ok(id string, vals ...string) { r.send(id, ok(vals...)) }

func (r *replier) fail(id string, e syscall.Errno, msg string) { r.send(id, fail(e, msg)) }

// result is the outcome of one request.
type result struct {
	failed bool
	vals   []string      // after "ok"
	errno  syscall.Errno // when failed
	msg    string        // free text after the errno
}

func ok(vals ...string) result { return result{vals: vals} }

func fail(e syscall.Errno, msg string) result { return result{failed: true, errno: e, msg: msg} }

// failErr is fail with err's errno.
func failErr(err error) result { return fail(errnoOf(err), "") }

func (r result) line(id string) string {
	var b strings.Builder
	b.WriteString(id)
	if r.failed {
		b.WriteString(" err ")
		b.WriteString(errnoName(r.errno))
		if r.msg != "" {
			b.WriteString(" ")
			b.WriteString(r.msg)
		}
		return b.String()
	}
	b.WriteString(" ok")
	for _, v := range r.vals {
		if v == "" {
			continue // zero bytes of data are no token at all
		}
		b.WriteString(" ")
		b.WriteString(v)
	}
	return b.String()
}

// handle answers one request line (or starts answering it); it reports
// whether the line was a quit.
func (s *server) handle(line string) (quit bool) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return false
	}
	if len(f) < 2 || len(f[0]) > 63 {
		s.out.fail("?", syscall.EINVAL, "malformed request")
		return false
	}
	id, verb, args := f[0], f[1], f[2:]
	switch verb {
	case "socket":
		s.out.send(id, s.doSocket(args))
	case "bind":
		s.out.send(id, s.doBind(args))
	case "listen":
		s.out.send(id, s.doListen(args))
	case "accept":
		s.doAccept(id, args)
	case "connect":
		s.doConnect(id, args)
	case "tcpinfo":
		s.out.send(id, s.doTCPInfo(args))
	case "put":
		s.out.send(id, s.doPut(args))
	case "send":
		s.doSend(id, args)
	case "recv":
		s.doRecv(id, args)
	case "shutdown":
		s.out.send(id, s.doShutdown(args))
	case "close":
		s.doClose(id, args)
	case "nonblock":
		s.out.send(id, s.doNonblock(args))
	case "setsockopt":
		s.out.send(id, s.doSetsockopt(args))
	case "getsockopt":
		s.out.send(id, s.doGetsockopt(args))
	case "sockname", "peername":
		s.out.send(id, s.doName(verb, args))
	case "state":
		s.out.send(id, s.doState(args))
	case "sysctl":
		s.out.send(id, s.doSysctl(args))
	case "cancel":
		s.out.send(id, s.doCancel(args))
	case "reset":
		if err := s.reset(); err != nil {
			s.out.fail(id, syscall.EIO, strings.ReplaceAll(err.Error(), "\n", "; "))
		} else {
			s.out.ok(id)
		}
	case "ping":
		s.out.ok(id)
	case "quit":
		s.out.ok(id)
		return true
	default:
		s.out.fail(id, syscall.ENOSYS, "unknown request "+verb)
	}
	return false
}

func (s *server) doCancel(args []string) result {
	if len(args) != 1 {
		return fail(syscall.EINVAL, "usage: cancel ID")
	}
	s.mu.Lock()
	j := s.pending[args[0]]
	s.mu.Unlock()
	if j == nil || !j.cancel(syscall.EINTR, "cancelled") {
		return fail(syscall.ENOENT, "no such pending request")
	}
	return ok()
}

// reset ends every pending call (they answer EINTR), restores the
// sysctls and closes every socket abortively. With a network namespace per
// case (Netns), the stack moves to a fresh one in between, leaving the old
// one's sockets, the kernel's leftovers of closed ones, caches and
// settings behind. The sysctls go back first, where they were changed,
// before a new namespace copies any of the first one's. The stack's device
// goes with the stack, so that the abortive closes that follow send
// nothing (they find no route), and what lingers in the old namespace
// never reaches the wire again; without a namespace per case, their RSTs
// end the old connections on the wire. An error means that the stack is
// not fit for another case.
func (s *server) reset() error {
	s.cancelJobs(func(*job) bool { return true }, syscall.EINTR, "cancelled", -1)
	s.mu.Lock()
	s.staged = nil
	s.mu.Unlock()
	n := s.opts.Netns
	if n == nil {
		s.closeAll()
		s.restoreSysctls()
		return nil
	}
	s.restoreSysctls()
	var err error
	n.do(func() { err = n.renew() })
	s.closeAll()
	if err != nil {
		s.logf("reset: %v", err)
		return fmt.Errorf("no fresh network namespace: %w", err)
	}
	return nil
}

// finish runs when serve returns: like reset, but nobody hears the
// answers any more, and a call that does not end soon is left behind.
func (s *server) finish() {
	s.out.dead.Store(true)
	s.cancelJobs(func(*job) bool { return true }, syscall.EINTR, "cancelled", time.Second)
	s.closeAll()
	s.restoreSysctls()
}

func (s *server) closeAll() {
	s.mu.Lock()
	socks := s.socks
	s.socks = map[int]*sock{}
	s.mu.Unlock()
	for fd := range socks {
		syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
		syscall.Close(fd)
	}
}

func (s *server) restoreSysctls() {
	for _, err := range s.sysctls.restore() {
		s.logf("restoring a sysctl: %v", err)
	}
}

// job is a blocking call waiting on its own goroutine. It polls its socket
// together with a pipe; cancel writes to the pipe to wake it.
type job struct {
	id   string
	fd   int
	done chan struct{} // closed once the call has answered

	mu       sync.Mutex
	finished bool   // the pipe is closed; cancel can no longer reach it
	wake     [2]int // the pipe
	why      syscall.Errno
	whyMsg   string
}

// cancel asks the job to answer with errno e; it reports false if the job
// was already over.
func (j *job) cancel(e syscall.Errno, msg string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.finished {
		return false
	}
	if j.why == 0 {
		j.why, j.whyMsg = e, msg
		syscall.Write(j.wake[1], []byte{1})
	}
	return true
}

// cancelled reports the reason of a cancel, if any.
func (j *job) cancelled() (syscall.Errno, string, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.why, j.whyMsg, j.why != 0
}

// Poll events (poll.h).
const (
	pollIn  = 0x1
	pollOut = 0x4
)

type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

// wait blocks until the socket has one of events (or an error or hang-up)
// or the job is cancelled; it returns a failure result when the call must
// end without trying again.
func (j *job) wait(events int16) (result, bool) {
	fds := [2]pollFd{{fd: int32(j.fd), events: events}, {fd: int32(j.wake[0]), events: pollIn}}
	for {
		if e, msg, c := j.cancelled(); c {
			return fail(e, msg), false
		}
		fds[0].revents, fds[1].revents = 0, 0
		_, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 2, 0, 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return fail(e, "poll"), false
		}
		if fds[1].revents != 0 {
			continue // the check at the top answers
		}
		if fds[0].revents != 0 {
			return result{}, true
		}
	}
}

// startJob runs call on a goroutine of its own and sends its answer. The
// job is pending (and so can be cancelled) as soon as startJob returns.
func (s *server) startJob(id string, fd int, call func(*job) result) {
	j := &job{id: id, fd: fd, done: make(chan struct{})}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		s.out.fail(id, errnoOf(err), "no pipe for a blocking call")
		return
	}
	j.wake = p
	s.mu.Lock()
	if s.pending[id] != nil {
		s.mu.Unlock()
		syscall.Close(p[0])
		syscall.Close(p[1])
		s.out.fail(id, syscall.EINVAL, "request id already in flight")
		return
	}
	s.pending[id] = j
	s.mu.Unlock()
	go func() {
		res := call(j)
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
		j.mu.Lock()
		j.finished = true
		syscall.Close(j.wake[0])
		syscall.Close(j.wake[1])
		j.mu.Unlock()
		s.out.send(id, res)
		close(j.done)
	}()
}

// cancelJobs cancels the pending jobs that match with errno e and waits
// until they have answered, at most max if max >= 0.
func (s *server) cancelJobs(match func(*job) bool, e syscall.Errno, msg string, max time.Duration) {
	s.mu.Lock()
	var js []*job
	for _, j := range s.pending {
		if match(j) {
			js = append(js, j)
		}
	}
	s.mu.Unlock()
	for _, j := range js {
		j.cancel(e, msg)
	}
	var deadline <-chan time.Time
	if max >= 0 {
		t := time.NewTimer(max)
		defer t.Stop()
		deadline = t.C
	}
	for _, j := range js {
		select {
		case <-j.done:
		case <-deadline:
			return
		}
	}
}
