package lwip

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent/agenttest"
)

func newInstance(t *testing.T) targets.Instance {
	t.Helper()
	if err := (Target{}).Available(); err != nil {
		t.Skipf("lwip target unavailable: %v", err)
	}
	if _, err := Binary(); err != nil { // build outside the timings
		t.Fatal(err)
	}
	begin := time.Now()
	in, err := Target{}.New(context.Background(), targets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("agent started in %v", time.Since(begin))
	t.Cleanup(func() { in.Close() })
	return in
}

func TestSynGetsSynAck(t *testing.T) { agenttest.SynGetsSynAck(t, newInstance) }

func TestUnknownRequestAndDeadAgent(t *testing.T) {
	in := newInstance(t)
	so := in.Sockets()
	if _, err := so.Socket(12345, syscall.SOCK_STREAM, 0); err != syscall.EAFNOSUPPORT {
		t.Errorf("bad domain: %v", err)
	}
	if err := so.Close(999); err == nil {
		t.Errorf("close of a bad fd succeeded")
	}
	begin := time.Now()
	in.Close()
	t.Logf("closed in %v", time.Since(begin))
	if _, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0); err == nil {
		t.Errorf("socket after close succeeded")
	} else {
		t.Logf("after close: %v", err)
	}
}

// BenchmarkInstanceStart measures starting a fresh agent (one per case).
func BenchmarkInstanceStart(b *testing.B) {
	if err := (Target{}).Available(); err != nil {
		b.Skipf("lwip target unavailable: %v", err)
	}
	if _, err := Binary(); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		in, err := Target{}.New(context.Background(), targets.Config{})
		if err != nil {
			b.Fatal(err)
		}
		in.Close()
	}
}

// BenchmarkScript is the cost of one script case, agent start included.
func BenchmarkScript(b *testing.B) { agenttest.BenchmarkScript(b, Target{}, "passive-open.pkt") }
