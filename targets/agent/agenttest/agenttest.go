// Package agenttest holds the checks every agent-driven target's tests run
// (lwip, uml): the same handshake seen on the wire and in the states, and a
// killed stack failing only its own case.
package agenttest

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/suites"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// SynGetsSynAck checks, in both families, that a listener reads LISTEN, a
// SYN draws a SYN-ACK that acknowledges it, the new connection reads
// SYN-RECEIVED, and a blocking accept with nothing to accept ends with its
// context. newInstance makes a fresh instance (and skips where the target
// is missing).
func SynGetsSynAck(t *testing.T, newInstance func(t *testing.T) targets.Instance) {
	for _, v6 := range []bool{false, true} {
		in := newInstance(t)
		ad := in.Addrs()
		local, peer, domain := ad.Local4, ad.Peer4, syscall.AF_INET
		if v6 {
			local, peer, domain = ad.Local6, ad.Peer6, syscall.AF_INET6
		}
		so := in.Sockets()
		fd, err := so.Socket(domain, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := so.Bind(fd, netip.AddrPortFrom(local, 8080)); err != nil {
			t.Fatal(err)
		}
		if err := so.Listen(fd, 5); err != nil {
			t.Fatal(err)
		}
		if s, ok := in.State(targets.Tuple{Local: netip.AddrPortFrom(local, 8080)}); !ok || s != state.Listen {
			t.Errorf("listener state = %v, %v; want LISTEN", s, ok)
		}
		syn, err := wire.Encode(wire.Segment{
			IP:      wire.IP{Src: peer, Dst: local, TTL: 64},
			SrcPort: 40000, DstPort: 8080, Seq: 1000, Flags: wire.SYN, Window: 65535,
			Options: []wire.Option{wire.MSS(1460)},
		})
		if err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		if err := in.Link().Inject(syn); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		p, err := in.Link().Next(ctx)
		cancel()
		if err != nil {
			t.Fatalf("v6=%v: no SYN-ACK: %v", v6, err)
		}
		seg, err := wire.Decode(p.Data)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("v6=%v: SYN->SYN-ACK %v: %v", v6, p.At.Sub(sent), seg)
		if seg.Flags != wire.SYN|wire.ACK || seg.Ack != 1001 || seg.SrcPort != 8080 || seg.DstPort != 40000 {
			t.Fatalf("got %v, want a SYN-ACK acking 1001", seg)
		}
		tu := targets.Tuple{Local: netip.AddrPortFrom(local, 8080), Remote: netip.AddrPortFrom(peer, 40000)}
		if s, ok := in.State(tu); !ok || s != state.SynReceived {
			t.Errorf("child state = %v, %v; want SYN-RECEIVED", s, ok)
		}
		// A blocking accept with nothing to accept ends with its context.
		ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, _, err = so.Accept(ctx, fd)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("accept = %v, want the context's deadline", err)
		}
		in.Close()
	}
}

// KilledStackFailsOnlyItsCase kills the target's stack in the middle of a
// case (kill returns the process group it killed): that case must fail with
// a message containing want, the process group must be gone, and the next
// case must get a working stack and pass.
func KilledStackFailsOnlyItsCase(t *testing.T, tgt targets.Target, kill func(targets.Instance) (pgid int, err error), want string) {
	var pgid int
	killed := &injector.Case{Name: "stack killed mid-case", Family: injector.IPv4, Location: "agenttest.go:1",
		Run: func(tt *injector.T) {
			lfd := tt.Listen(8080)
			c := tt.Dial(8080)
			c.Send(wire.SYN)
			c.Expect(BeSegment(Flags(wire.SYN | wire.ACK)))
			var err error
			if pgid, err = kill(tt.Peer().Instance()); err != nil {
				tt.Errorf("kill: %v", err)
			}
			c.Send(wire.ACK)
			tt.Accept(lfd)
		}}
	res := injector.Run(context.Background(), tgt, killed, injector.RunOptions{})
	t.Logf("%v: %s", res.Outcome, res.Message)
	// Whichever step meets the dead stack first (the ACK's injection or
	// accept) fails the case, naming the target's end.
	if res.Outcome != injector.Failed || !strings.Contains(res.Message, want) {
		t.Errorf("killed stack: %v %q, want a failure saying %q", res.Outcome, res.Message, want)
	}
	// A group of several processes (a virtual machine's helpers) is gone
	// once the orphans among them have been reaped too.
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(-pgid, 0) != syscall.ESRCH && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(-pgid, 0); err != syscall.ESRCH {
		t.Errorf("the stack's process group %d is still there (%v)", pgid, err)
	}
	next := &injector.Case{Name: "handshake after", Family: injector.IPv4, Location: "agenttest.go:2",
		Run: func(tt *injector.T) {
			tt.Listen(8080)
			c := tt.Dial(8080)
			c.Send(wire.SYN)
			c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Ack(1)))
		}}
	if res := injector.Run(context.Background(), tgt, next, injector.RunOptions{}); res.Outcome != injector.Passed {
		t.Errorf("the next case: %v %q", res.Outcome, res.Message)
	}
}

// BenchmarkScript runs the built-in script name (say "passive-open.pkt") in
// IPv4 on tgt b.N times, after one run outside the timing (which starts what
// the target keeps between cases: a guest, a built agent); every run must
// pass. It reports the cost of one script after start-up.
func BenchmarkScript(b *testing.B, tgt targets.Target, name string) {
	if err := tgt.Available(); err != nil {
		b.Skipf("target %s unavailable: %v", tgt.Name(), err)
	}
	cases, err := suites.BuiltinScriptCases(suites.ScriptOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var c *injector.Case
	for _, x := range cases {
		if x.Family == injector.IPv4 && x.Name == "suites/scripts/"+name {
			c = x
			break
		}
	}
	if c == nil {
		b.Fatalf("no built-in script %s", name)
	}
	runOnce := func() {
		if res := injector.Run(context.Background(), tgt, c, injector.RunOptions{}); res.Outcome != injector.Passed {
			b.Fatalf("%s on %s: %v %s", name, tgt.Name(), res.Outcome, res.Message)
		}
	}
	runOnce()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runOnce()
	}
}
