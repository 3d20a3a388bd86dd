package injector_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/targets"
	_ "github.com/tcpconform/tcpconform/targets/netstack"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

func netstack(t testing.TB) targets.Target {
	tgt, err := targets.Lookup("netstack")
	if err != nil {
		t.Fatal(err)
	}
	return tgt
}

func run(t *testing.T, body func(t *injector.T), o injector.RunOptions) injector.Result {
	c := &injector.Case{Name: t.Name(), Family: injector.IPv4, Run: body, Location: "injector_test.go:1"}
	return injector.Run(context.Background(), netstack(t), c, o)
}

// A deliberately wrong expectation: the SYN,ACK acknowledges the SYN with
// IRS+1, the case wants IRS+2 and no ACK bit. The message must name each
// field with what was wanted and what came, the line of the case, the state,
// and the pcap.
func TestWrongExpectationMessage(t *testing.T) {
	dir := t.TempDir()
	var line string
	res := run(t, func(tt *injector.T) {
		tt.Listen(8080)
		c := tt.Dial(8080)
		c.Send(wire.SYN)
		line = "injector/injector_test.go:" + lineOf(t, "WRONG-EXPECTATION")
		c.Expect(BeSegment(Flags(wire.SYN), Ack(2))) // WRONG-EXPECTATION
	}, injector.RunOptions{PcapDir: dir})

	if res.Outcome != injector.Failed {
		t.Fatalf("outcome %v, want FAIL; message:\n%s", res.Outcome, res.Message)
	}
	msg := res.Message
	for _, want := range []string{
		line + ": segment does not match\n",
		"  expected  flags S, ack IRS+2\n",
		"  actual    192.0.2.1.8080 > 192.0.2.2.40000: Flags [S.], seq ",
		"  fields    flags: want S got S.\n",
		"            ack: want IRS+2 got IRS+1 (1000001)\n",
		"  state     SYN-RECEIVED\n",
		"  pcap      " + filepath.Join(dir, "TestWrongExpectationMessage-IPv4.pcap"),
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q; message:\n%s", want, msg)
		}
	}
	if !regexp.MustCompile(`\(at \+0\.000000 s\)`).MatchString(msg) {
		t.Errorf("message lacks the arrival time:\n%s", msg)
	}
	b, err := os.ReadFile(res.Pcap)
	if err != nil || len(b) < 24 {
		t.Fatalf("pcap %q: %v (%d bytes)", res.Pcap, err, len(b))
	}
}

// lineOf finds the line of this file that carries marker.
func lineOf(t *testing.T, marker string) string {
	b, err := os.ReadFile("injector_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "// "+marker) {
			return strconv.Itoa(i + 1)
		}
	}
	t.Fatalf("marker %s not found", marker)
	return ""
}

func TestNothingArrives(t *testing.T) {
	res := run(t, func(tt *injector.T) {
		c := tt.Dial(8080) // nothing listens, but the case waits for a SYN,ACK...
		c.Send(wire.ACK, injector.WithWindow(0))
		c.Expect(BeSegment(Flags(wire.SYN | wire.ACK))) // ...and gets a RST instead
		c.Expect(BeSegment(Flags(wire.ACK)))
	}, injector.RunOptions{})
	if res.Outcome != injector.Failed || !strings.Contains(res.Message, "fields    flags: want S. got R") {
		t.Fatalf("outcome %v:\n%s", res.Outcome, res.Message)
	}

	res = run(t, func(tt *injector.T) {
		tt.Listen(8080)
		c := tt.Dial(8080)
		c.Expect(BeSegment(Flags(wire.SYN | wire.ACK)))
	}, injector.RunOptions{})
	if res.Outcome != injector.Failed || !strings.Contains(res.Message, "no segment arrived within 3s\n  expected  flags S.") {
		t.Fatalf("outcome %v:\n%s", res.Outcome, res.Message)
	}
}

