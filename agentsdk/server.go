package agentsdk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
)

// ProtocolVersion is the version of docs/agent-protocol.md that Serve
// speaks.
const ProtocolVersion = 1

// Options configures Serve.
type Options struct {
	// Stack and Version name the stack in the hello line ("linux",
	// "6.1.0"); "" means "unknown".
	Stack, Version string
	// IPv4 and IPv6 announce that the stack has an address of that
	// family.
	IPv4, IPv6 bool
	// SynReceived announces that the backend's State also finds passive
	// connections in SYN-RECEIVED, before accept takes them.
	SynReceived bool
	// Packets is the packet channel (fd 3): each Read returns one
	// datagram the harness sent, each Write sends one. Nil means none: the
	// stack's packets travel some other way (a real NIC). With a channel
	// the backend must implement targets.Link.
	Packets io.ReadWriter
	// Log takes diagnostics; nil discards them.
	Log io.Writer
}

// Stater is implemented by backends that can tell connection states, as
// targets.Instance.State does.
type Stater interface {
	State(t targets.Tuple) (state.State, bool)
}

// Resetter is implemented by backends that give each case a fresh stack.
// Serve calls Reset once every pending call has ended, and then closes the
// sockets the harness still held, abortively (so a kernel whose Reset moved
// its device away sends nothing for them; a backend that made a new stack
// answers those closes EBADF, which Serve ignores). An error means the
// stack is unfit for another case.
type Resetter interface {
	Reset() error
}

// settler is implemented by backends that can wait until the stack has
// processed everything handed to it, as targets.Clock does.
type settler interface{ Settle() }

// Serve speaks the protocol: it writes the hello line to w, then answers
// the request lines read from r until a "quit" request, the end of r, or
// the end of the packet channel. It returns nil then, or the read error.
// Sockets still open when it returns are closed abortively.
func Serve(r io.Reader, w io.Writer, b targets.Sockets, opts Options) error {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	s := &server{
		b:     b,
		opts:  opts,
		out:   &replier{w: w},
		ctx:   ctx,
		socks: map[int]bool{},
		jobs:  map[string]*job{},
	}
	if opts.Packets != nil {
		link, isLink := b.(targets.Link)
		if !isLink {
			return errors.New("agentsdk: a packet channel needs a backend that implements targets.Link")
		}
		s.pk = newPackets(ctx, link, opts.Packets, s.logf)
	}
	defer s.finish()
	s.out.line(s.hello())

	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				select {
				case lines <- line:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				readErr <- err
				return
			}
		}
	}()
	var pkDone <-chan struct{}
	if s.pk != nil {
		pkDone = s.pk.done
	}
	for {
		select {
		case line := <-lines:
			if s.handle(line) {
				return nil
			}
		case err := <-readErr:
			return err
		case <-pkDone:
			return nil
		}
	}
}

// server is the state of one Serve call.
type server struct {
	b    targets.Sockets
	opts Options
	out  *replier
	ctx  context.Context
	pk   *packets // nil without a packet channel

	mu    sync.Mutex
	socks map[int]bool    // descriptors the harness holds
	jobs  map[string]*job // calls in flight, by request id
	// staged holds data gathered by put for a later send, by name.
	staged map[string][]byte
}

func (s *server) logf(format string, args ...any) {
	fmt.Fprintf(s.opts.Log, "agentsdk: "+format+"\n", args...)
}

// hello is the hello line: the features follow what the backend
// implements.
func (s *server) hello() string {
	name := func(v string) string {
		if v == "" {
			return "unknown"
		}
		return strings.Join(strings.Fields(v), "_")
	}
	f := []string{"hello", "tcpconform-agent", strconv.Itoa(ProtocolVersion), name(s.opts.Stack), name(s.opts.Version)}
	for _, feat := range []struct {
		name string
		has  bool
	}{
		{"ipv4", s.opts.IPv4},
		{"ipv6", s.opts.IPv6},
		{"state", implements[Stater](s.b)},
		{"syn-received", implements[Stater](s.b) && s.opts.SynReceived},
		{"settle", s.pk != nil},
		{"put", true},
		{"tcpinfo", implements[targets.TCPInfo](s.b)},
		{"sysctl", implements[targets.Sysctls](s.b)},
		{"flags", implements[targets.FlaggedIO](s.b)},
		{"shell", implements[targets.Shell](s.b)},
		{"reset", implements[Resetter](s.b)},
	} {
		if feat.has {
			f = append(f, feat.name)
		}
	}
	return strings.Join(f, " ")
}

func implements[T any](b targets.Sockets) bool {
	_, yes := b.(T)
	return yes
}

