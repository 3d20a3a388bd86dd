package suites

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	gm "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// Specs of RFC 9293 requirements on timers, keep-alives, urgent data, window
// management, acknowledgments and pushing (sections 3.5 to 3.10), each
// checked on the wire and, where the RFC speaks of the user, through the
// target's sockets.

// reqFlowMSS is the MSS the peer announces on its SYN in these specs: small
// enough that a few kilobytes make several full-sized segments.
const reqFlowMSS = 1000

// reqFlowVirtual reports whether the target's clock is virtual, so that
// waits of minutes or hours cost no wall time.
func reqFlowVirtual(t *injector.T) bool { return t.Peer().Instance().Clock().Virtual() }

// reqFlowLong picks a bound for a wait: v on a virtual clock, r on a real
// one (where a spec must stay within seconds).
func reqFlowLong(t *injector.T, v, r time.Duration) time.Duration {
	if reqFlowVirtual(t) {
		return v
	}
	return r
}

// reqFlowListen listens on servicePort; rcvbuf > 0 sets the listener's
// SO_RCVBUF first, which the connections it accepts inherit.
func reqFlowListen(t *injector.T, rcvbuf int) int {
	if rcvbuf == 0 {
		return t.Listen(servicePort)
	}
	lfd := t.Socket()
	if err := t.Sockets().SetsockoptInt(lfd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf); errors.Is(err, syscall.ENOPROTOOPT) {
		t.Skipf("a small receive buffer is needed to close the window: SO_RCVBUF: %v", err)
	} else {
		t.Expect(err).To(gm.Succeed())
	}
	t.Expect(t.Sockets().Bind(lfd, netip.AddrPortFrom(t.Peer().TargetAddr(), servicePort))).To(gm.Succeed())
	t.Expect(t.Sockets().Listen(lfd, 16)).To(gm.Succeed())
	return lfd
}

// reqFlowConnect opens a connection to the listener lfd from a new peer port
// and accepts it. The peer advertises window win and puts opts on its SYN;
// without opts it offers only an MSS of reqFlowMSS: no window scaling (both
// ends' windows are then plain byte counts), no timestamps, no SACK. It
// returns the connection, the accepted socket and the target's SYN,ACK.
func reqFlowConnect(t *injector.T, lfd int, win uint16, opts ...wire.Option) (*injector.TConn, int, wire.Segment) {
	if len(opts) == 0 {
		opts = []wire.Option{wire.MSS(reqFlowMSS)}
	}
	c, fd, synack := passiveOpen(t, lfd, win, injector.WithOptions(opts...))
	return c, fd, synack.Segment
}

// reqFlowAccept is reqFlowListen then reqFlowConnect with window 65535.
func reqFlowAccept(t *injector.T) (*injector.TConn, int, wire.Segment) {
	return reqFlowConnect(t, reqFlowListen(t, 0), injector.DefaultWindow)
}

// reqFlowSeg matches a segment the target sent by a predicate, for shapes
// the field matchers cannot say (this or that, at most, at least).
type reqFlowSeg struct {
	desc string
	ok   func(s wire.Segment) bool
}

func (m reqFlowSeg) Match(actual any) (bool, error) {
	o, ok := actual.(expectations.Observed)
	if !ok {
		return false, fmt.Errorf("reqFlowSeg matches segments the target sent, not %T", actual)
	}
	return m.ok(o.Segment), nil
}

func (m reqFlowSeg) FailureMessage(actual any) string {
	return fmt.Sprintf("segment differs\n  expected  %s\n  actual    %v", m.desc, actual)
}

func (m reqFlowSeg) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("segment should not be %s\n  actual    %v", m.desc, actual)
}

func (m reqFlowSeg) String() string { return m.desc }

// reqFlowAny matches whatever the target sends.
var reqFlowAny = reqFlowSeg{"any segment", func(wire.Segment) bool { return true }}

// reqFlowPureACK matches a bare acknowledgment: flags [.] and no data.
var reqFlowPureACK = reqFlowSeg{"an acknowledgment: flags [.], no data", func(s wire.Segment) bool {
	return s.Flags == wire.ACK && len(s.Payload) == 0
}}

// reqFlowDataSeg matches a data segment: ACK set, no SYN, RST or FIN needed,
// at least one octet.
var reqFlowDataSeg = reqFlowSeg{"a data segment: ACK set, no SYN or RST, data", func(s wire.Segment) bool {
	return s.Flags&wire.ACK != 0 && s.Flags&(wire.SYN|wire.RST) == 0 && len(s.Payload) > 0
}}

// reqFlowWithin consumes the next segment the target sends on c. It must
// match m and leave at most hi after from (instance time since the start of
// the run) and, when lo > 0, no sooner than lo after from.
func reqFlowWithin(t *injector.T, c *injector.TConn, from, lo, hi time.Duration, m types.GomegaMatcher) expectations.Observed {
	p := t.Peer()
	tol, timeout := p.Tolerance, p.ExpectTimeout
	defer func() { p.Tolerance, p.ExpectTimeout = tol, timeout }()
	wait := max(from+hi-p.Elapsed(), 0) + tol
	p.Tolerance, p.ExpectTimeout = wait, wait
	o, err := c.TryExpect(t.Context(), m)
	var nc *injector.Nonconformance
	if errors.As(err, &nc) {
		t.Fatalf("%s\n  wanted    within %v after +%.6f s", nc.Message, hi, from.Seconds())
	} else if err != nil {
		t.Errorf("%v", err)
	}
	if d := o.At - from; (lo > 0 && d < lo-tol) || d > hi+tol {
		t.Fatalf("a segment left %v after +%.6f s, outside [%v, %v]\n  segment   %v", d, from.Seconds(), lo, hi, o)
	}
	return o
}

// reqFlowTake consumes what the target has sent on c so far and no Expect
// took yet.
func reqFlowTake(t *injector.T, c *injector.TConn) []expectations.Observed {
	var out []expectations.Observed
	for _, a := range t.Peer().Pending() {
		if sentOn(t, a, c) {
			out = append(out, c.Expect(reqFlowAny))
		}
	}
	return out
}

// reqFlowDrain takes the target's data on c until the peer holds everything
// below end, acknowledging each data segment at once. It returns the data
// segments; bare ACKs and window updates in between are let pass.
func reqFlowDrain(t *injector.T, c *injector.TConn, end seq.Value) []expectations.Observed {
	var got []expectations.Observed
	for c.RcvNxt.LessThan(end) {
		o := reqFlowWithin(t, c, t.Peer().Elapsed(), 0, reqFlowLong(t, 130*time.Second, 3*time.Second),
			reqFlowSeg{"a segment of the connection: no SYN, no RST", func(s wire.Segment) bool {
				return s.Flags&(wire.SYN|wire.RST) == 0
			}})
		if len(o.Segment.Payload) > 0 {
			got = append(got, o)
			c.Send(wire.ACK)
		}
	}
	return got
}

// --- RFC 9293 section 3.8.3: excessive retransmissions ---

// reqFlowSynGiveUp starts a connect() on fd towards a peer that never
// answers and watches the SYN being retransmitted until the target gives up
// (the connection is gone) or limit has passed since the first SYN. It
// returns the connection, the SYNs, and how long after the first SYN the
// target gave up (-1 if it had not by limit).
func reqFlowSynGiveUp(t *injector.T, fd int, limit time.Duration) (*injector.TConn, []expectations.Observed, time.Duration) {
	c := startConnect(t, fd)
	first := c.Expect(BeSegment(Flags(wire.SYN), Seq(0), PayloadLen(0)))
	syns := []expectations.Observed{first}
	step := reqFlowLong(t, time.Second, 100*time.Millisecond)
	for {
		if st := c.State(); st == state.Closed || st == state.Unknown {
			break
		}
		if t.Peer().Elapsed()-first.At > limit {
			return c, syns, -1
		}
		t.Sleep(step)
		for _, o := range reqFlowTake(t, c) {
			if !(o.Segment.Flags == wire.SYN && o.Segment.Seq == c.TargetISS && len(o.Segment.Payload) == 0) {
				t.Fatalf("expected only retransmissions of the SYN (flags [S], seq ISS)\n  actual    %v", o)
			}
			syns = append(syns, o)
		}
	}
	return c, syns, t.Peer().Elapsed() - first.At
}