func TestExpectNothingShowsWhatCame(t *testing.T) {
	res := run(t, func(tt *injector.T) {
		tt.Listen(8080)
		c := tt.Dial(8080)
		c.Send(wire.SYN)
		c.ExpectNothing(500 * time.Millisecond) // the SYN,ACK comes at once
	}, injector.RunOptions{})
	want := "expected no segment from +0.000000 s for 500ms, but 1 arrived\n  actual    192.0.2.1.8080 > 192.0.2.2.40000: Flags [S.]"
	if res.Outcome != injector.Failed || !strings.Contains(res.Message, want) {
		t.Fatalf("outcome %v, want a message with %q:\n%s", res.Outcome, want, res.Message)
	}
}

func TestOutcomeClassesStayApart(t *testing.T) {
	res := run(t, func(tt *injector.T) { tt.Skipf("needs %s", "a unicorn") }, injector.RunOptions{})
	if res.Outcome != injector.Skipped || res.Message != "needs a unicorn" {
		t.Errorf("skip: %v %q", res.Outcome, res.Message)
	}
	res = run(t, func(tt *injector.T) {
		c := tt.Await()
		c.Send(wire.ACK) // the target's port is unknown: a mistake in the case
	}, injector.RunOptions{})
	if res.Outcome != injector.Errored || !strings.Contains(res.Message, "harness error: the target's port is not known yet") {
		t.Errorf("harness error: %v %q", res.Outcome, res.Message)
	}
	res = run(t, func(tt *injector.T) { panic("boom") }, injector.RunOptions{})
	if res.Outcome != injector.Errored || !strings.Contains(res.Message, "panic: boom") {
		t.Errorf("panic: %v %q", res.Outcome, res.Message)
	}
	res = run(t, func(tt *injector.T) { tt.Expect(1).To(gomega.Equal(2)) }, injector.RunOptions{})
	if res.Outcome != injector.Failed {
		t.Errorf("gomega failure: %v %q", res.Outcome, res.Message)
	}
	res = run(t, func(tt *injector.T) {}, injector.RunOptions{})
	if res.Outcome != injector.Passed {
		t.Errorf("empty case: %v %q", res.Outcome, res.Message)
	}
}

// hangingTarget never finishes starting an instance.
type hangingTarget struct{}

func (hangingTarget) Name() string     { return "hang" }
func (hangingTarget) Describe() string { return "a target that never answers" }
func (hangingTarget) Available() error { return nil }
func (hangingTarget) New(context.Context, targets.Config) (targets.Instance, error) {
	select {}
}

func TestHangingTargetFailsTheCase(t *testing.T) {
	c := &injector.Case{Name: "hang", Family: injector.IPv4, Run: func(*injector.T) {}, Location: "x.go:1"}
	res := injector.Run(context.Background(), hangingTarget{}, c, injector.RunOptions{Timeout: 50 * time.Millisecond})
	if res.Outcome != injector.Failed || !strings.Contains(res.Message, "x.go:1: the case did not finish within 50ms: the target hangs") {
		t.Fatalf("outcome %v: %s", res.Outcome, res.Message)
	}
}

func netipPort(p *injector.Peer, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(p.TargetAddr(), port)
}

// handshakeStarted listens on 8080, sends a SYN to it and consumes the
// SYN,ACK. It returns the listener and the connection.
func handshakeStarted(tt *injector.T) (int, *injector.TConn) {
	lfd := tt.Listen(8080)
	c := tt.Dial(8080)
	c.Send(wire.SYN)
	c.Expect(BeSegment(Flags(wire.SYN | wire.ACK)))
	return lfd, c
}

