// Package agent is the harness side of a stack agent (docs/agent-protocol.md):
// a child process that runs a TCP stack, exchanges raw IP packets with the
// harness over a datagram socket pair (its fd 3), and takes socket calls as
// request lines on its stdin, answering on its stdout.
//
// Any agent binary speaking the protocol can be driven by this package: Start
// runs it and waits for its hello, Agent.Link is the packet channel, Call
// sends one request, and NewInstance wraps it all as a targets.Instance. An
// agent that crashes or stops answering makes every call fail with an error
// saying so (with the tail of what it wrote to stderr), never hang.
package agent

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpconform/tcpconform/internal/linuxabi"
	"github.com/tcpconform/tcpconform/targets"
)

// ProtocolVersion is the version of docs/agent-protocol.md this package speaks.
const ProtocolVersion = 1

// Defaults for Spec's timeouts.
const (
	DefaultHelloTimeout = 5 * time.Second
	DefaultCallTimeout  = 5 * time.Second
	DefaultGrace        = 500 * time.Millisecond
)

// Spec says how to run an agent.
type Spec struct {
	// Name labels errors ("lwip agent").
	Name string
	Path string
	Args []string
	// HelloTimeout bounds the wait for the hello line; CallTimeout bounds a
	// request that cannot block; Grace is how long Close waits after quit
	// before killing the process group.
	HelloTimeout, CallTimeout, Grace time.Duration
	// Packets, when set, opens the packet channel instead of the datagram
	// socket pair whose other end is the child's fd 3 (a virtual machine
	// that connects to a socket of its own, for instance). It is called
	// before the child starts.
	Packets func() (PacketConn, error)
	// ControlFD carries requests and replies over a stream socket pair
	// whose other end is the child's next fd (3, or 4 after the packet
	// socket pair) instead of its stdin and stdout; a virtual machine's
	// serial line, say. The child's stdin is then /dev/null and its stdout
	// goes with its stderr.
	ControlFD bool
	// MaxRequest, when non-zero, is the longest request line the agent
	// can take at once (a serial line that stalls on long bursts). Data
	// that would make a send longer goes ahead in "put" requests of at
	// most this size, when the agent announced the "put" feature.
	MaxRequest int
	// Barrier, when set, returns once the stack has processed every packet
	// written to it so far (and what it sent in answer has been read). It
	// runs before every request, so that a socket call never overtakes the
	// packets injected before it, and serves Clock.Settle when the agent
	// has no "settle" request: for a stack whose packets and requests
	// travel on separate channels.
	Barrier func()
}

// Hello is what the agent announced.
type Hello struct {
	Version int
	Stack   string
	// Features are the words after the stack's name and version ("ipv4").
	StackVersion string
	Features     []string
}

// Has reports whether the agent announced feature f.
func (h Hello) Has(f string) bool {
	for _, x := range h.Features {
		if x == f {
			return true
		}
	}
	return false
}

// Agent is one running agent process.
type Agent struct {
	spec  Spec
	cmd   *exec.Cmd
	stdin io.WriteCloser
	link  *Link
	hello Hello

	wmu sync.Mutex // serialises request lines

	mu      sync.Mutex
	nextID  uint64
	pending map[string]chan reply
	dead    error         // why the agent can no longer answer
	exited  chan struct{} // closed when the process has been waited for
	stderr  *tailBuffer

	closeOnce sync.Once
}

type reply struct {
	fields []string // after "ok"
	errno  syscall.Errno
	msg    string
	isErr  bool
}

