package agent

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/targets"
)

// sh runs a shell script as the agent.
func sh(script string) Spec {
	return Spec{Name: "test agent", Path: "/bin/sh", Args: []string{"-c", script},
		HelloTimeout: 300 * time.Millisecond, CallTimeout: 300 * time.Millisecond, Grace: 100 * time.Millisecond}
}

func TestExitBeforeHello(t *testing.T) {
	_, err := Start(context.Background(), sh("echo broken >&2; exit 3"))
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("err = %v", err)
	}
}

func TestNoHello(t *testing.T) {
	_, err := Start(context.Background(), sh("exec sleep 10"))
	if err == nil || !strings.Contains(err.Error(), "no hello") {
		t.Fatalf("err = %v", err)
	}
}

func TestWrongVersion(t *testing.T) {
	_, err := Start(context.Background(), sh("echo hello tcpconform-agent 99 x; exec sleep 10"))
	if err == nil || !strings.Contains(err.Error(), "protocol") {
		t.Fatalf("err = %v", err)
	}
}

func TestRepliesAndCrash(t *testing.T) {
	// Answers "1 ..." with an error, and dies on the second request.
	a, err := Start(context.Background(), sh(`echo hello tcpconform-agent 1 fake 0 ipv4
read id rest; echo "$id err EAGAIN try later"
read id rest; echo dying >&2; exit 7`))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Hello().Stack != "fake" || !a.Hello().Has("ipv4") {
		t.Errorf("hello = %+v", a.Hello())
	}
	_, err = a.Call("socket", "inet")
	var e *Error
	if !errors.As(err, &e) || e.Errno != syscall.EAGAIN || e.Msg != "try later" {
		t.Errorf("first call: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = a.CallBlocking(ctx, "accept", "1")
	if err == nil || !strings.Contains(err.Error(), "exit status 7") || !strings.Contains(err.Error(), "dying") {
		t.Errorf("second call: %v", err)
	}
	if _, err := a.Link().Next(ctx); err == nil || !strings.Contains(err.Error(), "exit status 7") {
		t.Errorf("link after the crash: %v", err)
	}
}

// An agent that stops answering fails the call as the target's failure,
// and every call after it, without waiting again.
func TestHungAgentIsNotUsedAgain(t *testing.T) {
	a, err := Start(context.Background(), sh(`echo hello tcpconform-agent 1 fake 0 ipv4
echo stuck >&2; exec sleep 10`))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = a.Call("listen", "1", "5")
	if !errors.Is(err, targets.ErrTargetFailed) || !strings.Contains(err.Error(), "hangs") || !strings.Contains(err.Error(), "stuck") {
		t.Errorf("call to a hung agent: %v", err)
	}
	begin := time.Now()
	if _, err := a.Call("ping"); !errors.Is(err, targets.ErrTargetFailed) || time.Since(begin) > 100*time.Millisecond {
		t.Errorf("the next call: %v after %v", err, time.Since(begin))
	}
}

// Over a control line with a length limit, a long send goes ahead in put
// requests no longer than the limit, one at a time, then sends them as one.
// The fake agent logs each request line's length and answers everything.
func TestLongSendIsPut(t *testing.T) {
	spec := sh(`echo hello tcpconform-agent 1 fake 0 ipv4 put
while read -r id verb a b; do
  echo "$verb ${#b}" >&2
  case $verb in send) echo "$id ok 3000";; *) echo "$id ok";; esac
done`)
	spec.MaxRequest = 1000
	a, err := Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	n, err := Sockets{a}.Write(context.Background(), 5, make([]byte, 3000))
	if err != nil || n != 3000 {
		t.Fatalf("write = %d, %v", n, err)
	}
	time.Sleep(50 * time.Millisecond)
	// 6000 hex digits in pieces of at most 936, then one send of "@NAME".
	want := "put 936,put 936,put 936,put 936,put 936,put 936,put 384,send 3"
	if got := strings.ReplaceAll(strings.TrimSpace(a.stderr.String()), "\n", ","); got != want {
		t.Errorf("requests: %s\nwant      %s", got, want)
	}
}
