package kernelagent

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestCheckListen(t *testing.T) {
	for _, c := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:7000", "", true},
		{"[::1]:7000", "", true},
		{"192.0.2.1:7000", "s3cret", true},
		{"192.0.2.1:7000", "", false}, // off loopback without a token
		{"0.0.0.0:7000", "s3cret", false},
		{"[::]:7000", "s3cret", false},
		{":7000", "s3cret", false},
		{"localhost:7000", "", false},
	} {
		if _, err := CheckListen(c.addr, c.token); (err == nil) != c.ok {
			t.Errorf("CheckListen(%q, %q) = %v, want ok %v", c.addr, c.token, err, c.ok)
		}
	}
}

func TestTokenMatches(t *testing.T) {
	for _, c := range []struct {
		line, secret string
		ok           bool
	}{
		{"token abc\n", "abc", true},
		{"token abd\n", "abc", false},
		{"token abc extra\n", "abc", false},
		{"abc\n", "abc", false},
		{"token \n", "", false},
		{"token x\n", "", false},
	} {
		if got := TokenMatches(c.line, c.secret); got != c.ok {
			t.Errorf("TokenMatches(%q, %q) = %v, want %v", c.line, c.secret, got, c.ok)
		}
	}
}

// A connection with the right token is served, one with a wrong one is
// refused, and one while another is served is told the agent is busy.
func TestListenerTokenAndOneAtATime(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	release := make(chan struct{})
	lis := &Listener{L: l, Token: "s3cret", Logf: t.Logf, Serve: func(c Conn) error {
		io.WriteString(c.Writer, "hello\n")
		<-release
		return nil
	}}
	go lis.Run()
	dial := func(first string) string {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, first)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.TrimSpace(line)
	}
	if got := dial("token wrong\n"); got != "? err EACCES bad token" {
		t.Errorf("wrong token: %q", got)
	}
	if got := dial("token s3cret\n"); got != "hello" {
		t.Errorf("right token: %q", got)
	}
	if got := dial("token s3cret\n"); got != "? err EBUSY another harness is connected" {
		t.Errorf("second harness: %q", got)
	}
	close(release)
}
