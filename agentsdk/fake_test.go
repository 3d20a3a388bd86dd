package agentsdk

import (
	"bufio"
	"context"
	"io"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
)

// fakeStack is a stack of make-believe sockets: connect to port 9 and
// accept wait until cancelled, reads return "hi", and writes take
// everything.
type fakeStack struct {
	mu     sync.Mutex
	next   int
	open   map[int]bool
	closed []int
	linger map[int][]byte
	resets int
}

func newFake() *fakeStack {
	return &fakeStack{next: 3, open: map[int]bool{}, linger: map[int][]byte{}}
}

func (f *fakeStack) fd(fd int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.open[fd] {
		return syscall.EBADF
	}
	return nil
}

func (f *fakeStack) Socket(domain, typ, proto int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if domain != syscall.AF_INET && domain != syscall.AF_INET6 {
		return -1, syscall.EAFNOSUPPORT
	}
	f.next++
	f.open[f.next] = true
	return f.next, nil
}

func (f *fakeStack) Bind(fd int, addr netip.AddrPort) error { return f.fd(fd) }
func (f *fakeStack) Listen(fd int, backlog int) error       { return f.fd(fd) }

func (f *fakeStack) Accept(ctx context.Context, fd int) (int, netip.AddrPort, error) {
	<-ctx.Done()
	return -1, netip.AddrPort{}, ctx.Err()
}

func (f *fakeStack) Connect(ctx context.Context, fd int, addr netip.AddrPort) error {
	if addr.Port() == 9 {
		<-ctx.Done()
		return ctx.Err()
	}
	if addr.Port() == 1 {
		return syscall.ECONNREFUSED
	}
	return f.fd(fd)
}

func (f *fakeStack) Read(ctx context.Context, fd int, n int) ([]byte, error) {
	return []byte("hi")[:min(n, 2)], f.fd(fd)
}

func (f *fakeStack) Write(ctx context.Context, fd int, b []byte) (int, error) {
	return len(b), f.fd(fd)
}

func (f *fakeStack) Shutdown(fd int, how int) error { return f.fd(fd) }

func (f *fakeStack) Close(fd int) error {
	if err := f.fd(fd); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.open, fd)
	f.closed = append(f.closed, fd)
	return nil
}

func (f *fakeStack) SetNonblock(fd int, nonblocking bool) error { return f.fd(fd) }
func (f *fakeStack) SetsockoptInt(fd, level, name, value int) error {
	return f.fd(fd)
}
func (f *fakeStack) GetsockoptInt(fd, level, name int) (int, error) { return 42, f.fd(fd) }
func (f *fakeStack) LocalAddr(fd int) (netip.AddrPort, error) {
	return netip.MustParseAddrPort("192.0.2.1:8080"), f.fd(fd)
}
func (f *fakeStack) RemoteAddr(fd int) (netip.AddrPort, error) {
	return netip.AddrPort{}, syscall.ENOTCONN
}

// SetsockoptBytes records linger settings.
func (f *fakeStack) SetsockoptBytes(fd, level, name int, value []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.linger[fd] = value
	return nil
}

// fakeFull adds states, resets and a packet side: every injected packet
// comes back reversed.
type fakeFull struct {
	*fakeStack
	out chan []byte
}

func (f fakeFull) State(t targets.Tuple) (state.State, bool) {
	if t.Remote.IsValid() {
		return state.Established, true
	}
	return 0, false
}

func (f fakeFull) Reset() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets++
	return nil
}

func (f fakeFull) Inject(pkt []byte) error {
	r := make([]byte, len(pkt))
	for i, c := range pkt {
		r[len(pkt)-1-i] = c
	}
	f.out <- r
	return nil
}

func (f fakeFull) Poll() (targets.Packet, bool) {
	select {
	case p := <-f.out:
		return targets.Packet{At: time.Now(), Data: p}, true
	default:
		return targets.Packet{}, false
	}
}

func (f fakeFull) Next(ctx context.Context) (targets.Packet, error) {
	select {
	case p := <-f.out:
		return targets.Packet{At: time.Now(), Data: p}, nil
	case <-ctx.Done():
		return targets.Packet{}, ctx.Err()
	}
}

// session runs Serve over pipes and reads its replies.
type session struct {
	t      *testing.T
	in     *io.PipeWriter
	lines  chan string
	served chan error
}

func serve(t *testing.T, b targets.Sockets, opts Options) *session {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &session{t: t, in: inW, lines: make(chan string, 100), served: make(chan error, 1)}
	go func() {
		s.served <- Serve(inR, outW, b, opts)
		outW.Close()
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-s.served:
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return after the end of its input")
		}
	})
	return s
}

// reply reads the next line.
func (s *session) reply() string {
	s.t.Helper()
	select {
	case l, open := <-s.lines:
		if !open {
			s.t.Fatalf("the agent closed its output")
		}
		return l
	case <-time.After(5 * time.Second):
		s.t.Fatalf("no reply within 5 s")
	}
	return ""
}

// ask sends a line and checks the next reply.
func (s *session) ask(line, want string) {
	s.t.Helper()
	s.send(line)
	if got := s.reply(); got != want {
		s.t.Errorf("%q: got %q, want %q", line, got, want)
	}
}

func (s *session) send(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		s.t.Fatalf("writing %q: %v", line, err)
	}
}