// Start runs the agent and waits for its hello.
func Start(ctx context.Context, spec Spec) (*Agent, error) {
	a := newAgent(spec)
	spec = a.spec
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = a.stderr
	a.cmd = cmd
	// closeOnFail holds what is ours to close if the start fails; theirs
	// what the child inherits, closed once it has started.
	var closeOnFail, theirs []io.Closer
	fail := func(err error) (*Agent, error) {
		for _, c := range append(closeOnFail, theirs...) {
			c.Close()
		}
		return nil, err
	}

	var packets PacketConn
	if spec.Packets != nil {
		p, err := spec.Packets()
		if err != nil {
			return fail(fmt.Errorf("%s: packet channel: %w", spec.Name, err))
		}
		packets = p
	} else {
		ours, child, err := socketPair(unix.SOCK_DGRAM, "agent packets")
		if err != nil {
			return fail(fmt.Errorf("%s: socketpair: %w", spec.Name, err))
		}
		for _, f := range []*os.File{ours, child} {
			// Room for bursts: a window's worth of segments either way.
			unix.SetsockoptInt(int(f.Fd()), unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
			unix.SetsockoptInt(int(f.Fd()), unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, child) // fd 3
		theirs = append(theirs, child)
		packets = fileConn{ours}
	}
	closeOnFail = append(closeOnFail, packets)

	// stdout is read until end of file; the writers must be closed for
	// that, so both ends are files of our own rather than StdoutPipe,
	// which Wait would close before the last replies have been read.
	var ctrlR io.ReadCloser
	if spec.ControlFD {
		ours, child, err := socketPair(unix.SOCK_STREAM, "agent control")
		if err != nil {
			return fail(fmt.Errorf("%s: socketpair: %w", spec.Name, err))
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, child)
		theirs = append(theirs, child)
		cmd.Stdout = a.stderr
		ctrlR, a.stdin = ours, ours
	} else {
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return fail(err)
		}
		stdout, stdoutW, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		cmd.Stdout = stdoutW
		theirs = append(theirs, stdoutW)
		ctrlR, a.stdin = stdout, stdin
	}
	closeOnFail = append(closeOnFail, ctrlR)
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("%s: start %s: %w", spec.Name, spec.Path, err))
	}
	for _, c := range theirs {
		c.Close()
	}
	a.link = newLink(packets, a)

	helloc := make(chan string, 1)
	eof := make(chan struct{})
	go func() {
		a.read(ctrlR, helloc)
		close(eof)
		// An agent that closed its side but lives on is broken too; one
		// that exits says why below.
		select {
		case <-a.exited:
		case <-time.After(2 * time.Second):
			a.fail(fmt.Errorf("%w: %s closed its control channel%s", targets.ErrTargetFailed, spec.Name, a.stderrNote()))
		}
	}()
	go func() {
		werr := cmd.Wait()
		// Let the reader deliver what the agent said before it went.
		select {
		case <-eof:
		case <-time.After(time.Second):
		}
		a.fail(fmt.Errorf("%w: %s exited (%v)%s", targets.ErrTargetFailed, spec.Name, exitReason(werr), a.stderrNote()))
		close(a.exited)
	}()
	return a.awaitHello(ctx, helloc)
}

// newAgent returns an agent of spec, with the defaults filled in.
func newAgent(spec Spec) *Agent {
	if spec.Name == "" {
		spec.Name = "agent"
	}
	if spec.HelloTimeout == 0 {
		spec.HelloTimeout = DefaultHelloTimeout
	}
	if spec.CallTimeout == 0 {
		spec.CallTimeout = DefaultCallTimeout
	}
	if spec.Grace == 0 {
		spec.Grace = DefaultGrace
	}
	return &Agent{spec: spec, pending: map[string]chan reply{}, exited: make(chan struct{}), stderr: &tailBuffer{max: 4096}}
}

// Attach drives an agent that is already running elsewhere, reached over
// conn (a TCP connection to a device's agent, say); spec.Packets opens its
// packet channel, which must travel apart from conn, and Path, Args and
// ControlFD are not used. greeting, when not empty, is written as the first
// line, before the hello is awaited (the agent's token). Closing the agent
// closes conn and the packet channel and leaves the agent running.
func Attach(ctx context.Context, spec Spec, conn io.ReadWriteCloser, greeting string) (*Agent, error) {
	a := newAgent(spec)
	spec = a.spec
	if spec.Packets == nil {
		conn.Close()
		return nil, fmt.Errorf("%s: no packet channel", spec.Name)
	}
	packets, err := spec.Packets()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: packet channel: %w", spec.Name, err)
	}
	if greeting != "" {
		if _, err := io.WriteString(conn, greeting+"\n"); err != nil {
			conn.Close()
			packets.Close()
			return nil, fmt.Errorf("%s: %w", spec.Name, err)
		}
	}
	a.stdin = conn
	a.link = newLink(packets, a)
	helloc := make(chan string, 1)
	go func() {
		a.read(conn, helloc)
		a.fail(fmt.Errorf("%w: %s closed its control connection", targets.ErrTargetFailed, spec.Name))
		close(a.exited)
	}()
	return a.awaitHello(ctx, helloc)
}