// Section 3.8.3: a SYN is retransmitted under the same two thresholds as
// data; at R2 the connection is closed and the application that asked for
// it is told that it failed. R2 for a SYN may be set by the application
// (MUST-21): where TCP_SYNCNT exists a short one keeps the wait to seconds,
// elsewhere the target's own R2 is waited out on virtual time.
var _ = check([]string{"MUST-22"}, "3.8.3", "SYN retransmissions end at R2 and connect() reports the failure", withState,
	func(t *injector.T) {
		fd := t.Socket()
		if err := t.Sockets().SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_SYNCNT, 1); err != nil && !reqFlowVirtual(t) {
			t.Skipf("the target takes no TCP_SYNCNT (%v) and its clock is real: its default R2 for a SYN takes minutes", err)
		}
		c, syns, gaveUp := reqFlowSynGiveUp(t, fd, time.Hour)
		t.Expect(len(syns)).To(gm.BeNumerically(">=", 2), "the SYN was never retransmitted")
		if gaveUp < 0 {
			t.Fatalf("the target still tried to connect an hour after its first SYN (%d SYNs): no R2 closes the attempt", len(syns))
		}
		t.Expect(t.Sockets().GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).NotTo(gm.BeZero(),
			"RFC 9293 section 3.8.3 (MUST-22): the application must be told that the connection attempt failed")
		t.Expect(t.Sockets().Connect(t.Context(), fd, c.PeerAddrPort())).To(gm.HaveOccurred(),
			"connect() after the attempt was given up must not succeed")
		c.ExpectNothing(reqFlowLong(t, 10*time.Second, 500*time.Millisecond))
	})

// Section 3.8.3: R2 for a SYN must let retransmissions go on for at least
// three minutes before the attempt is given up. This is the target's default
// R2, so it needs the wait on virtual time.
var _ = check([]string{"MUST-23"}, "3.8.3", "SYN retransmissions go on for at least 3 minutes", injector.Needs{State: true, VirtualTime: true},
	func(t *injector.T) {
		_, syns, gaveUp := reqFlowSynGiveUp(t, t.Socket(), time.Hour)
		t.Expect(len(syns)).To(gm.BeNumerically(">=", 2), "the SYN was never retransmitted")
		if gaveUp >= 0 {
			t.Expect(gaveUp).To(gm.BeNumerically(">=", 3*time.Minute),
				"RFC 9293 section 3.8.3 (MUST-23): R2 for a SYN must allow at least 3 minutes; the target gave up %v after its first SYN (%d SYNs)", gaveUp, len(syns))
		}
	})

// Section 3.8.3: R2 for data should correspond to at least 100 s. The peer
// stops acknowledging; 100 s after the data was first sent the connection
// must still be there, and still retransmitting.
var _ = check([]string{"SHLD-11"}, "3.8.3", "R2 for data: no abort within 100 s of unacknowledged retransmissions", injector.Needs{State: true, VirtualTime: true},
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		msg := []byte("never acknowledged")
		t.Write(fd, msg)
		first := c.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Payload(msg)))
		t.Sleep(first.At + 100*time.Second - t.Peer().Elapsed())
		rtx := reqFlowTake(t, c)
		for _, o := range rtx {
			if !(o.Segment.Seq == c.TargetISS.Add(1) && o.Segment.Flags&(wire.RST|wire.SYN) == 0) {
				t.Fatalf("expected retransmissions of the data\n  actual    %v", o)
			}
		}
		t.Expect(len(rtx)).To(gm.BeNumerically(">=", 1), "the data was never retransmitted")
		t.Expect(c.State()).To(BeInState(state.Established),
			"RFC 9293 section 3.8.3 (SHLD-11): R2 should be at least 100 s; the connection is gone after %d retransmissions", len(rtx))
	})

// --- RFC 9293 section 3.8.4: keep-alives ---

// reqFlowKeepalive turns keep-alives on for fd and returns the idle time
// after which the target probes. Where the target takes TCP_KEEPIDLE and
// TCP_KEEPINTVL both are set to 1 s; elsewhere (on virtual time) the idle
// time is the target's default, measured by waiting for its first probe,
// which the peer answers.
func reqFlowKeepalive(t *injector.T, c *injector.TConn, fd int) time.Duration {
	s := t.Sockets()
	t.Expect(s.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1)).To(gm.Succeed(),
		"RFC 9293 section 3.8.4 (MAY-5): keep-alives can be turned on for a connection")
	if s.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, 1) == nil &&
		s.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, 1) == nil {
		return time.Second
	}
	if !reqFlowVirtual(t) {
		t.Skipf("the target takes no TCP_KEEPIDLE and its clock is real: its default keep-alive interval takes hours")
	}
	start := t.Peer().Elapsed()
	o := reqFlowWithin(t, c, start, 0, 4*time.Hour, reqFlowKeepaliveProbe(c, true))
	c.Send(wire.ACK)
	return o.At - start
}

// reqFlowKeepaliveProbe matches a keep-alive probe on c: <SEQ=SND.NXT-1>
// <ACK=RCV.NXT><CTL=ACK>, without data or, if octet, with one garbage
// octet (section 3.8.4).
func reqFlowKeepaliveProbe(c *injector.TConn, octet bool) reqFlowSeg {
	sndNxt, rcvNxt := c.RcvNxt, c.SndNxt
	desc := fmt.Sprintf("a keep-alive probe: flags [.], seq %d (SND.NXT-1), ack %d, no data", uint32(sndNxt.Sub(1)), uint32(rcvNxt))
	if octet {
		desc += " or one octet"
	}
	return reqFlowSeg{desc, func(s wire.Segment) bool {
		n := len(s.Payload)
		return s.Flags == wire.ACK && s.Seq == sndNxt.Sub(1) && s.Ack == rcvNxt && (n == 0 || octet && n == 1)
	}}
}

// reqFlowKeepaliveSlack is how late a probe may be on a real clock (the
// kernel's timer wheel rounds a 1 s timer up by tens of milliseconds).
const reqFlowKeepaliveSlack = 250 * time.Millisecond

// Section 3.8.4: keep-alives are off unless the application turns them on.
// A connection left idle far beyond any keep-alive interval (at least two
// hours by default, MUST-28) sees no probe. On a real clock the stack-wide
// interval is shortened to 1 s first, so that keep-alives on by default
// would show within seconds.
var _ = check([]string{"MUST-25"}, "3.8.4", "keep-alives are off by default", withState,
	func(t *injector.T) {
		quiet := 5 * time.Hour
		if !reqFlowVirtual(t) {
			sc, ok := t.Peer().Instance().(targets.Sysctls)
			if !ok {
				t.Skipf("the target's clock is real and it has no stack-wide keep-alive setting to shorten the wait")
			}
			for _, name := range []string{"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl"} {
				if err := sc.SetSysctl(name, "1"); err != nil {
					t.Skipf("the target's clock is real and %s cannot be set: %v", name, err)
				}
			}
			quiet = 2 * time.Second
		}
		c, fd, _ := reqFlowAccept(t)
		t.Expect(t.Sockets().GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)).To(gm.BeZero(),
			"SO_KEEPALIVE reads as on for a connection that never asked for it")
		c.ExpectNothing(quiet)
		t.Expect(c.State()).To(BeInState(state.Established))
	})

// Section 3.8.4: a keep-alive is sent only when nothing was received for the
// whole interval: the peer's bare ACK halfway through restarts it. The probe
// is <SEQ=SND.NXT-1> with no data (SHLD-12); one garbage octet is allowed
// only as a configurable option (MAY-6), so not by default.
var _ = check([]string{"MUST-26", "SHLD-12", "MAY-6"}, "3.8.4", "keep-alive only after a whole idle interval; the probe carries no data", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		idle := reqFlowKeepalive(t, c, fd)
		t.Sleep(idle / 2)
		c.Send(wire.ACK)
		from := t.Peer().Elapsed()
		o := reqFlowWithin(t, c, from, idle, idle+reqFlowKeepaliveSlack, reqFlowKeepaliveProbe(c, true))
		t.Expect(o.Segment.Payload).To(gm.BeEmpty(),
			"RFC 9293 section 3.8.4 (SHLD-12): a keep-alive should carry no data; one garbage octet (MAY-6) is for those who configure it")
		t.Expect(c.State()).To(BeInState(state.Established))
	})

