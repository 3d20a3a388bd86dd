package agent

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
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

func TestRepliesHangAndCrash(t *testing.T) {
	// Answers "1 ..." with an error, ignores the second request, and dies on
	// the third.
	a, err := Start(context.Background(), sh(`echo hello tcpconform-agent 1 fake 0 ipv4
read id rest; echo "$id err EAGAIN try later"
read id rest
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
	if _, err := a.Call("listen", "1", "5"); err == nil || !strings.Contains(err.Error(), "hangs") {
		t.Errorf("second call: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = a.CallBlocking(ctx, "accept", "1")
	if err == nil || !strings.Contains(err.Error(), "exit status 7") || !strings.Contains(err.Error(), "dying") {
		t.Errorf("third call: %v", err)
	}
	if _, err := a.Link().Next(ctx); err == nil || !strings.Contains(err.Error(), "exit status 7") {
		t.Errorf("link after the crash: %v", err)
	}
}
