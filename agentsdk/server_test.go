package agentsdk

import (
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The hello line announces only the features the backend implements.
func TestHelloFollowsTheBackend(t *testing.T) {
	s := serve(t, newFake(), Options{Stack: "fake", Version: "1.0", IPv4: true})
	if got, want := s.reply(), "hello tcpconform-agent 1 fake 1.0 ipv4 put"; got != want {
		t.Errorf("bare backend: hello %q, want %q", got, want)
	}
	full := serve(t, fakeFull{newFake(), make(chan []byte, 8)}, Options{IPv6: true})
	got := strings.Fields(full.reply())
	for _, feat := range []string{"ipv6", "state", "reset", "put"} {
		if !slices.Contains(got, feat) {
			t.Errorf("full backend: hello %q lacks %s", got, feat)
		}
	}
	for _, feat := range []string{"ipv4", "settle", "tcpinfo", "sysctl", "shell", "syn-received"} {
		if slices.Contains(got, feat) {
			t.Errorf("full backend without a packet channel: hello %q has %s", got, feat)
		}
	}
	syn := serve(t, fakeFull{newFake(), make(chan []byte, 8)}, Options{SynReceived: true})
	if got := strings.Fields(syn.reply()); !slices.Contains(got, "syn-received") {
		t.Errorf("a Stater whose states include SYN-RECEIVED: hello %q lacks syn-received", got)
	}
	if got := strings.Fields(serve(t, newFake(), Options{SynReceived: true}).reply()); slices.Contains(got, "syn-received") {
		t.Errorf("no Stater, yet hello %q has syn-received", got)
	}
	if got[3] != "unknown" {
		t.Errorf("no stack name: %q, want unknown", got[3])
	}
}

// Requests reach the backend and its answers come back in the protocol's
// form; bad lines get the errors the protocol names.
func TestRequestsAndErrors(t *testing.T) {
	s := serve(t, newFake(), Options{Stack: "fake", IPv4: true})
	s.reply()
	for _, c := range [][2]string{
		{"1 socket inet", "1 ok 4"},
		{"2 bind 4 192.0.2.1 8080", "2 ok"},
		{"3 connect 4 192.0.2.2 80", "3 ok"},
		{"4 send 4 68656c6c6f", "4 ok 5"},
		{"5 recv 4 100", "5 ok 2 6869"},
		{"6 sockname 4", "6 ok 192.0.2.1 8080"},
		{"7 peername 4", "7 err ENOTCONN"},
		{"8 getsockopt 4 nodelay", "8 ok 42"},
		{"9 getsockopt 4 frobnicate", "9 err ENOPROTOOPT unknown option frobnicate"},
		{"10 connect 4 192.0.2.2 1", "10 err ECONNREFUSED"},
		{"11 frobnicate", "11 err ENOSYS unknown request frobnicate"},
		{"12 bind 4", "12 err EINVAL usage: bind FD ADDR PORT"},
		{"13 bind 4 nowhere 1", "13 err EINVAL bad address"},
		{"14 close 0", "14 err EBADF"}, // not the harness's: never reached
		{"onlyid", "? err EINVAL malformed request"},
		{"15 put a 6869", "15 ok 2"},
		{"16 put a 21", "16 ok 3"},
		{"17 send 4 @a", "17 ok 3"},
		{"18 send 4 @a", "18 err EINVAL nothing put under a"},
		{"19 state 192.0.2.1 8080 -", "19 err ENOSYS the stack tells no states"},
		{"20 sysctl net.ipv4.tcp_sack 0", "20 err EOPNOTSUPP the stack has no sysctls"},
		{"21 setsockopt 4 linger 1 0", "21 ok"},
		{"22 close 4", "22 ok"},
		{"23 send 4 00", "23 err EBADF"},
		{"", ""},
		{"24 ping", "24 ok"},
	} {
		if c[0] == "" {
			s.send("") // a blank line: no reply, so the next is 24's
			continue
		}
		s.ask(c[0], c[1])
	}
	s.ask("q quit", "q ok")
	select {
	case err := <-s.served:
		if err != nil {
			t.Errorf("Serve after quit: %v", err)
		}
		s.served <- err
	case <-time.After(5 * time.Second):
		t.Errorf("Serve did not return after quit")
	}
}

// A waiting call does not hold up others, and cancel ends it with EINTR;
// closing a socket ends the calls waiting on it with EBADF.
func TestBlockingCallsAndCancel(t *testing.T) {
	s := serve(t, newFake(), Options{})
	s.reply()
	s.ask("1 socket inet6", "1 ok 4")
	s.send("c connect 4 2001:db8::2 9")
	s.ask("p ping", "p ok")
	s.ask("x cancel c", "x ok")
	if got := s.reply(); got != "c err EINTR cancelled" {
		t.Errorf("cancelled connect: %q", got)
	}
	s.ask("y cancel c", "y err ENOENT no such pending request")
	s.send("a accept 4")
	s.send("z close 4")
	got := []string{s.reply(), s.reply()}
	slices.Sort(got)
	if want := []string{"a err EBADF socket closed", "z ok"}; !slices.Equal(got, want) {
		t.Errorf("close under a waiting accept: %q, want %q", got, want)
	}
}

// reset ends waiting calls, lets the backend renew itself, and closes what
// the harness held abortively.
func TestReset(t *testing.T) {
	f := fakeFull{newFake(), make(chan []byte, 8)}
	s := serve(t, f, Options{})
	s.reply()
	s.ask("1 socket inet", "1 ok 4")
	s.ask("2 socket inet", "2 ok 5")
	s.send("a accept 5")
	s.send("r reset")
	if got := []string{s.reply(), s.reply()}; !slices.Equal(got, []string{"a err EINTR cancelled", "r ok"}) {
		t.Errorf("reset: %q", got)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	slices.Sort(f.closed)
	if f.resets != 1 || !slices.Equal(f.closed, []int{4, 5}) || len(f.linger[4]) != 8 || f.linger[4][0] != 1 {
		t.Errorf("after reset: %d resets, closed %v, linger %x", f.resets, f.closed, f.linger[4])
	}
	s.ask("3 state 192.0.2.1 80 192.0.2.2 1000", "3 ok ESTABLISHED")
	s.ask("4 state 192.0.2.1 80 -", "4 err ENOENT no such connection")
}

// Packets written on the channel reach the stack, what it emits comes
// back one datagram each, and settle counts them.
func TestPacketChannelAndSettle(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	agentEnd := os.NewFile(uintptr(fds[0]), "agent")
	harness, err := net.FileConn(os.NewFile(uintptr(fds[1]), "harness"))
	if err != nil {
		t.Fatal(err)
	}
	defer harness.Close()
	s := serve(t, fakeFull{newFake(), make(chan []byte, 8)}, Options{Packets: agentEnd})
	t.Cleanup(func() { agentEnd.Close() })
	if hello := s.reply(); !strings.Contains(hello, " settle") {
		t.Errorf("hello with a packet channel lacks settle: %q", hello)
	}
	for _, p := range []string{"abc", "defg"} {
		if _, err := harness.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	s.ask("s settle 2", "s ok 2")
	harness.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, want := range []string{"cba", "gfed"} {
		buf := make([]byte, 100)
		n, err := harness.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Errorf("emitted packet: %q, %v; want %q", buf[:n], err, want)
		}
	}
}

// FuzzServe feeds any input to a server over a fake stack: it must answer
// every request line with a line of the protocol's form and return at the
// end of the input, never panic or hang.
func FuzzServe(f *testing.F) {
	for _, seed := range []string{
		"1 socket inet\n2 bind 4 192.0.2.1 80\n3 listen 4 1\n4 accept 4\n5 cancel 4\n6 close 4\n",
		"1 socket inet6 nonblock\n2 connect 4 2001:db8::2 9\n3 reset\n",
		"x put a 00\ny send 4 @a\nz sendto 4 64 - 192.0.2.2 1\n",
		"1 setsockopt 4 linger 1\n2 getsockopt 99 linger\n3 state a b c d\n4 settle 1\n5 shell 41\n",
		"\n\n  \n? ? ?\n" + strings.Repeat("y", 70) + " ping\n1 quit\n2 ping\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		var out strings.Builder
		served := make(chan error, 1)
		go func() { served <- Serve(strings.NewReader(input), &lockedWriter{w: &out}, newFake(), Options{}) }()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Fatalf("Serve hangs on %q", input)
		}
		for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")[1:] {
			f := strings.Fields(l)
			if len(f) < 2 || f[1] != "ok" && (f[1] != "err" || len(f) < 3 || !strings.HasPrefix(f[2], "E")) {
				t.Fatalf("reply %q to %q is not of the protocol's form", l, input)
			}
		}
	})
}

// lockedWriter lets the fuzz test read what Serve wrote, after it returned.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
