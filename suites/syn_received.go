package suites

import (
	"syscall"
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// SYN-RECEIVED, SEGMENT ARRIVES: RFC 9293 section 3.10.7.4, whose checks run
// in order: sequence number (first), RST (second), security (third), SYN
// (fourth), ACK (fifth). Where the connection came from matters (MUST-11): a
// passive one (from LISTEN, reach(t, state.SynReceived)) falls back to
// LISTEN, an active one (simultaneous open, simultaneousOpen) is refused.

// synReceivedGone checks that a passive child is gone (its tuple has no
// connection) while the listener goes on listening and accepting: a new
// connection completes, and accept() returns it rather than the old one.
func synReceivedGone(t *injector.T, r reached) {
	t.Expect(r.State()).To(noConnection(),
		"the half-open connection must be dropped")
	t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
	c, fd, _ := passiveOpen(t, r.lfd, injector.DefaultWindow)
	connectedTo(t, fd, c, "accept() must return the new connection, not the reset one")
}

// synReceivedConnected checks that the target's connect() succeeded.
func synReceivedConnected(t *injector.T, r reached) {
	t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(0))
	connectedTo(t, r.fd, r.TConn)
}

// Second check, passive: an acceptable reset (SEG.SEQ=RCV.NXT, which also
// satisfies RFC 5961 section 3) returns the connection to LISTEN without
// telling the user; the SYN,ACK is no longer retransmitted and the listener
// keeps accepting.
var _ = spec("T058", state.SynReceived, "RST from a passive open: back to LISTEN, the listener keeps accepting", withSynReceivedState,
	func(t *injector.T) {
		r := reach(t, state.SynReceived)
		r.Send(wire.RST) // SEG.SEQ = RCV.NXT = IRS+1
		r.ExpectNothing(200 * time.Millisecond)
		synReceivedGone(t, r)
	}, "MUST-11")

// Second check, active (simultaneous open): an acceptable reset means the
// connection was refused: the user is told "connection refused" and the TCB
// is deleted (CLOSED).
var _ = spec("T059", state.SynReceived, "RST after a simultaneous open: CLOSED, connect() fails with ECONNREFUSED", withState,
	func(t *injector.T) {
		r := simultaneousOpen(t, synACK)
		drawsNothing(t, r, state.Closed, wire.RST) // SEG.SEQ = RCV.NXT = IRS+1
		t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(int(syscall.ECONNREFUSED)),
			"RFC 9293 section 3.10.7.4: signal the user \"connection refused\"")
	}, "MUST-11")

// Third check, security and compartment: IP security options (RFC 1108)
// are obsolete and no target under test carries them.
var _ = spec("T064", state.SynReceived, "security/compartment mismatch", withState,
	func(t *injector.T) {
		t.Skipf("IP security options (RFC 1108) are not modelled: no stack under test implements them, so no compartment can mismatch")
	})

// Fourth check, passive: a SYN that passes the sequence check (here
// SEG.SEQ=RCV.NXT, not a retransmission of the first SYN) returns the
// connection to LISTEN. RFC 9293 sends nothing here; RFC 793 sent a reset.
var _ = spec("T066", state.SynReceived, "in-window SYN on a passive open: nothing sent, back to LISTEN", withSynReceivedState,
	func(t *injector.T) {
		r := reach(t, state.SynReceived)
		r.Send(wire.SYN) // SEG.SEQ = RCV.NXT = IRS+1
		r.ExpectNothing(200 * time.Millisecond)
		synReceivedGone(t, r)
	})

// Fourth check, active (simultaneous open): handled as in the synchronized
// states. A stack with the RFC 5961 section 4 mitigation sends a challenge
// ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> whatever the sequence number and
// stays; one without resets an in-window SYN and closes (the RFC 793 rule).
var _ = spec("T067", state.SynReceived, "in-window SYN after a simultaneous open: as in the synchronized states", withState,
	func(t *injector.T) {
		r := simultaneousOpen(t, synACK)
		switch p := t.Profile(); {
		case p.Follows("rfc5961"):
			r.Send(wire.SYN) // SEG.SEQ = RCV.NXT = IRS+1
			// SND.NXT = ISS+1, RCV.NXT = IRS+1: the new SYN is not taken in.
			r.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(1), PayloadLen(0)))
			t.Expect(r.State()).To(BeInState(state.SynReceived))
			// The connection is intact: the ACK of its SYN completes it.
			r.Send(wire.ACK, injector.WithSeq(r.ISN.Add(1)))
			t.Expect(r.State()).To(BeInState(state.Established))
		case p.Follows("rfc793"):
			r.Send(wire.SYN)
			r.Expect(BeSegment(FlagsInclude(wire.RST), PayloadLen(0)))
			t.Expect(r.State()).To(BeInState(state.Closed))
		default:
			t.Skipf("the %s profile follows neither rfc5961 nor rfc793 for a SYN in a synchronized state", p.Target)
		}
	})