// Section 3.8.4: probes may be lost, so a single unanswered one must not end
// the connection. The first probe goes unanswered; the next is answered, and
// data then flows both ways.
var _ = check([]string{"MUST-29"}, "3.8.4", "one unanswered keep-alive probe does not end the connection", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		idle := reqFlowKeepalive(t, c, fd)
		probe := reqFlowKeepaliveProbe(c, true)
		lost := reqFlowWithin(t, c, t.Peer().Elapsed(), 0, idle+reqFlowKeepaliveSlack, probe)
		t.Expect(c.State()).To(BeInState(state.Established), "one keep-alive probe went unanswered")
		reqFlowWithin(t, c, lost.At, 0, reqFlowLong(t, 4*time.Hour, 2*time.Second), probe)
		c.Send(wire.ACK)
		t.Expect(c.State()).To(BeInState(state.Established))
		out := []byte("still connected")
		t.Write(fd, out)
		c.Expect(BeSegment(FlagsInclude(wire.ACK), SeqNum(c.RcvNxt), Payload(out)))
		in := []byte("and so am I")
		c.Send(wire.PSH|wire.ACK, injector.WithPayload(in))
		reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, BeSegment(Flags(wire.ACK), AckNum(c.SndNxt)))
		t.Expect(t.Read(fd, 100)).To(gm.Equal(in))
	})

// --- RFC 9293 section 3.8.5: urgent data ---

// Section 3.8.5: the urgent mechanism must still be supported, for urgent
// data of any length. The peer sends 3000 urgent octets over three segments,
// each with URG and the pointer (an offset from SEG.SEQ) to the octet after
// the urgent data, then 500 ordinary octets. All of it is acknowledged and
// read in order (inline: SO_OOBINLINE where the target has it), and the
// connection goes on.
var _ = check([]string{"MUST-30", "MUST-31"}, "3.8.5", "urgent data spanning segments is received in order, the connection goes on", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		if err := t.Sockets().SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_OOBINLINE, 1); err != nil &&
			!errors.Is(err, syscall.ENOPROTOOPT) {
			t.Fatalf("setsockopt(SO_OOBINLINE) failed: %v", err)
		}
		data := pattern(3500, 'a')
		for i := 0; i < 3; i++ {
			s := buildSegment(t, c, wire.ACK|wire.URG, nil, data[1000*i:1000*(i+1)])
			s.Urgent = uint16(3000 - 1000*i)
			injectOn(t, c, s)
		}
		c.Send(wire.PSH|wire.ACK, injector.WithPayload(data[3000:]))
		for {
			o := reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, reqFlowPureACK)
			if o.Segment.Ack == c.SndNxt {
				break
			}
		}
		t.Expect(readFull(t, fd, len(data))).To(gm.Equal(data), "the octets read differ from those sent")
		t.Expect(c.State()).To(BeInState(state.Established))
	})

// Section 3.8.5: urgent data is sent with URG and an urgent pointer that,
// added to SEG.SEQ, names the octet just after the urgent data, on every
// segment sent while that octet lies ahead; here 2500 octets, more than one
// segment (MUST-31).
var _ = check([]string{"MUST-62", "MUST-30", "MUST-31"}, "3.8.5", "send(MSG_OOB): URG set, SEG.SEQ+SEG.UP is the octet after the urgent data", withState,
	func(t *injector.T) {
		fio, ok := t.Sockets().(targets.FlaggedIO)
		if !ok {
			t.Skipf("the target's sockets take no send flags (no targets.FlaggedIO), so urgent data cannot be asked for")
		}
		c, fd, _ := reqFlowAccept(t)
		data := pattern(2500, 'A')
		n, err := fio.SendTo(t.Context(), fd, data, syscall.MSG_OOB, netip.AddrPort{})
		t.Expect(err).NotTo(gm.HaveOccurred(), "send(MSG_OOB)")
		t.Expect(n).To(gm.Equal(len(data)))
		end := c.RcvNxt.Add(seq.Size(len(data)))
		for _, o := range reqFlowDrain(t, c, end) {
			s := o.Segment
			t.Expect(s.Flags.Has(wire.URG)).To(gm.BeTrue(), "RFC 9293 section 3.8.5: urgent data goes with URG set\n  segment   %v", o)
			t.Expect(s.Seq.Add(seq.Size(s.Urgent))).To(gm.Equal(end),
				"RFC 9293 section 3.8.5 (MUST-62): SEG.SEQ+SEG.UP must be the octet after the urgent data (%d)\n  segment   %v urg %d", uint32(end), o, s.Urgent)
		}
	})

// --- RFC 9293 section 3.8.6: managing the window ---

// reqFlowSendBulk has the target write n octets on fd to a peer whose window
// is win, and takes what the target sends until it has filled that window,
// without acknowledging any of it.
func reqFlowSendBulk(t *injector.T, c *injector.TConn, fd, n int, win uint16) {
	t.Write(fd, pattern(n, 'a'))
	edge := c.TargetISS.Add(1 + seq.Size(win))
	for c.RcvNxt.LessThan(edge) {
		o := reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 2*time.Second, reqFlowDataSeg)
		if end := o.Segment.Seq.Add(seq.Size(len(o.Segment.Payload))); end.GreaterThan(edge) {
			t.Fatalf("the target sent beyond the peer's window (right edge %d)\n  segment   %v", uint32(edge), o)
		}
	}
}

// reqFlowAdvertise has the peer acknowledge the target's data up to una and
// advertise window win.
func reqFlowAdvertise(c *injector.TConn, una seq.Value, win uint16) {
	c.RcvNxt = una
	c.Window = win
	c.Send(wire.ACK)
}

// reqFlowWindowReopens ends a sender-SWS spec: the peer's window opens to 4000
// octets, a full segment at next must follow within 0.5 s, then the window
// opens wide, the 10000 octets written drain, and the connection stays
// ESTABLISHED.
func reqFlowWindowReopens(t *injector.T, c *injector.TConn, next seq.Value) {
	c.Window = 4000
	c.Send(wire.ACK)
	reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond,
		BeSegment(FlagsInclude(wire.ACK), SeqNum(next), PayloadLen(reqFlowMSS)))
	reqFlowOpenWide(t, c, c.TargetISS.Add(10001))
	t.Expect(c.State()).To(BeInState(state.Established))
}

// reqFlowOpenWide has the peer open its window wide (65535) and take the
// target's data up to end (reqFlowDrain).
func reqFlowOpenWide(t *injector.T, c *injector.TConn, end seq.Value) {
	reqFlowAdvertise(c, c.RcvNxt, injector.DefaultWindow)
	reqFlowDrain(t, c, end)
}

// reqFlowShrunkToZero opens a connection into a window of 3000 octets, has
// the target send 6000 (3000 leave), and then has the peer acknowledge the
// first 1000 with a zero window: the right edge moves back to SND.UNA, with
// 2000 octets sent beyond it. It returns the connection and that SND.UNA.
func reqFlowShrunkToZero(t *injector.T) (*injector.TConn, seq.Value) {
	c, fd, _ := reqFlowConnect(t, reqFlowListen(t, 0), 3000)
	reqFlowSendBulk(t, c, fd, 6000, 3000)
	una := c.TargetISS.Add(1001)
	reqFlowAdvertise(c, una, 0)
	return c, una
}

// reqFlowZeroWindowProbe matches a probe of a closed window whose left edge
// is una: one octet at una (new data, or old data retransmitted, as section
// 3.8.6.1 has it), or a segment at una-1 with at most one octet, which lies
// outside the peer's window and so draws an ACK (what Linux and gVisor send).
func reqFlowZeroWindowProbe(una seq.Value) reqFlowSeg {
	return reqFlowSeg{fmt.Sprintf("a zero-window probe: data at seq %d (SND.UNA), or seq %d (SND.UNA-1) with at most one octet", uint32(una), uint32(una.Sub(1))),
		func(s wire.Segment) bool {
			n := len(s.Payload)
			if s.Flags&wire.ACK == 0 || s.Flags&(wire.SYN|wire.RST|wire.FIN) != 0 {
				return false
			}
			return (s.Seq == una && n >= 1) || (s.Seq == una.Sub(1) && n <= 1)
		}}
}