// handle answers one request line, or starts answering it; it reports
// whether the line was a quit.
func (s *server) handle(line string) (quit bool) {
	req, err := ParseRequest(line)
	if err != nil {
		s.out.send("?", fail(syscall.EINVAL, err.Error()))
		return false
	}
	if req.ID == "" {
		return false // a blank line
	}
	switch req.Verb {
	case "quit":
		s.out.send(req.ID, ok())
		return true
	case "ping":
		s.out.send(req.ID, ok())
	case "cancel":
		s.out.send(req.ID, s.doCancel(req.Args))
	case "reset":
		s.out.send(req.ID, s.doReset())
	case "close":
		s.doClose(req)
	default:
		v, known := verbs[req.Verb]
		if !known {
			s.out.send(req.ID, fail(syscall.ENOSYS, "unknown request "+req.Verb))
			return false
		}
		if len(req.Args) < v.min || len(req.Args) > v.max {
			s.out.send(req.ID, fail(syscall.EINVAL, "usage: "+req.Verb+" "+v.usage))
			return false
		}
		if !v.blocks {
			s.out.send(req.ID, v.do(s, context.Background(), req.Args))
			return false
		}
		s.start(req, v)
	}
	return false
}

// job is a call in flight on a goroutine of its own.
type job struct {
	fd     int // the socket it waits on, or -1
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// errCancelled is the cause of a cancel request's cancellation.
var errCancelled = fmt.Errorf("cancelled: %w", syscall.EINTR)

// errSocketClosed ends the calls waiting on a socket that is closed.
var errSocketClosed = fmt.Errorf("socket closed: %w", syscall.EBADF)

// start runs a call that may block on a goroutine; the job is pending, and
// can be cancelled, as soon as start returns.
func (s *server) start(req Request, v verb) {
	ctx, cancel := context.WithCancelCause(s.ctx)
	j := &job{fd: -1, cancel: cancel, done: make(chan struct{})}
	if len(req.Args) > 0 && req.Verb != "settle" && req.Verb != "shell" { // their argument is no socket
		if fd, err := strconv.Atoi(req.Args[0]); err == nil {
			j.fd = fd
		}
	}
	s.mu.Lock()
	if s.jobs[req.ID] != nil {
		s.mu.Unlock()
		cancel(nil)
		s.out.send(req.ID, fail(syscall.EINVAL, "request id already in flight"))
		return
	}
	s.jobs[req.ID] = j
	s.mu.Unlock()
	go func() {
		res := v.do(s, ctx, req.Args)
		if why := context.Cause(ctx); why != nil && res.failed {
			// The call ended because it was cancelled: say why.
			res = failErr(why)
			res.msg = strings.TrimSuffix(why.Error(), ": "+res.errno.Error())
		}
		s.mu.Lock()
		delete(s.jobs, req.ID)
		s.mu.Unlock()
		cancel(nil)
		s.out.send(req.ID, res)
		close(j.done)
	}()
}

func (s *server) doCancel(args []string) result {
	if len(args) != 1 {
		return fail(syscall.EINVAL, "usage: cancel ID")
	}
	s.mu.Lock()
	j := s.jobs[args[0]]
	s.mu.Unlock()
	if j == nil {
		return fail(syscall.ENOENT, "no such pending request")
	}
	j.cancel(errCancelled)
	return ok()
}

// cancelJobs cancels the jobs that match with cause why, and waits until
// they have answered, at most max if max >= 0.
func (s *server) cancelJobs(match func(*job) bool, why error, max time.Duration) {
	s.mu.Lock()
	var js []*job
	for _, j := range s.jobs {
		if match(j) {
			js = append(js, j)
		}
	}
	s.mu.Unlock()
	var deadline <-chan time.Time
	if max >= 0 {
		t := time.NewTimer(max)
		defer t.Stop()
		deadline = t.C
	}
	for _, j := range js {
		j.cancel(why)
	}
	for _, j := range js {
		select {
		case <-j.done:
		case <-deadline:
			return
		}
	}
}

func all(*job) bool { return true }

// doReset ends every pending call, lets the backend renew its stack, and
// closes every socket the harness held.
func (s *server) doReset() result {
	s.cancelJobs(all, errCancelled, -1)
	s.mu.Lock()
	s.staged = nil
	s.mu.Unlock()
	var err error
	if r, can := s.b.(Resetter); can {
		err = r.Reset()
	}
	s.closeAll()
	if err != nil {
		s.logf("reset: %v", err)
		return fail(syscall.EIO, "reset: "+err.Error())
	}
	return ok()
}

// finish runs when Serve returns: like reset without the backend's part,
// and a call that does not end soon is left behind.
func (s *server) finish() {
	s.out.stop()
	s.cancelJobs(all, errCancelled, time.Second)
	s.closeAll()
}

// closeAll closes the harness's sockets abortively (SO_LINGER with a zero
// time, where the backend takes it).
func (s *server) closeAll() {
	s.mu.Lock()
	socks := s.socks
	s.socks = map[int]bool{}
	s.mu.Unlock()
	raw, _ := s.b.(targets.RawSockopts)
	for fd := range socks {
		if raw != nil {
			raw.SetsockoptBytes(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, lingerBytes(1, 0))
		}
		s.b.Close(fd)
	}
}
