package kernelagent

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpconform/tcpconform/agentsdk"
	"github.com/tcpconform/tcpconform/internal/posix"
)

// loUp brings lo up in the calling thread's namespace.
func loUp() error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	r, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, r); err != nil {
		return err
	}
	r.SetUint16(r.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, r)
}

// The kernel's sockets, served over the protocol in a namespace of the
// test's own: a connection over loopback, its state, a sysctl that reset
// puts back, and a reset that closes what the harness held.
func TestKernelBackendOverTheProtocol(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a network namespace of the test's own needs root")
	}
	th, err := posix.NewThread()
	if err != nil {
		t.Fatal(err)
	}
	defer th.Stop()
	if err := th.Do(loUp); err != nil {
		t.Fatal(err)
	}
	b := New(Config{Stack: posix.New(th), Sysctls: true})
	defer b.Release()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	go agentsdk.Serve(inR, outW, b, agentsdk.Options{Stack: "linux", IPv4: true})
	defer inW.Close()
	lines := bufio.NewScanner(outR)
	next := func() string {
		got := make(chan string, 1)
		go func() {
			lines.Scan()
			got <- lines.Text()
		}()
		select {
		case l := <-got:
			return l
		case <-time.After(5 * time.Second):
			t.Fatal("no reply within 5 s")
		}
		return ""
	}
	if hello := next(); !strings.Contains(hello, " sysctl") || !strings.Contains(hello, " reset") || !strings.Contains(hello, " state") {
		t.Errorf("hello %q", hello)
	}
	sack := func() string {
		var v []byte
		th.Do(func() (err error) { v, err = os.ReadFile("/proc/sys/net/ipv4/tcp_sack"); return })
		return strings.TrimSpace(string(v))
	}
	was := sack()
	fds := map[string]string{}
	for _, c := range []struct{ req, want string }{
		{"1 socket inet", "1 ok L"},
		{"2 bind L 127.0.0.1 8080", "2 ok"},
		{"3 listen L 1", "3 ok"},
		{"4 socket inet", "4 ok C"},
		{"5 connect C 127.0.0.1 8080", "5 ok"},
		{"6 accept L", "6 ok A 127.0.0.1 *"},
		{"7 send C 6869", "7 ok 2"},
		{"8 recv A 10", "8 ok 2 6869"},
		{"8a sendto C 64 6869", "8a ok 2"},       // MSG_DONTWAIT
		{"8b recvfrom A 10 2", "8b ok 2 6869"},   // MSG_PEEK
		{"8c recv A 10", "8c ok 2 6869"},         // still there
		{"8d recvfrom A 10 64", "8d err EAGAIN"}, // nothing now
		{"9 state 127.0.0.1 8080 -", "9 ok LISTEN"},
		{"10 sysctl net.ipv4.tcp_sack 0", "10 ok"},
		{"11 getsockopt C error", "11 ok 0"},
		{"12 reset", "12 ok"},
		{"13 send C 00", "13 err EBADF"},
		{"14 state 127.0.0.1 8080 -", "14 err ENOENT no such connection"},
	} {
		req := c.req
		for name, fd := range fds {
			req = strings.ReplaceAll(req, " "+name, " "+fd)
		}
		io.WriteString(inW, req+"\n")
		got, want := strings.Fields(next()), strings.Fields(c.want)
		good := len(got) == len(want)
		for i := 0; good && i < len(want); i++ {
			switch {
			case len(want[i]) == 1 && want[i] >= "A" && want[i] <= "Z":
				fds[want[i]] = got[i]
			case want[i] != "*" && want[i] != got[i]:
				good = false
			}
		}
		if !good {
			t.Fatalf("%q: got %q, want %q", req, got, c.want)
		}
		if c.req == "10 sysctl net.ipv4.tcp_sack 0" && sack() != "0" {
			t.Errorf("tcp_sack is %q after the sysctl request", sack())
		}
	}
	if sack() != was {
		t.Errorf("tcp_sack is %q after reset, was %q", sack(), was)
	}
}

// A shell command runs and its output comes back; a failing one fails.
func TestWithShell(t *testing.T) {
	s := WithShell{New(Config{Stack: posix.New(posix.Here())})}
	out, err := s.RunShell(context.Background(), "echo hi; echo there >&2", "")
	if err != nil || string(out) != "hi\nthere\n" {
		t.Errorf("echo: %q, %v", out, err)
	}
	if _, err := s.RunShell(context.Background(), "exit 3", ""); err == nil {
		t.Errorf("exit 3 did not fail")
	}
}
