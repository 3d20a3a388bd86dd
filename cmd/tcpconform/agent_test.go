package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// The agent refuses to serve where it must not: on a wildcard address, off
// loopback without a token, or on two transports at once.
func TestAgentRefusals(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"-listen", "0.0.0.0:7000", "-token", "s3cret"}, "wildcard"},
		{[]string{"-listen", "192.0.2.1:7000", "-token", ""}, "token is needed"},
		{[]string{"-listen", "127.0.0.1:7000", "-serial", "/dev/null"}, "usage"},
		{[]string{"extra"}, "usage"},
	} {
		var out, errs strings.Builder
		code := cmdAgent(context.Background(), c.args, &out, &errs)
		if code != exitError || !strings.Contains(errs.String(), c.says) {
			t.Errorf("agent %q: exit %d, stderr %q; want %d and %q", c.args, code, errs.String(), exitError, c.says)
		}
	}
}

// With -listen and a token, a harness that sends the token gets the
// kernel agent's hello and answers; the agent stops with its context.
func TestAgentListens(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errs strings.Builder
	go func() { done <- cmdAgent(ctx, []string{"-listen", addr, "-token", "s3cret"}, io.Discard, &errs) }()
	var c net.Conn
	for i := 0; i < 50; i++ {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "token s3cret\n1 ping\n")
	r := bufio.NewReader(c)
	for _, want := range []string{"hello tcpconform-agent 1 linux ", "1 ok"} {
		if line, err := r.ReadString('\n'); !strings.HasPrefix(line, want) {
			t.Errorf("got %q, %v; want %q...", line, err, want)
		}
	}
	stop()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("agent exit %d after its context ended; stderr %q", code, errs.String())
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the agent did not stop with its context")
	}
}