// reqFlowProbeZero takes count zero-window probes on c, whose closed window
// starts at una, and answers each with <ACK=una> and window 0. It returns
// when they left. On a real clock a probe is waited for 5 s, or, after two
// probes, twice the last interval and a second if that is longer: the
// intervals grow exponentially (SHLD-30), so a stack whose first probe
// comes after more than a second soon needs more than 5 s.
func reqFlowProbeZero(t *injector.T, c *injector.TConn, una seq.Value, count int, from time.Duration) []time.Duration {
	var at []time.Duration
	for i := 0; i < count; i++ {
		wait := reqFlowLong(t, 130*time.Second, 5*time.Second)
		if n := len(at); n >= 2 && !reqFlowVirtual(t) {
			wait = max(wait, 2*(at[n-1]-at[n-2])+time.Second)
		}
		o := reqFlowWithin(t, c, from, 0, wait, reqFlowZeroWindowProbe(una))
		at = append(at, o.At)
		from = o.At
		// The window is closed: whatever the probe carried is not taken.
		reqFlowAdvertise(c, una, 0)
	}
	return at
}

// reqFlowRTO measures the target's retransmission timeout on a twin of the
// connections the zero-window specs use: a connection to lfd sends 3000
// octets into a window of 3000, which are acknowledged (giving the target
// the same round-trip samples), then a segment that is not; the time to its
// retransmission is the RTO.
func reqFlowRTO(t *injector.T, lfd int) time.Duration {
	c, fd, _ := reqFlowConnect(t, lfd, 3000)
	reqFlowSendBulk(t, c, fd, 3000, 3000)
	c.Send(wire.ACK)
	msg := []byte("retransmit me")
	t.Write(fd, msg)
	first := c.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(3001), Payload(msg)))
	again := reqFlowWithin(t, c, first.At, 0, reqFlowLong(t, 130*time.Second, 5*time.Second),
		BeSegment(FlagsInclude(wire.ACK), Seq(3001), PayloadLen(len(msg))))
	c.Send(wire.ACK)
	return again.At - first.At
}

// Section 3.8.6: a peer may shrink its window, moving the right edge left
// (here from SND.UNA+4000 to 2001 octets in, below what was sent). The
// sender must cope (MUST-34: no reset, no loss of synchronization), should
// send no new data beyond the new edge (SHLD-15), and should go on
// retransmitting the unacknowledged data inside it (SHLD-16); it may also
// retransmit beyond (MAY-7), so the retransmission's length is not checked.
var _ = check([]string{"MUST-34", "SHLD-15", "SHLD-16", "MAY-7"}, "3.8.6", "window shrunk below what was sent: in-window data retransmitted, nothing new, connection intact", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowConnect(t, reqFlowListen(t, 0), 4000)
		reqFlowSendBulk(t, c, fd, 8000, 4000)
		// The peer keeps the first 1000 octets and shrinks its window to
		// 1000: the right edge moves from ISS+4001 to ISS+2001.
		una := c.TargetISS.Add(1001)
		reqFlowAdvertise(c, una, 1000)
		reqFlowWithin(t, c, t.Peer().Elapsed(), 0, reqFlowLong(t, 130*time.Second, 5*time.Second),
			reqFlowSeg{fmt.Sprintf("a retransmission of the data at seq %d (SND.UNA): flags without RST", uint32(una)),
				func(s wire.Segment) bool { return reqFlowDataSeg.ok(s) && s.Seq == una }})
		// The peer takes up to its right edge, then opens the window wide.
		reqFlowAdvertise(c, c.TargetISS.Add(2001), injector.DefaultWindow)
		reqFlowDrain(t, c, c.TargetISS.Add(8001))
		c.ExpectNothing(200 * time.Millisecond)
		t.Expect(c.State()).To(BeInState(state.Established))
	})

// Section 3.8.6.1: zero windows must be probed. After all data sent is
// acknowledged with a zero window while more waits, the first probe should
// come after about one retransmission timeout (SHLD-29, the RTO measured on
// a twin connection) and the intervals should grow exponentially (SHLD-30);
// when the window opens, the data follows.
var _ = check([]string{"MUST-36", "SHLD-29", "SHLD-30"}, "3.8.6.1", "zero window: probes after an RTO, backing off; data resumes when it opens", withState,
	func(t *injector.T) {
		lfd := reqFlowListen(t, 0)
		rto := reqFlowRTO(t, lfd)
		c, fd, _ := reqFlowConnect(t, lfd, 3000)
		reqFlowSendBulk(t, c, fd, 6000, 3000)
		una := c.RcvNxt
		reqFlowAdvertise(c, una, 0)
		zero := t.Peer().Elapsed()
		at := reqFlowProbeZero(t, c, una, 3, zero)
		d := []time.Duration{at[0] - zero, at[1] - at[0], at[2] - at[1]}
		tol := t.Peer().Tolerance
		t.Expect(d[0]).To(gm.And(gm.BeNumerically(">=", rto/2-tol), gm.BeNumerically("<=", 2*rto+tol)),
			"RFC 9293 section 3.8.6.1 (SHLD-29): the first probe should come one RTO (%v here) after the window closed; it came after %v", rto, d[0])
		t.Expect(d[1] > d[0]*13/10 && d[2] > d[1]*13/10).To(gm.BeTrue(),
			"RFC 9293 section 3.8.6.1 (SHLD-30): the intervals between probes should grow exponentially; they were %v", d)
		reqFlowOpenWide(t, c, c.TargetISS.Add(6001))
		t.Expect(c.State()).To(BeInState(state.Established))
	})

// Section 3.8.6: when the peer shrinks its window to zero with data
// outstanding (the right edge moves back to SND.UNA), the sender must probe
// it the standard way (MUST-35); when it reopens, the data the peer dropped
// is sent again.
var _ = check([]string{"MUST-35"}, "3.8.6", "window shrunk to zero with data outstanding: probed, then resent", withState,
	func(t *injector.T) {
		c, una := reqFlowShrunkToZero(t)
		reqFlowProbeZero(t, c, una, 2, t.Peer().Elapsed())
		reqFlowOpenWide(t, c, c.TargetISS.Add(6001))
		t.Expect(c.State()).To(BeInState(state.Established))
	})

// Sections 3.8.6 and 3.8.6.1: while the peer keeps answering probes of its
// zero window, the connection must stay open however long that lasts
// (MUST-37, here 30 minutes, well beyond R2); data beyond the shrunk right
// edge that stays unacknowledged all that time is no reason to time out
// either (SHLD-17).
var _ = check([]string{"MUST-37", "SHLD-17"}, "3.8.6.1", "window held at zero for 30 minutes, probes answered: the connection stays", injector.Needs{State: true, VirtualTime: true},
	func(t *injector.T) {
		c, una := reqFlowShrunkToZero(t)
		start := t.Peer().Elapsed()
		from := start
		probes := 0
		for from-start < 30*time.Minute {
			from = reqFlowProbeZero(t, c, una, 1, from)[0]
			probes++
			t.Expect(c.State()).To(BeInState(state.Established),
				"RFC 9293 section 3.8.6.1 (MUST-37): the connection ended after %v of answered probes (%d)", from-start, probes)
		}
		reqFlowOpenWide(t, c, c.TargetISS.Add(6001))
		t.Expect(c.State()).To(BeInState(state.Established))
	})