// Simultaneous open, RFC 9293 section 3.5 Figure 7 line 6: the peer's
// SYN,ACK (SEG.SEQ=IRS, SEG.ACK=ISS+1) acknowledges the target's SYN and the
// connection is ESTABLISHED. SEG.SEQ lies below RCV.NXT, so a literal reading
// of the acceptability test (section 3.10.7.4, first check) rejects it with
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; Appendix A.2 notes the conflict and
// leaves it open. Both outcomes are accepted as long as the connection
// converges: the strict one must take the ACK the peer (ESTABLISHED per
// Figure 7) sends when the target's SYN,ACK comes again.
var _ = spec("T068", state.SynReceived, "SYN,ACK after a simultaneous open: ESTABLISHED (Figure 7), connect() succeeds", withState,
	func(t *injector.T) {
		r := simultaneousOpen(t, synACK)
		r.Send(wire.SYN|wire.ACK, injector.WithSeq(r.ISN)) // IRS again; ack ISS+1
		t.Sleep(200 * time.Millisecond)
		acked := replied(t, r.TConn)
		if acked {
			r.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(1), PayloadLen(0)))
		}
		if acked && r.State() == state.SynReceived {
			// Strict reading: still half-open; the peer's ACK finishes it.
			r.Send(wire.ACK)
		}
		t.Expect(r.State()).To(BeInState(state.Established))
		r.ExpectNothing(200 * time.Millisecond)
		synReceivedConnected(t, r)
	}, "MUST-10")

// Fifth check, passive: an acceptable ACK (SND.UNA < SEG.ACK =< SND.NXT)
// completes the handshake: ESTABLISHED, nothing to send, and accept()
// returns the connection.
var _ = spec("T075", state.SynReceived, "acceptable ACK on a passive open: ESTABLISHED, accept() returns it", withSynReceivedState,
	func(t *injector.T) {
		r := reach(t, state.SynReceived)
		drawsNothing(t, r, state.Established, wire.ACK) // SEG.ACK = ISS+1 = SND.NXT
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		connectedTo(t, t.Accept(r.lfd), r.TConn)
	})

// Fifth check, active (simultaneous open, Figure 7 with a separate ACK): an
// acceptable ACK completes the handshake and connect() succeeds.
var _ = spec("T075", state.SynReceived, "acceptable ACK after a simultaneous open: ESTABLISHED, connect() succeeds", withState,
	func(t *injector.T) {
		r := simultaneousOpen(t, synACK)
		drawsNothing(t, r, state.Established, wire.ACK) // SEQ = IRS+1, SEG.ACK = ISS+1 = SND.NXT
		synReceivedConnected(t, r)
	}, "MUST-10")

// Fifth check, passive: an ACK that does not acknowledge the SYN
// (SEG.ACK =< SND.UNA) draws <SEQ=SEG.ACK><CTL=RST>, and the connection stays
// half-open for a valid ACK (section 3.5.2, case 2). The ACKs lie within
// MAX.SND.WND below SND.UNA, so RFC 5961 section 5 sends no challenge ACK
// for them (that is T074).
var _ = spec("T076", state.SynReceived, "unacceptable ACK on a passive open: <SEQ=SEG.ACK><CTL=RST>, SYN-RECEIVED", withSynReceivedState,
	func(t *injector.T) {
		r := reach(t, state.SynReceived)
		for _, below := range []seq.Size{1000, 0} {
			segAck := r.TargetISS.Sub(below) // below SND.UNA = ISS, then SND.UNA itself
			r.Send(wire.ACK, injector.WithAck(segAck))
			r.Expect(BeSegment(Flags(wire.RST), SeqNum(segAck), PayloadLen(0)))
			t.Expect(r.State()).To(BeInState(state.SynReceived))
		}
		r.Send(wire.ACK)
		t.Expect(r.State()).To(BeInState(state.Established))
	})

// Fifth check, active (simultaneous open): the same rule. SEG.ACK=SND.UNA
// (the ISS: the peer has not seen the SYN) is not acceptable in RFC 9293,
// which asks SND.UNA < SEG.ACK (RFC 793 allowed SND.UNA =< SEG.ACK).
var _ = spec("T076", state.SynReceived, "unacceptable ACK after a simultaneous open: <SEQ=SEG.ACK><CTL=RST>, SYN-RECEIVED", withState,
	func(t *injector.T) {
		r := simultaneousOpen(t, synACK)
		for _, below := range []seq.Size{1000, 0} {
			segAck := r.TargetISS.Sub(below)
			r.Send(wire.ACK, injector.WithAck(segAck))
			r.Expect(BeSegment(Flags(wire.RST), SeqNum(segAck), PayloadLen(0)))
			t.Expect(r.State()).To(BeInState(state.SynReceived))
		}
		r.Send(wire.ACK)
		t.Expect(r.State()).To(BeInState(state.Established))
		synReceivedConnected(t, r)
	})