// awaitHello waits for the first line, which must be the agent's hello.
func (a *Agent) awaitHello(ctx context.Context, helloc <-chan string) (*Agent, error) {
	spec := a.spec
	t := time.NewTimer(spec.HelloTimeout)
	defer t.Stop()
	select {
	case line, ok := <-helloc:
		if !ok {
			select {
			case <-a.exited:
			case <-time.After(spec.HelloTimeout):
			}
			err := a.deadErr()
			a.Close()
			if err == nil {
				err = fmt.Errorf("%s closed its control channel before its hello%s", spec.Name, a.stderrNote())
			}
			return nil, err
		}
		h, err := parseHello(line)
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("%s: %w", spec.Name, err)
		}
		a.hello = h
		return a, nil
	case <-t.C:
		a.Close()
		return nil, fmt.Errorf("%s: no hello within %v: the agent hangs%s", spec.Name, spec.HelloTimeout, a.stderrNote())
	case <-ctx.Done():
		a.Close()
		return nil, ctx.Err()
	}
}

// socketPair returns our end, non-blocking, and the child's end.
func socketPair(typ int, name string) (ours, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	unix.SetNonblock(fds[0], true)
	return os.NewFile(uintptr(fds[0]), name), os.NewFile(uintptr(fds[1]), name+" (child)"), nil
}

func parseHello(line string) (Hello, error) {
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "hello" || f[1] != "tcpconform-agent" {
		return Hello{}, fmt.Errorf("expected a hello line, got %q", line)
	}
	v, err := strconv.Atoi(f[2])
	if err != nil || v != ProtocolVersion {
		return Hello{}, fmt.Errorf("agent speaks protocol %q, the harness %d", f[2], ProtocolVersion)
	}
	h := Hello{Version: v}
	if len(f) > 3 {
		h.Stack = f[3]
	}
	if len(f) > 4 {
		h.StackVersion = f[4]
	}
	if len(f) > 5 {
		h.Features = f[5:]
	}
	return h, nil
}

func exitReason(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// Hello returns what the agent announced.
func (a *Agent) Hello() Hello { return a.hello }

// Link returns the packet channel.
func (a *Agent) Link() *Link { return a.link }

// Pid is the agent's process id, or 0 for an attached agent (Attach).
func (a *Agent) Pid() int {
	if a.cmd == nil {
		return 0
	}
	return a.cmd.Process.Pid
}

// read dispatches reply lines; the first line goes to helloc.
func (a *Agent) read(r io.ReadCloser, helloc chan<- string) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			helloc <- line
			continue
		}
		id, rest, _ := strings.Cut(line, " ")
		f := strings.Fields(rest)
		var rp reply
		switch {
		case len(f) >= 1 && f[0] == "ok":
			rp.fields = f[1:]
		case len(f) >= 2 && f[0] == "err":
			rp.isErr = true
			rp.errno = errnoByName(f[1])
			rp.msg = strings.Join(f[2:], " ")
		default:
			a.fail(fmt.Errorf("%s: malformed reply %q", a.spec.Name, line))
			continue
		}
		a.mu.Lock()
		ch := a.pending[id]
		delete(a.pending, id)
		a.mu.Unlock()
		if ch != nil {
			ch <- rp
		}
	}
	if first {
		close(helloc)
	}
}

// fail records why the agent is unusable and fails the calls waiting on it.
// exitGrace is how long a request that could not be written waits for the
// agent's exit to be seen.
const exitGrace = time.Second

func (a *Agent) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dead == nil {
		a.dead = err
	}
	for id, ch := range a.pending {
		close(ch)
		delete(a.pending, id)
	}
}

func (a *Agent) deadErr() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dead
}

func (a *Agent) stderrNote() string {
	s := strings.TrimSpace(a.stderr.String())
	if s == "" {
		return ""
	}
	return "; stderr: " + s
}

// stage returns the data argument of a send: the hex itself, or, when the
// request would be longer than the agent takes at once, "@NAME" after the
// data has gone ahead in pieces with put requests, one at a time.
func (a *Agent) stage(hexData string) (string, error) {
	max := a.spec.MaxRequest - 64 // room for the id, verb and buffer name
	if a.spec.MaxRequest == 0 || len(hexData) <= max || !a.hello.Has("put") {
		return hexData, nil
	}
	max &^= 1 // whole bytes
	a.mu.Lock()
	a.nextID++
	name := "b" + strconv.FormatUint(a.nextID, 10)
	a.mu.Unlock()
	for len(hexData) > 0 {
		n := min(len(hexData), max)
		if _, err := a.Call("put", name, hexData[:n]); err != nil {
			return "", err
		}
		hexData = hexData[n:]
	}
	return "@" + name, nil
}

// Error is an errno-style result from the agent, with its explanation.
type Error struct {
	Errno syscall.Errno
	Msg   string
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return e.Errno.Error()
	}
	return e.Errno.Error() + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Errno }