// reqFlowFill sends data the application does not read until the target's
// receive window is closed. Each segment fits the window the target last
// advertised, and each is acknowledged before the next goes. It returns
// what the target's acknowledgments said: the right edges
// (SEG.ACK+SEG.WND), in order, and the largest window.
func reqFlowFill(t *injector.T, c *injector.TConn, synack wire.Segment) (sent int, edges []seq.Value, maxWnd int) {
	edge := synack.Ack.Add(seq.Size(synack.Window))
	edges, maxWnd = []seq.Value{edge}, int(synack.Window)
	wnd := int(synack.Window)
	for i := 0; wnd > 0; i++ {
		if i == 500 {
			t.Fatalf("the target's receive window did not close after %d octets (window %d)", sent, wnd)
		}
		n := min(int(edge.Offset(c.SndNxt)), reqFlowMSS)
		if n <= 0 {
			t.Fatalf("the target's window is %d but its right edge %d is not beyond RCV.NXT %d", wnd, uint32(edge), uint32(c.SndNxt))
		}
		c.Send(wire.ACK, injector.WithPayload(pattern(n, 'a')))
		sent += n
		for {
			o := reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 600*time.Millisecond, reqFlowPureACK)
			s := o.Segment
			edge, wnd = s.Ack.Add(seq.Size(s.Window)), int(s.Window)
			edges, maxWnd = append(edges, edge), max(maxWnd, wnd)
			if s.Ack == c.SndNxt {
				break
			}
			if wnd == 0 {
				// The window closed before all of it was taken (Linux
				// may refuse data its buffer cannot hold after all):
				// what is beyond RCV.NXT counts as never sent.
				sent -= int(c.SndNxt.Offset(s.Ack))
				c.SndNxt = s.Ack
				break
			}
		}
	}
	return sent, edges, maxWnd
}

// reqFlowEdgesNeverLeft checks that the right edges a receiver advertised
// never moved left (section 3.8.6, SHLD-14).
func reqFlowEdgesNeverLeft(t *injector.T, edges []seq.Value) {
	for i := 1; i < len(edges); i++ {
		if edges[i].LessThan(edges[i-1]) {
			t.Fatalf("RFC 9293 section 3.8.6 (SHLD-14): the receiver should not shrink its window, but its right edge moved from %d to %d (ACK %d of %d)",
				uint32(edges[i-1]), uint32(edges[i]), i, len(edges)-1)
		}
	}
}

// reqFlowRcvbuf is the receive buffer the window specs give the target, so
// that a few segments close its window.
const reqFlowRcvbuf = 16384

// Section 3.8.6: a receiver should not move its right edge left, through all
// its acknowledgments while the application does not read (SHLD-14). It may
// keep the window closed as long as it likes (MAY-8); meanwhile the peer's
// one-octet probes are answered with <ACK=RCV.NXT>, their octet not taken,
// and the connection stays.
var _ = check([]string{"SHLD-14", "MAY-8"}, "3.8.6", "receive window fills: the right edge never moves left; probes of the closed window answered", withState,
	func(t *injector.T) {
		c, _, synack := reqFlowConnect(t, reqFlowListen(t, reqFlowRcvbuf), injector.DefaultWindow)
		_, edges, _ := reqFlowFill(t, c, synack)
		gaps := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
		if reqFlowVirtual(t) {
			gaps = append(gaps, 2*time.Minute, 4*time.Minute, 8*time.Minute)
		}
		rcvNxt := c.SndNxt
		for _, gap := range gaps {
			t.Sleep(gap)
			c.Send(wire.ACK, injector.WithPayload([]byte("?")))
			c.SndNxt = rcvNxt
			o := reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, reqFlowPureACK)
			t.Expect(o.Segment.Ack).To(gm.Equal(rcvNxt),
				"a probe's octet beyond a closed window must not be taken (RFC 9293 section 3.10.7.4)\n  segment   %v", o)
			edges = append(edges, o.Segment.Ack.Add(seq.Size(o.Segment.Window)))
			t.Expect(c.State()).To(BeInState(state.Established))
		}
		reqFlowEdgesNeverLeft(t, edges)
	})

// Section 3.8.6.2.2: the receiver avoids the silly window syndrome: it
// keeps the right edge where it is until it can offer at least
// min(Fr*RCV.BUFF, MSS), Fr = 1/2 (the suggested algorithm then offers all
// of RCV.BUFF-RCV.USER). RCV.BUFF is at least the largest window advertised,
// so whenever the right edge moves, the window offered must be at least
// min(largest window/2, MSS), however small the application's reads; a
// window that shrinks as data arrives, its edge fixed, is no concern here.
// With the window closed the application reads 100 octets at a time; every
// 500 octets the peer probes with one octet at RCV.NXT, as a sender probes a
// zero window, and the ACK says where the window stands. The first window
// the target opens must be that large.
var _ = check([]string{"MUST-39"}, "3.8.6.2.2", "receiver SWS avoidance: a closed window reopens only to a large window under tiny reads", withState,
	func(t *injector.T) {
		c, fd, synack := reqFlowConnect(t, reqFlowListen(t, reqFlowRcvbuf), injector.DefaultWindow)
		sent, edges, maxWnd := reqFlowFill(t, c, synack)
		step := min(maxWnd/2, reqFlowMSS)
		closed := edges[len(edges)-1] // RCV.NXT: the window is zero
		read := 0
		var opened *expectations.Observed
		look := func(got []expectations.Observed) {
			for i, o := range got {
				e := o.Segment.Ack.Add(seq.Size(o.Segment.Window))
				if e.LessThan(closed) {
					t.Fatalf("the right edge moved left, from %d to %d (RFC 9293 section 3.8.6, SHLD-14)\n  segment   %v", uint32(closed), uint32(e), o)
				}
				if e.GreaterThan(closed) && opened == nil {
					opened = &got[i]
				}
			}
		}
		for i := 0; opened == nil && read < sent; i++ {
			read += len(t.Read(fd, 100))
			look(reqFlowTake(t, c))
			if opened != nil || i%5 != 4 {
				continue
			}
			// Every 500 octets read, less than the smallest window the
			// receiver may open to, the peer probes.
			t.Sleep(20 * time.Millisecond)
			look(reqFlowTake(t, c))
			if opened != nil {
				break
			}
			before := c.SndNxt
			c.Send(wire.ACK, injector.WithPayload([]byte("+")))
			got := []expectations.Observed{reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, reqFlowPureACK)}
			t.Sleep(20 * time.Millisecond)
			got = append(got, reqFlowTake(t, c)...)
			if got[len(got)-1].Segment.Ack == before {
				c.SndNxt = before // not taken: the window was closed
			}
			look(got)
		}
		if opened == nil {
			c.Send(wire.ACK, injector.WithSeq(c.SndNxt.Sub(1)))
			look([]expectations.Observed{reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, reqFlowPureACK)})
		}
		if opened == nil {
			t.Fatalf("the window stayed closed after the application read all %d octets", sent)
		}
		t.Expect(int(opened.Segment.Window)).To(gm.BeNumerically(">=", step),
			"RFC 9293 section 3.8.6.2.2 (MUST-39): a closed window must stay closed until it can open to min(RCV.BUFF/2, MSS), at least %d here; "+
				"it opened to %d after the application had read %d octets\n  segment   %v", step, opened.Segment.Window, read, *opened)
	})

// Section 3.8.6.2.1: the sender avoids the silly window syndrome: with much
// data queued it sends only when a full segment fits, or at least
// Fs*max(SND.WND) (Fs = 1/2), or when an override timeout of 0.1 to 1 s
// ends. The peer reopens its window 10, 20, 30 and 40 octets at a time, all
// within 90 ms (before any override timeout); nothing may be sent. Then it
// opens the window wide and full segments follow.
var _ = check([]string{"MUST-38"}, "3.8.6.2.1", "sender SWS avoidance: no tiny segments into a window opening by tiny steps", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowConnect(t, reqFlowListen(t, 0), 4000)
		reqFlowSendBulk(t, c, fd, 10000, 4000)
		una := c.RcvNxt
		start := t.Peer().Elapsed()
		for _, w := range []uint16{10, 20, 30, 40} {
			c.Window = w
			c.Send(wire.ACK)
			c.ExpectNothing(20 * time.Millisecond)
		}
		c.ExpectNothing(max(start+90*time.Millisecond-t.Peer().Elapsed(), 0))
		reqFlowWindowReopens(t, c, una)
	})