// A retransmission is not the prompt reply: Expect judges time as well as
// fields, and ExpectAfter wants the segment when it is due, not before.
func TestTiming(t *testing.T) {
	res := run(t, func(tt *injector.T) {
		_, c := handshakeStarted(tt)
		c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1))) // the retransmission, 1 s on
	}, injector.RunOptions{})
	want := "segment arrived late\n  expected  flags S., seq ISS+0, ack IRS+1, by +0.010000 s\n  actual    192.0.2.1.8080 > 192.0.2.2.40000: Flags [S.]"
	if res.Outcome != injector.Failed || !strings.Contains(res.Message, want) || !strings.Contains(res.Message, "(at +1.000000 s)") {
		t.Errorf("late: %v\n%s", res.Outcome, res.Message)
	}

	res = run(t, func(tt *injector.T) {
		_, c := handshakeStarted(tt)
		c.ExpectAfter(2*time.Second, BeSegment(Flags(wire.SYN|wire.ACK)))
	}, injector.RunOptions{})
	if res.Outcome != injector.Failed || !strings.Contains(res.Message, "segment arrived early\n  expected  flags S., at +2.000000 s ± 10ms") {
		t.Errorf("early: %v\n%s", res.Outcome, res.Message)
	}

	res = run(t, func(tt *injector.T) {
		_, c := handshakeStarted(tt)
		c.ExpectAfter(time.Second, BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1)))
		c.ExpectAfter(2*time.Second, BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1)))
	}, injector.RunOptions{})
	if res.Outcome != injector.Passed {
		t.Errorf("on time: %v\n%s", res.Outcome, res.Message)
	}
}

// A target with coarse timers may send what a timer drives up to its
// granularity late, never earlier than the tolerance allows.
func TestLateAllowanceIsLateOnly(t *testing.T) {
	for _, tc := range []struct {
		after time.Duration
		want  injector.Outcome
		msg   string
	}{
		{900 * time.Millisecond, injector.Passed, ""}, // 100 ms late: within 10 ms + 150 ms
		{800 * time.Millisecond, injector.Failed, "ack IRS+1, from +0.790000 s to +0.960000 s"},
		{1100 * time.Millisecond, injector.Failed, "segment arrived early"},
	} {
		res := run(t, func(tt *injector.T) {
			tt.Peer().Late = 150 * time.Millisecond
			_, c := handshakeStarted(tt)
			c.ExpectAfter(tc.after, BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1))) // at +1 s
		}, injector.RunOptions{})
		if res.Outcome != tc.want || !strings.Contains(res.Message, tc.msg) {
			t.Errorf("due after %v: %v\n%s", tc.after, res.Outcome, res.Message)
		}
	}
}

func TestExpectNothingNamesEarlierSegments(t *testing.T) {
	res := run(t, func(tt *injector.T) {
		tt.Listen(8080)
		c := tt.Dial(8080)
		c.Send(wire.SYN)
		tt.Sleep(10 * time.Millisecond)
		c.ExpectNothing(time.Millisecond)
	}, injector.RunOptions{})
	want := "expected no segment from +0.010000 s for 1ms, but 1 arrived\n  earlier   192.0.2.1.8080 > 192.0.2.2.40000: Flags [S.]"
	if res.Outcome != injector.Failed || !strings.Contains(res.Message, want) {
		t.Errorf("%v\n%s", res.Outcome, res.Message)
	}
}

// A socket call right after an injected segment sees its effect.
func TestSocketCallSeesWhatWasJustSent(t *testing.T) {
	res := run(t, func(tt *injector.T) {
		lfd, c := handshakeStarted(tt)
		c.Send(wire.ACK)
		fd := tt.Accept(lfd)
		tt.Expect(tt.Sockets().SetNonblock(fd, true)).To(gomega.Succeed())
		c.Send(wire.PSH|wire.ACK, injector.WithPayload([]byte("hello")))
		b, err := tt.Sockets().Read(tt.Context(), fd, 10)
		tt.Expect(err).To(gomega.Succeed())
		tt.Expect(string(b)).To(gomega.Equal("hello"))
	}, injector.RunOptions{})
	if res.Outcome != injector.Passed {
		t.Errorf("%v\n%s", res.Outcome, res.Message)
	}
}