// Call sends one request that cannot block and waits for the reply, at most
// CallTimeout. It returns the reply's fields after "ok", or a *Error (which
// unwraps to its syscall.Errno), or an error saying the agent is gone or
// hangs.
func (a *Agent) Call(verb string, args ...string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), a.spec.CallTimeout)
	defer cancel()
	f, err := a.call(ctx, false, verb, args...)
	if errors.Is(err, context.DeadlineExceeded) {
		// The stack under test stopped answering: that fails the case,
		// and the agent is not used again (a target starts a new one).
		err = fmt.Errorf("%w: %s: no reply to %s within %v: the agent hangs%s", targets.ErrTargetFailed, a.spec.Name, verb, a.spec.CallTimeout, a.stderrNote())
		a.fail(err)
		return nil, err
	}
	return f, err
}

// CallBlocking sends a request that may block (accept, connect, send, recv)
// and waits until it is answered or ctx is done; then it asks the agent to
// cancel it and returns ctx's error.
func (a *Agent) CallBlocking(ctx context.Context, verb string, args ...string) ([]string, error) {
	return a.call(ctx, true, verb, args...)
}

func (a *Agent) call(ctx context.Context, cancellable bool, verb string, args ...string) ([]string, error) {
	if a.spec.Barrier != nil {
		a.spec.Barrier()
	}
	a.mu.Lock()
	if a.dead != nil {
		err := a.dead
		a.mu.Unlock()
		return nil, err
	}
	a.nextID++
	id := strconv.FormatUint(a.nextID, 10)
	ch := make(chan reply, 1)
	a.pending[id] = ch
	a.mu.Unlock()

	line := id + " " + verb
	if len(args) > 0 {
		line += " " + strings.Join(args, " ")
	}
	a.wmu.Lock()
	_, err := io.WriteString(a.stdin, line+"\n")
	a.wmu.Unlock()
	if err != nil {
		a.forget(id)
		// A request that cannot be written means the agent has closed its
		// input: it is exiting or dead. Its exit, once seen, says why;
		// that is the stack's failure, not the harness's, however the
		// write and the exit race under load.
		select {
		case <-a.exited:
		case <-time.After(exitGrace):
		}
		if d := a.deadErr(); d != nil {
			return nil, d
		}
		return nil, fmt.Errorf("%w: %s stopped reading requests (write: %v)%s", targets.ErrTargetFailed, a.spec.Name, err, a.stderrNote())
	}
	select {
	case rp, ok := <-ch:
		return a.result(rp, ok)
	case <-ctx.Done():
		if !cancellable {
			a.forget(id)
			return nil, ctx.Err()
		}
		// Ask the agent to end the call and wait briefly for its answer, so
		// that the call is over before the caller goes on.
		a.Call("cancel", id)
		t := time.NewTimer(a.spec.CallTimeout)
		defer t.Stop()
		select {
		case rp, ok := <-ch:
			if ok && !rp.isErr { // it finished after all
				return a.result(rp, ok)
			}
		case <-t.C:
			a.forget(id)
		}
		return nil, ctx.Err()
	}
}

func (a *Agent) result(rp reply, ok bool) ([]string, error) {
	if !ok {
		if d := a.deadErr(); d != nil {
			return nil, d
		}
		return nil, fmt.Errorf("%s: gone", a.spec.Name)
	}
	if rp.isErr {
		return nil, &Error{Errno: rp.errno, Msg: rp.msg}
	}
	return rp.fields, nil
}

func (a *Agent) forget(id string) {
	a.mu.Lock()
	delete(a.pending, id)
	a.mu.Unlock()
}

// Close asks the agent to quit, kills its process group if it has not gone
// after the grace period, and closes the channels. It is safe to call more
// than once.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		wasDead := a.deadErr() != nil
		a.fail(fmt.Errorf("%s: closed", a.spec.Name))
		select {
		case <-a.exited:
		default:
			if a.cmd == nil { // attached: the agent is not ours to stop
				a.stdin.Close()
				<-a.exited
				break
			}
			if !wasDead {
				a.wmu.Lock()
				io.WriteString(a.stdin, "quit quit\n")
				a.wmu.Unlock()
			}
			a.stdin.Close()
			t := time.NewTimer(a.spec.Grace)
			select {
			case <-a.exited:
			case <-t.C:
				// The group leader is not reaped yet, so the group
				// is still the agent's.
				syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
				<-a.exited
			}
			t.Stop()
		}
		a.link.close()
	})
	return nil
}

// errnoByName reads the errno of a reply: a name or E<n>; anything else is
// EIO.
func errnoByName(name string) syscall.Errno {
	if e, ok := linuxabi.ParseErrno(name); ok {
		return e
	}
	return syscall.EIO
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