// --- RFC 9293 section 3.8.6.3: acknowledgments ---

// reqFlowLoneSegments sends n small segments one at a time, each after the
// previous was acknowledged, and returns how long each acknowledgment took;
// each must come within 0.5 s (MUST-40).
func reqFlowLoneSegments(t *injector.T, c *injector.TConn, n int) []time.Duration {
	var delays []time.Duration
	for i := 0; i < n; i++ {
		from := t.Peer().Elapsed()
		c.Send(wire.PSH|wire.ACK, injector.WithPayload(pattern(100, 'a')))
		o := reqFlowWithin(t, c, from, 0, 500*time.Millisecond, BeSegment(Flags(wire.ACK), AckNum(c.SndNxt), PayloadLen(0)))
		delays = append(delays, o.At-from)
	}
	return delays
}

// Section 3.8.6.3: an ACK may be delayed, but by less than 0.5 s. Lone small
// segments, 24 of them (past any quick-ACK start), are each acknowledged
// within 0.5 s.
var _ = check([]string{"MUST-40"}, "3.8.6.3", "delayed ACKs: every lone segment acknowledged within 0.5 s", withState,
	func(t *injector.T) {
		c, _, _ := reqFlowAccept(t)
		reqFlowLoneSegments(t, c, 24)
	})

// Section 3.8.6.3: a receiver should delay its ACKs. Of 24 lone small
// segments, past any quick-ACK start, some acknowledgment must be held back
// (at least 20 ms: well above the time an immediate one takes).
var _ = check([]string{"SHLD-18"}, "3.8.6.3", "delayed ACKs: lone segments are acknowledged after a delay", withState,
	func(t *injector.T) {
		c, _, _ := reqFlowAccept(t)
		delays := reqFlowLoneSegments(t, c, 24)
		t.Expect(reqFlowMaxDelay(delays)).To(gm.BeNumerically(">=", 20*time.Millisecond),
			"RFC 9293 section 3.8.6.3 (SHLD-18): ACKs should be delayed; every lone segment was acknowledged at once: %v", delays)
	})

func reqFlowMaxDelay(d []time.Duration) time.Duration {
	m := time.Duration(0)
	for _, x := range d {
		m = max(m, x)
	}
	return m
}

// Section 3.8.6.3: with a stream of full-sized segments, an ACK should be
// sent for at least every second one (2*RMSS octets). After 20 lone
// segments (past any quick-ACK start), 8 full-sized segments go back to
// back; no acknowledgment may advance by more than two of them. Each is
// taken in before the next arrives (on a virtual clock the stack settles
// between them; how a stack batches segments that arrive at once would
// otherwise decide the outcome from one run to the next).
var _ = check([]string{"SHLD-19"}, "3.8.6.3", "an ACK for at least every second full-sized segment", withState,
	func(t *injector.T) {
		c, _, _ := reqFlowAccept(t)
		reqFlowLoneSegments(t, c, 20)
		last := c.SndNxt
		for i := 0; i < 8; i++ {
			c.Send(wire.ACK, injector.WithPayload(pattern(reqFlowMSS, 'a')))
			t.Peer().Instance().Clock().Settle()
		}
		var acks []uint32
		for last != c.SndNxt {
			o := reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, reqFlowPureACK)
			adv := o.Segment.Ack.Offset(last)
			acks = append(acks, uint32(o.Segment.Ack))
			if adv > 2*reqFlowMSS {
				t.Fatalf("RFC 9293 section 3.8.6.3 (SHLD-19): an ACK should go at least every second full-sized segment; one acknowledged %d octets at once (ACKs %v)", adv, acks)
			}
			if adv > 0 {
				last = o.Segment.Ack
			}
		}
	})

// --- RFC 9293 sections 3.7.4 and 3.9.1.2: sending ---

// Section 3.9.1.2: without a push flag in the API, the sender must set PSH
// on the segment that empties its send buffer. One write of 3500 octets goes
// out as several segments; the last must carry PSH.
var _ = check([]string{"MUST-61"}, "3.9.1.2", "PSH on the segment that empties the send buffer", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		t.Write(fd, pattern(3500, 'a'))
		end := c.TargetISS.Add(3501)
		segs := reqFlowDrain(t, c, end)
		lastSeg := segs[len(segs)-1]
		t.Expect(lastSeg.Segment.Flags.Has(wire.PSH)).To(gm.BeTrue(),
			"RFC 9293 section 3.9.1.2 (MUST-61): the segment that empties the send buffer must carry PSH\n  segment   %v", lastSeg)
	})

// Section 3.9.1.2: without a push flag in the API, data must not be buffered
// indefinitely. A small write on an idle connection goes at once; a second
// one, which Nagle may hold while the first is unacknowledged, goes as soon
// as the first is acknowledged (within 1 s, the bound used here).
var _ = check([]string{"MUST-60"}, "3.9.1.2", "small writes are not buffered indefinitely", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		first, second := []byte("first"), []byte("second")
		from := t.Peer().Elapsed()
		t.Write(fd, first)
		reqFlowWithin(t, c, from, 0, time.Second, BeSegment(FlagsInclude(wire.ACK), Seq(1), Payload(first)))
		t.Write(fd, second)
		t.Sleep(50 * time.Millisecond)
		got := reqFlowTake(t, c)
		if len(got) == 0 {
			from = t.Peer().Elapsed()
			c.Send(wire.ACK)
			got = append(got, reqFlowWithin(t, c, from, 0, time.Second, reqFlowDataSeg))
		}
		t.Expect(got[0].Segment.Seq).To(gm.Equal(c.TargetISS.Add(1 + seq.Size(len(first)))))
		t.Expect(got[0].Segment.Payload).To(gm.Equal(second))
	})

// Section 3.9.1.2: the sender should send segments as large as it can. A
// bulk write with the window open goes out in segments of the full effective
// MSS (the peer's 1000), all but the last.
var _ = check([]string{"SHLD-28"}, "3.9.1.2", "bulk data in full-sized segments", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		t.Write(fd, pattern(9500, 'a'))
		segs := reqFlowDrain(t, c, c.TargetISS.Add(9501))
		for i, o := range segs[:len(segs)-1] {
			t.Expect(len(o.Segment.Payload)).To(gm.Equal(reqFlowMSS),
				"RFC 9293 section 3.9.1.2 (SHLD-28): segment %d of %d is not full-sized\n  segment   %v", i+1, len(segs), o)
		}
	})

// --- RFC 9293 section 3.10.7.4: segment arrives ---

// Section 3.10.7.4: a segment that starts beyond RCV.NXT should be held for
// when the gap fills (SHLD-31); the receiver may acknowledge RCV.NXT at once
// (MAY-13), but must not acknowledge what it lacks. When the gap fills, one
// cumulative ACK covers both without the later segment being sent again,
// and the application reads both in order.
var _ = check([]string{"SHLD-31", "MAY-13"}, "3.10.7.4", "an out-of-order segment is held; the gap filled, both are acknowledged", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		data := pattern(2*reqFlowMSS, 'a')
		c.Send(wire.PSH|wire.ACK, injector.WithSeq(c.ISN.Add(1+reqFlowMSS)), injector.WithPayload(data[reqFlowMSS:]))
		t.Sleep(100 * time.Millisecond)
		for _, o := range reqFlowTake(t, c) {
			t.Expect(o).To(BeSegment(Flags(wire.ACK), Ack(1), PayloadLen(0)),
				"an out-of-order segment may draw an immediate ACK of RCV.NXT, nothing else")
		}
		from := t.Peer().Elapsed()
		c.Send(wire.ACK, injector.WithSeq(c.ISN.Add(1)), injector.WithPayload(data[:reqFlowMSS]))
		reqFlowWithin(t, c, from, 0, 500*time.Millisecond, BeSegment(Flags(wire.ACK), Ack(int64(1+len(data))), PayloadLen(0)))
		t.Expect(readFull(t, fd, len(data))).To(gm.Equal(data))
	})