// A handshake the target drops (the final ACK lacks the timestamps both ends
// agreed on, which netstack discards) leaves accept() blocked: that is the
// target's doing, a failure, not a harness error.
func TestBlockedAcceptIsAFailure(t *testing.T) {
	res := run(t, func(tt *injector.T) {
		lfd, c := handshakeStarted(tt)
		c.Send(wire.ACK, injector.WithoutTimestamp())
		tt.Accept(lfd)
	}, injector.RunOptions{})
	if res.Outcome != injector.Failed || !strings.Contains(res.Message, "accept() blocked for 2s: the target never completed it") {
		t.Errorf("%v\n%s", res.Outcome, res.Message)
	}
}

// When the target opens the connection offering every option, the peer's
// SYN,ACK answers with all of them, and timestamps are on.
func TestSynAckAnswersOfferedOptions(t *testing.T) {
	res := run(t, func(tt *injector.T) {
		fd := tt.Socket()
		tt.Expect(tt.Sockets().SetNonblock(fd, true)).To(gomega.Succeed())
		c := tt.Await()
		tt.Sockets().Connect(tt.Context(), fd, c.PeerAddrPort())
		c.Expect(BeSegment(Flags(wire.SYN), HasOptionKind(wire.KindTimestamps)))
		full := c.Send(wire.SYN | wire.ACK)
		tt.Expect(full.Options).To(gomega.HaveLen(5))
		tt.Expect(c.Timestamps()).To(gomega.BeTrue())

	}, injector.RunOptions{})
	if res.Outcome != injector.Passed {
		t.Errorf("%v\n%s", res.Outcome, res.Message)
	}
}