// Section 3.10.7.4 (MAY-12): a stack may add RFC 5961 section 5's check of
// the ACK field: data whose SEG.ACK is below SND.UNA-MAX.SND.WND is dropped
// and answered with an ACK, so blindly injected data is not delivered.
var _ = check([]string{"MAY-12"}, "3.10.7.4", "RFC 5961 ACK check: data acknowledging far below SND.UNA dropped with an ACK", withState,
	func(t *injector.T) {
		if p := t.Profile(); !p.Follows("rfc5961") {
			t.Skipf("the %s profile does not follow RFC 5961, whose ACK check MAY-12 allows", p.Target)
		}
		c, fd, _ := reqFlowAccept(t)
		rcvNxt := c.SndNxt
		// MAX.SND.WND is the peer's 65535 (no window scaling): 70000 below
		// SND.UNA is out of bounds.
		c.Send(wire.PSH|wire.ACK, injector.WithAck(c.RcvNxt.Sub(70000)), injector.WithPayload([]byte("injected")))
		o := reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, reqFlowAny)
		if o.Segment.Flags == wire.ACK && o.Segment.Ack == c.SndNxt {
			t.Skipf("the target took the data (it acknowledged it): it does not add RFC 5961's ACK check (MAY-12 is not taken)\n  segment   %v", o)
		}
		t.Expect(o).To(BeSegment(Flags(wire.ACK), SeqNum(c.RcvNxt), AckNum(rcvNxt), PayloadLen(0)),
			"RFC 5961 section 5.2: the segment is dropped and an ACK sent")
		c.SndNxt = rcvNxt
		genuine := []byte("genuine")
		c.Send(wire.PSH|wire.ACK, injector.WithPayload(genuine))
		reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, BeSegment(Flags(wire.ACK), AckNum(c.SndNxt), PayloadLen(0)))
		t.Expect(t.Read(fd, 100)).To(gm.Equal(genuine), "the injected data must not be delivered")
	})

// --- RFC 9293 section 3.4: RST and URG in a closed window ---

// Section 3.4: even with a zero receive window, the RST and URG of every
// incoming segment must be processed. With the window closed, a reset at
// RCV.NXT resets the connection.
var _ = check([]string{"MUST-66"}, "3.4", "zero receive window: an RST is still processed", withState,
	func(t *injector.T) {
		c, fd, synack := reqFlowConnect(t, reqFlowListen(t, reqFlowRcvbuf), injector.DefaultWindow)
		reqFlowFill(t, c, synack)
		c.Send(wire.RST)
		c.ExpectNothing(200 * time.Millisecond)
		t.Expect(c.State()).To(noConnection(), "RFC 9293 section 3.4 (MUST-66): an RST must be processed with the window closed")
		t.Expect(t.Sockets().GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(int(syscall.ECONNRESET)))
	})

// Section 3.4: the same for URG: with the window closed, a segment at
// RCV.NXT without data but with URG, pointing 5 octets ahead, is processed.
// Once the application has read and the window opened, the peer sends 10
// octets without URG; the fifth is the urgent one the target was told of,
// and recv(MSG_OOB) returns it.
var _ = check([]string{"MUST-66"}, "3.4", "zero receive window: URG is still processed", withState,
	func(t *injector.T) {
		fio, ok := t.Sockets().(targets.FlaggedIO)
		if !ok {
			t.Skipf("the target's sockets take no receive flags (no targets.FlaggedIO), so recv(MSG_OOB) cannot tell whether URG was processed")
		}
		c, fd, synack := reqFlowConnect(t, reqFlowListen(t, reqFlowRcvbuf), injector.DefaultWindow)
		sent, _, _ := reqFlowFill(t, c, synack)
		urg := buildSegment(t, c, wire.ACK|wire.URG, nil, nil)
		urg.Urgent = 5
		injectOn(t, c, urg)
		c.ExpectNothing(100 * time.Millisecond)
		readFull(t, fd, sent)
		t.Sleep(50 * time.Millisecond)
		reqFlowTake(t, c) // window updates
		c.Send(wire.ACK, injector.WithPayload([]byte("0123U56789")))
		reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, BeSegment(Flags(wire.ACK), AckNum(c.SndNxt)))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		b, err := fio.RecvFrom(ctx, fd, 1, syscall.MSG_OOB)
		t.Expect(err).NotTo(gm.HaveOccurred(),
			"RFC 9293 section 3.4 (MUST-66): the URG that came with the window closed must be processed, so the urgent octet is there to read")
		t.Expect(b).To(gm.Equal([]byte("U")))
	})

// --- RFC 9293 sections 3.5.3 and 3.6: resets and closing ---

// Section 3.5.3: a reset may carry data (a diagnostic); such an RST must be
// accepted like any other.
var _ = check([]string{"SHLD-2"}, "3.5.3", "an RST carrying data resets the connection", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		c.Send(wire.RST, injector.WithPayload([]byte("reset: diagnostic text")))
		c.ExpectNothing(200 * time.Millisecond)
		t.Expect(c.State()).To(noConnection(), "RFC 9293 section 3.5.3 (SHLD-2): an RST with data should be accepted")
		t.Expect(t.Sockets().GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(int(syscall.ECONNRESET)))
	})

// reqFlowReset matches a reset the target sends on c at sequence number v,
// with no FIN: flags [R] or [R.].
func reqFlowReset(v seq.Value) reqFlowSeg {
	return reqFlowSeg{fmt.Sprintf("a reset: flags [R] or [R.], seq %d, no FIN", uint32(v)), func(s wire.Segment) bool {
		return s.Flags&wire.RST != 0 && s.Flags&(wire.FIN|wire.SYN) == 0 && s.Seq == v
	}}
}

// Section 3.6.1: a host that closes both directions at once and still has
// received data the application never read should send a reset, not a FIN,
// to show that data was lost.
var _ = check([]string{"SHLD-3"}, "3.6.1", "close() with unread data sends RST, not FIN", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		c.Send(wire.PSH|wire.ACK, injector.WithPayload([]byte("never read")))
		reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, BeSegment(Flags(wire.ACK), AckNum(c.SndNxt)))
		t.Close(fd)
		c.Expect(reqFlowReset(c.RcvNxt))
		t.Expect(c.State()).To(noConnection())
	})

// Section 3.6.1: the same when new data arrives after close(): the
// application can no longer read it, so a reset should say it was lost.
var _ = check([]string{"SHLD-3"}, "3.6.1", "data arriving after close() draws RST", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		t.Close(fd)
		c.Expect(BeSegment(Flags(wire.FIN|wire.ACK), Seq(1), Ack(1)))
		c.Send(wire.ACK)
		c.Send(wire.PSH|wire.ACK, injector.WithPayload([]byte("too late")))
		reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, reqFlowReset(c.RcvNxt))
	})

// reqFlowTimeWait brings the connection c (accepted as fd) to TIME-WAIT on
// the target: the target closes first, the peer acknowledges, then sends its
// own FIN.
func reqFlowTimeWait(t *injector.T, c *injector.TConn, fd int) {
	t.Close(fd)
	c.Expect(BeSegment(Flags(wire.FIN|wire.ACK), Seq(1), Ack(1)))
	c.Send(wire.ACK)
	c.Send(wire.FIN | wire.ACK)
	c.Expect(BeSegment(Flags(wire.ACK), Seq(2), Ack(2)))
	t.Expect(c.State()).To(BeInState(state.TimeWait))
}

// reqFlowRedial is a new connection from the port of c, with initial
// sequence number isn.
func reqFlowRedial(t *injector.T, c *injector.TConn, isn seq.Value) *injector.TConn {
	n := t.Dial(servicePort)
	n.PeerPort, n.ISN, n.SndNxt = c.PeerPort, isn, isn
	return n
}

// Section 3.6.1 with RFC 6191: with timestamps, a SYN for the connection in
// TIME-WAIT whose TSval exceeds the last one seen on it should open a new
// connection, even though its sequence number is below the old RCV.NXT.
var _ = check([]string{"SHLD-4"}, "3.6.1", "RFC 6191: a SYN with a newer timestamp reopens a connection in TIME-WAIT", withState,
	func(t *injector.T) {
		lfd := reqFlowListen(t, 0)
		c, fd, _ := reqFlowConnect(t, lfd, injector.DefaultWindow, injector.DefaultSYNOptions()...)
		if !c.Timestamps() {
			t.Skipf("the target did not agree to timestamps, which RFC 6191 needs")
		}
		reqFlowTimeWait(t, c, fd)
		t.Sleep(50 * time.Millisecond) // the peer's timestamp clock moves on
		n := reqFlowRedial(t, c, c.ISN)
		n.Send(wire.SYN)
		n.Expect(reqFlowSeg{"SYN,ACK acknowledging the new SYN (RFC 6191 honours it)", func(s wire.Segment) bool {
			return s.Flags == wire.SYN|wire.ACK && s.Ack == n.ISN.Add(1)
		}})
		n.Send(wire.ACK)
		nfd := t.Accept(lfd)
		t.Expect(t.Sockets().RemoteAddr(nfd)).To(gm.Equal(n.PeerAddrPort()))
		t.Expect(n.State()).To(BeInState(state.Established))
	})

// reqFlowReopen brings a connection without timestamps to TIME-WAIT and
// sends a SYN for it whose sequence number lies above everything the old
// connection used. It skips when the target does not reopen (MAY-2 is a
// permission), and otherwise returns the old connection, the new one and
// the target's SYN,ACK.
func reqFlowReopen(t *injector.T, lfd int) (*injector.TConn, *injector.TConn, expectations.Observed) {
	c, fd, _ := reqFlowConnect(t, lfd, injector.DefaultWindow)
	reqFlowTimeWait(t, c, fd)
	n := reqFlowRedial(t, c, c.SndNxt.Add(100000))
	n.Send(wire.SYN, injector.WithOptions(wire.MSS(reqFlowMSS)))
	t.Sleep(100 * time.Millisecond)
	got := reqFlowTake(t, n)
	if len(got) == 0 || got[0].Segment.Flags != wire.SYN|wire.ACK {
		t.Skipf("the target does not reopen a connection from TIME-WAIT (MAY-2 is not taken): it answered %v", got)
	}
	return c, n, got[0]
}

// Section 3.6.1 (MAY-2): a connection in TIME-WAIT may be reopened by a new
// SYN if the new initial sequence number is larger than any the old
// connection used.
var _ = check([]string{"MAY-2"}, "3.6.1", "reopened from TIME-WAIT: the new ISS exceeds the old sequence numbers", withState,
	func(t *injector.T) {
		lfd := reqFlowListen(t, 0)
		c, n, synack := reqFlowReopen(t, lfd)
		old := c.RcvNxt // the old SND.NXT, past the target's FIN
		t.Expect(synack.Segment.Seq.GreaterThan(old)).To(gm.BeTrue(),
			"RFC 9293 section 3.6.1 (MAY-2): reopening from TIME-WAIT needs an ISS above the old connection's sequence numbers (%d)\n  segment   %v", uint32(old), synack)
		t.Expect(synack.Segment.Ack).To(gm.Equal(n.ISN.Add(1)))
		n.Send(wire.ACK)
		nfd := t.Accept(lfd)
		t.Expect(t.Sockets().RemoteAddr(nfd)).To(gm.Equal(n.PeerAddrPort()))
	})

// Section 3.6.1 (MAY-2): the other condition for reopening from TIME-WAIT:
// if the SYN turns out to be an old duplicate (the peer answers the SYN,ACK
// with <SEQ=SEG.ACK><CTL=RST>), the connection returns to TIME-WAIT.
var _ = check([]string{"MAY-2"}, "3.6.1", "reopened from TIME-WAIT by an old duplicate SYN: back to TIME-WAIT", withState,
	func(t *injector.T) {
		c, n, synack := reqFlowReopen(t, reqFlowListen(t, 0))
		n.Send(wire.RST, injector.WithSeq(synack.Segment.Ack))
		n.ExpectNothing(200 * time.Millisecond)
		t.Expect(c.State()).To(BeInState(state.TimeWait),
			"RFC 9293 section 3.6.1 (MAY-2): a host reopening from TIME-WAIT must return to TIME-WAIT when the SYN was an old duplicate")
	})

// Section 3.6: the application must be able to tell a normal close (FIN:
// read() returns end of stream) from an abort (RST: read() fails with
// ECONNRESET).
var _ = check([]string{"MUST-12"}, "3.6", "read(): end of stream after FIN, ECONNRESET after RST", withState,
	func(t *injector.T) {
		lfd := reqFlowListen(t, 0)
		fin, ffd, _ := reqFlowConnect(t, lfd, injector.DefaultWindow)
		rst, rfd, _ := reqFlowConnect(t, lfd, injector.DefaultWindow)
		fin.Send(wire.FIN | wire.ACK)
		fin.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(2)))
		rst.Send(wire.RST)
		rst.ExpectNothing(100 * time.Millisecond)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		b, err := t.Sockets().Read(ctx, ffd, 100)
		t.Expect(err).NotTo(gm.HaveOccurred(), "read() after the peer's FIN must report end of stream, not an error")
		t.Expect(b).To(gm.BeEmpty())
		_, err = t.Sockets().Read(ctx, rfd, 100)
		t.Expect(err).To(gm.MatchError(syscall.ECONNRESET), "read() after the peer's RST must report the reset")
	})

// --- RFC 9293 section 3.5: simultaneous open ---

// Section 3.5 (MUST-10): simultaneous open must work: the target's connect()
// sends SYN, the peer's SYN without ACK crosses it, the target answers
// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, the peer's ACK completes it;
// connect() succeeds and data flows both ways.
var _ = check([]string{"MUST-10"}, "3.5", "simultaneous open: SYNs cross, the connection opens and carries data", withState,
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		r.Send(wire.SYN)
		r.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1), PayloadLen(0)))
		r.Send(wire.ACK)
		r.ExpectNothing(100 * time.Millisecond)
		t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.BeZero())
		t.Expect(t.Sockets().SetNonblock(r.fd, false)).To(gm.Succeed())
		t.Expect(t.Sockets().RemoteAddr(r.fd)).To(gm.Equal(r.PeerAddrPort()))
		out := []byte("ping")
		t.Write(r.fd, out)
		r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Ack(1), Payload(out)))
		r.Send(wire.ACK)
		in := []byte("pong")
		r.Send(wire.PSH|wire.ACK, injector.WithPayload(in))
		reqFlowWithin(t, r.TConn, t.Peer().Elapsed(), 0, 500*time.Millisecond, BeSegment(Flags(wire.ACK), Seq(5), Ack(5)))
		t.Expect(t.Read(r.fd, 100)).To(gm.Equal(in))
	})

// Section 3.5 (MUST-11): SYN-RECEIVED remembers how it was reached. An
// acceptable RST there returns a passive open to LISTEN: the listener goes
// on accepting, and the reset connection's tuple meets the listener (an ACK
// for it draws <SEQ=SEG.ACK><CTL=RST>). After a simultaneous open the same
// RST means the connection was refused: connect() fails with ECONNREFUSED
// and the connection is CLOSED (an ACK for it draws RST too).
var _ = check([]string{"MUST-11"}, "3.5", "RST in SYN-RECEIVED: passive back to LISTEN, active refused", withState,
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		p := t.Dial(servicePort)
		p.Send(wire.SYN)
		p.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1)))
		p.Send(wire.RST)
		p.ExpectNothing(200 * time.Millisecond)
		reqFlowConnect(t, lfd, injector.DefaultWindow)
		p.Send(wire.ACK)
		p.Expect(BeSegment(Flags(wire.RST), SeqNum(p.RcvNxt), PayloadLen(0)))

		a := reach(t, state.SynSent)
		a.Send(wire.SYN)
		a.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1), PayloadLen(0)))
		a.Send(wire.RST)
		a.ExpectNothing(200 * time.Millisecond)
		// Which error is T059's concern ("connection refused"); here it
		// matters that the open failed rather than falling back to LISTEN.
		t.Expect(t.Sockets().GetsockoptInt(a.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).NotTo(gm.BeZero(),
			"RFC 9293 section 3.10.7.4: after an active open, an RST in SYN-RECEIVED fails the open (\"connection refused\")")
		a.Send(wire.ACK)
		a.Expect(reqFlowReset(a.RcvNxt))
	})