func TestPeerPortsWrapWithinRange(t *testing.T) {
	inst, err := netstack(t).New(context.Background(), targets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	p := injector.NewPeer(inst, injector.IPv4)
	seen := map[uint16]bool{}
	for i := 0; i < 70000; i++ {
		port := p.Dial(80).PeerPort
		if port < 40000 {
			t.Fatalf("dial %d got port %d", i, port)
		}
		seen[port] = true
	}
	if len(seen) != 65535-40000+1 {
		t.Errorf("%d distinct ports", len(seen))
	}
}

// A case the target's profile declares a known deviation is an expected
// failure when it fails as declared (the profile's Fails, white space
// aside), with the profile's reason and the failure; a failure, naming what
// was declared and what happened, when it fails another way; and a failure,
// naming the stale declaration, when it passes.
func TestKnownDeviations(t *testing.T) {
	profile := expectations.Profile{Target: "mine", Known: map[string]expectations.Deviation{
		"T047.SYN-SENT": {Reason: "a FIN on the SYN,ACK is ignored", Fails: "the FIN was not\n acknowledged"},
	}}
	declared := func(body func(*injector.T)) injector.Result {
		c := &injector.Case{Name: t.Name(), ID: "T047.SYN-SENT", Family: injector.IPv4, Run: body, Location: "injector_test.go:1"}
		return injector.Run(context.Background(), netstack(t), c, injector.RunOptions{Profile: &profile})
	}
	res := declared(func(tt *injector.T) { tt.Fatalf("check 3:  the FIN   was not acknowledged\n  state ESTABLISHED") })
	if res.Outcome != injector.Deviated || res.Outcome.String() != "XFAIL" ||
		!strings.Contains(res.Message, "known deviation of mine: a FIN on the SYN,ACK is ignored") ||
		!strings.Contains(res.Message, "the FIN   was not acknowledged") {
		t.Errorf("declared and failing as declared: %v %q", res.Outcome, res.Message)
	}
	res = declared(func(tt *injector.T) { tt.Fatalf("check 2: no segment arrived") })
	if res.Outcome != injector.Failed ||
		!strings.Contains(res.Message, `declares T047.SYN-SENT a known deviation (a FIN on the SYN,ACK is ignored), expected to fail with "the FIN was not\n acknowledged"`) ||
		!strings.Contains(res.Message, "; it failed with:\n") || !strings.HasSuffix(res.Message, ": check 2: no segment arrived") {
		t.Errorf("declared and failing otherwise: %v %q", res.Outcome, res.Message)
	}
	res = declared(func(tt *injector.T) {})
	if res.Outcome != injector.Failed || !strings.Contains(res.Message, "declares T047.SYN-SENT a known deviation") ||
		!strings.Contains(res.Message, "but it passed: remove it from the profile") {
		t.Errorf("declared and passing: %v %q", res.Outcome, res.Message)
	}
	res = declared(func(tt *injector.T) { tt.Skipf("no unicorn") })
	if res.Outcome != injector.Skipped {
		t.Errorf("declared and skipped: %v %q", res.Outcome, res.Message)
	}
}

// A profile given in RunOptions (a user's profile file) replaces the
// target's built-in one: its deviations, and its name in the messages.
func TestRunOptionsProfile(t *testing.T) {
	c := &injector.Case{Name: t.Name(), ID: "T047.SYN-SENT", Family: injector.IPv4, Location: "injector_test.go:1",
		Run: func(tt *injector.T) {
			if tt.Profile().TimerGranularity != 7*time.Millisecond {
				tt.Errorf("T.Profile is not the given profile: %+v", tt.Profile())
			}
			tt.Fatalf("the FIN was not acknowledged")
		}}
	mine := expectations.Profile{Target: "mine", TimerGranularity: 7 * time.Millisecond, Known: map[string]expectations.Deviation{"T047.SYN-SENT [IPv4]": {Reason: "mine says so", Fails: "the FIN was not acknowledged"}}}
	res := injector.Run(context.Background(), netstack(t), c, injector.RunOptions{Profile: &mine})
	if res.Outcome != injector.Deviated || !strings.Contains(res.Message, "known deviation of mine: mine says so") {
		t.Errorf("declared by the given profile: %v %q", res.Outcome, res.Message)
	}
	mine.Known = nil
	res = injector.Run(context.Background(), netstack(t), c, injector.RunOptions{Profile: &mine})
	if res.Outcome != injector.Failed {
		t.Errorf("declared by the built-in profile only: %v %q", res.Outcome, res.Message)
	}
}

// The peer's TSval is a clock of a millisecond a tick that runs with the
// case's time (virtual here): it advances by what a Sleep lets pass, and a
// later connection of the same case goes on from it, never back, so that
// TS.Recent updates and PAWS (RFC 7323 sections 4.3 and 5) are exercised.
func TestPeerTSvalAdvancesWithTheCaseClock(t *testing.T) {
	var vals []uint32
	res := run(t, func(tt *injector.T) {
		tsval := func(s wire.Segment) uint32 {
			o, ok := s.Option(wire.KindTimestamps)
			tt.Expect(ok).To(gomega.BeTrue(), "the peer's segment carries no timestamps: %v", s)
			return o.(wire.Timestamps).Val
		}
		lfd := tt.Listen(8080)
		for range 2 {
			c := tt.Dial(8080)
			vals = append(vals, tsval(c.Send(wire.SYN)))
			c.Expect(BeSegment(Flags(wire.SYN | wire.ACK)))
			tt.Sleep(250 * time.Millisecond)
			vals = append(vals, tsval(c.Send(wire.ACK)))
			tt.Accept(lfd)
		}
	}, injector.RunOptions{})
	if res.Outcome != injector.Passed {
		t.Fatalf("%v\n%s", res.Outcome, res.Message)
	}
	for i := 1; i < len(vals); i++ {
		if d := vals[i] - vals[i-1]; vals[i] < vals[i-1] || (i%2 == 1 && d != 250) {
			t.Errorf("TSvals %v: step %d is %d, want 250 after a Sleep of 250 ms, and never back", vals, i, int32(d))
		}
	}
}
