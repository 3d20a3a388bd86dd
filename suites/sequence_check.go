package suites

import (
	"bytes"
	"context"
	"syscall"
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// SEGMENT ARRIVES in SYN-RECEIVED and the synchronized states, RFC 9293
// section 3.10.7.4, first check: the sequence number (T050–T054). The RST
// check is in rst.go, the security and SYN checks, with the first ACK
// checks, in syn_in_sync.go. The helpers of the three files start with
// "fc" (first checks); those shared more widely are in helpers.go.

// fcStates are the states whose segments go through the checks of
// section 3.10.7.4: SYN-RECEIVED, then the synchronized ones.
var fcStates = append([]state.State{state.SynReceived}, synchronized...)

// fcReceiving are the states in which the peer may still send data (its
// FIN has not been sent): the target still takes text in.
var fcReceiving = []state.State{state.Established, state.FinWait1, state.FinWait2}

// fcFar is how far beyond RCV.NXT a segment is put to lie outside any
// receive window: more than the largest window RFC 7323 allows (2^30), and
// still "after" RCV.NXT in sequence space (less than 2^31 away).
const fcFar = 1<<30 + 1<<20

// fcInside is how far beyond RCV.NXT a segment is put to lie inside the
// receive window without starting at its left edge. Every target offers
// more than this.
const fcInside = 100

// fcProbe sends a segment the target must not take in, leaving the
// peer's SND.NXT where it was, so that later segments and the expected
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> stay right.
func fcProbe(r reached, flags wire.Flags, opts ...injector.SendOption) wire.Segment {
	nxt := r.SndNxt
	s := r.Send(flags, opts...)
	r.SndNxt = nxt
	return s
}

// fcChallenged sends a segment the target must not take in (fcProbe) and
// expects <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> for it, then nothing more; the
// connection stays in st.
func fcChallenged(t *injector.T, r reached, st state.State, flags wire.Flags, opts ...injector.SendOption) {
	want := challengeACK(r.TConn)
	fcProbe(r, flags, opts...)
	r.expectPast(t, want)
	r.quiet(t, 200*time.Millisecond)
	t.Expect(r.State()).To(BeInState(st))
}

// fcDropped sends a segment the target must not take in (fcProbe) and checks
// that it is dropped silently: nothing is sent, the connection stays in st.
func fcDropped(t *injector.T, r reached, st state.State, flags wire.Flags, opts ...injector.SendOption) {
	fcProbe(r, flags, opts...)
	r.quiet(t, 200*time.Millisecond)
	t.Expect(r.State()).To(BeInState(st))
}

// fcUndelivered checks that no text is there for the application to
// read: none in the states where the peer may still send (EAGAIN), end of
// stream once the peer's FIN came (CLOSE-WAIT, CLOSING, LAST-ACK). A passive
// child (SYN-RECEIVED) and a TIME-WAIT connection have no socket to read.
func fcUndelivered(t *injector.T, r reached, st state.State) {
	if r.fd < 0 || st == state.SynReceived || st == state.TimeWait {
		return
	}
	t.Expect(t.Sockets().SetNonblock(r.fd, true)).To(gm.Succeed())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	b, err := t.Sockets().Read(ctx, r.fd, 1000)
	switch st {
	case state.Established, state.FinWait1, state.FinWait2:
		t.Expect(err).To(gm.MatchError(syscall.EAGAIN), "the discarded text must not reach the application (read returned %q)", b)
	default:
		t.Expect(err).To(gm.Succeed())
		t.Expect(b).To(gm.BeEmpty(), "after the peer's FIN, reads see end of stream, not the discarded text")
	}
	t.Expect(t.Sockets().SetNonblock(r.fd, false)).To(gm.Succeed())
}

// fcText is n bytes of text made of c.
func fcText(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }

// First check, an unacceptable segment without RST (Table 6: with text and
// an open window, neither its first nor its last octet lies in
// RCV.NXT..RCV.NXT+RCV.WND-1): the target answers
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, drops the segment and stays where it
// was. Here the text lies wholly beyond the window.
var _ = eachState(fcStates, func(st state.State) {
	spec("T050", st, "text beyond the receive window draws <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, state unchanged", needsIn(st),
		func(t *injector.T) {
			r := reach(t, st)
			fcChallenged(t, r, st, wire.PSH|wire.ACK, injector.WithSeq(r.SndNxt.Add(fcFar)),
				injector.WithAck(sndUNA(r, st)), injector.WithPayload(fcText('x', 100)))
			fcUndelivered(t, r, st)
		})
})

// First check, the other side of the window: text wholly before RCV.NXT (an
// old duplicate, its last octet at RCV.NXT-1) is unacceptable too, and is
// acknowledged with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and dropped.
var _ = eachState(fcStates, func(st state.State) {
	spec("T050", st, "old duplicate text before RCV.NXT draws <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, state unchanged", needsIn(st),
		func(t *injector.T) {
			r := reach(t, st)
			fcChallenged(t, r, st, wire.PSH|wire.ACK, injector.WithSeq(r.SndNxt.Sub(100)),
				injector.WithAck(sndUNA(r, st)), injector.WithPayload(fcText('o', 100)))
			fcUndelivered(t, r, st)
		})
})

// First check with RST set: an unacceptable reset is dropped without a reply
// (section 3.10.7.4: "If an incoming segment is not acceptable, an
// acknowledgment should be sent in reply (unless the RST bit is set, if so
// drop the segment and return)"; RFC 5961 section 3.2 likewise for a reset
// outside the window). Here the reset lies far beyond the window.
var _ = eachState(fcStates, func(st state.State) {
	spec("T051", st, "RST beyond the receive window is dropped silently, state unchanged", needsIn(st),
		func(t *injector.T) {
			r := reach(t, st)
			fcDropped(t, r, st, wire.RST, injector.WithSeq(r.SndNxt.Add(fcFar)))
		})
})

// The same just left of the window: a reset at RCV.NXT-1 (the sequence
// number of the peer's last octet, its FIN where one was sent) fails the
// zero-length test SEG.SEQ = RCV.NXT of a closed window and
// RCV.NXT =< SEG.SEQ of an open one, so it is dropped silently too.
var _ = eachState(fcStates, func(st state.State) {
	spec("T051", st, "RST at RCV.NXT-1, just left of the window, is dropped silently, state unchanged", needsIn(st),
		func(t *injector.T) {
			r := reach(t, st)
			fcDropped(t, r, st, wire.RST, injector.WithSeq(r.SndNxt.Sub(1)))
		})
})

// fcRcvBuf is the receive buffer asked for on the listener of a
// zero-window spec, so that a few segments fill it.
const fcRcvBuf = 4096

// fcZeroWindow brings a connection to st (ESTABLISHED, FIN-WAIT-1 or
// FIN-WAIT-2) with the target's receive window closed: a small receive
// buffer, no window scaling (so the window field is the window), and text
// that the application does not read, sent up to each window's right edge
// until the target acknowledges all of it and advertises a zero window.
// FIN-WAIT-1 and FIN-WAIT-2 then follow with shutdown(SHUT_WR), as in reach.
func fcZeroWindow(t *injector.T, st state.State) reached {
	lfd := t.Listen(servicePort)
	if err := t.Sockets().SetsockoptInt(lfd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, fcRcvBuf); err != nil {
		t.Skipf("a small receive buffer is needed to close the window: SO_RCVBUF: %v", err)
	}
	c := t.Dial(servicePort)
	c.Send(wire.SYN, injector.WithOptions(wire.MSS(1460), wire.SACKPermitted{}, wire.Timestamps{}))
	o := c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1), NoOption(wire.KindWindowScale)))
	c.Send(wire.ACK)
	fd := t.Accept(lfd)
	right := o.Segment.Ack.Add(seq.Size(o.Segment.Window))
	for i := 0; ; i++ {
		if i == 1000 {
			t.Errorf("the target never advertised a zero window (its application reads nothing; right edge %v, SND.NXT %v)", right, c.SndNxt)
		}
		if room := right.Offset(c.SndNxt); room > 0 {
			c.Send(wire.PSH|wire.ACK, injector.WithPayload(fcText('z', int(min(room, 1000)))))
		}
		o := c.Expect(BeSegment(Flags(wire.ACK), SeqNum(c.RcvNxt), PayloadLen(0)))
		if o.Segment.Window == 0 && o.Segment.Ack == c.SndNxt {
			break
		}
		right = o.Segment.Ack.Add(seq.Size(o.Segment.Window))
	}
	t.Expect(c.State()).To(BeInState(state.Established))
	r := reached{TConn: c, fd: fd, lfd: lfd}
	if st == state.FinWait1 || st == state.FinWait2 {
		t.Shutdown(fd, syscall.SHUT_WR)
		r.Expect(BeSegment(Flags(wire.FIN|wire.ACK), SeqNum(r.RcvNxt), AckNum(r.SndNxt), Window(0)))
	}
	if st == state.FinWait2 {
		// Zero length at RCV.NXT: acceptable at a zero window.
		r.Send(wire.ACK)
	}
	t.Expect(r.State()).To(BeInState(st))
	return r
}

// First check with a zero receive window: only a zero-length segment at
// exactly RCV.NXT is acceptable, and its RST and ACK must still be processed
// (section 3.4, MUST-66). An RST there resets the connection, with nothing
// sent.
var _ = eachState(fcReceiving, func(st state.State) {
	spec("T052", st, "zero window: RST at RCV.NXT is still processed, CLOSED", withState,
		func(t *injector.T) {
			r := fcZeroWindow(t, st)
			drawsNothing(t, r, state.Closed, wire.RST)
		}, "MUST-66")
})

// The same for the ACK field: with the window closed, a zero-length ACK at
// RCV.NXT that acknowledges the target's FIN moves FIN-WAIT-1 to FIN-WAIT-2
// (section 3.10.7.4, fifth check), nothing sent.
var _ = spec("T052", state.FinWait1, "zero window: an ACK at RCV.NXT is still processed, its ACK of the FIN gives FIN-WAIT-2", withState,
	func(t *injector.T) {
		r := fcZeroWindow(t, state.FinWait1)
		drawsNothing(t, r, state.FinWait2, wire.ACK) // SEG.SEQ = RCV.NXT, SEG.ACK = SND.NXT
	}, "MUST-66")

// With the window closed, a segment with text is never acceptable (Table 6,
// SEG.LEN > 0 and RCV.WND = 0): it draws <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>,
// still with a zero window, and is not taken in.
var _ = eachState(fcReceiving, func(st state.State) {
	spec("T052", st, "zero window: text at RCV.NXT draws <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and is not taken", withState,
		func(t *injector.T) {
			r := fcZeroWindow(t, st)
			want := BeSegment(Flags(wire.ACK), SeqNum(r.RcvNxt), AckNum(r.SndNxt), Window(0), PayloadLen(0))
			fcProbe(r, wire.PSH|wire.ACK, injector.WithAck(sndUNA(r, st)), injector.WithPayload(fcText('w', 100)))
			r.expectPast(t, want)
			r.quiet(t, 200*time.Millisecond)
			t.Expect(r.State()).To(BeInState(st))
		}, "MUST-66")
})

// CLOSE-WAIT, CLOSING, LAST-ACK and TIME-WAIT come after the peer's FIN, and
// the FIN needs a unit of window; SYN-RECEIVED has not closed a window yet.
// The zero-window rules are checked in the states that still take text.

// First and seventh checks, out of order: a segment that is acceptable but
// starts beyond RCV.NXT is held for later processing (SHLD-31); an immediate
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> is allowed (MAY-13; RFC 5681 section
// 4.2 recommends it). When the gap is filled both are acknowledged at once
// and delivered in order.
var _ = eachState(fcReceiving, func(st state.State) {
	spec("T053", st, "out-of-order text is held: a duplicate ACK at most, then one ACK covering both once the gap fills", withState,
		func(t *injector.T) {
			r := reach(t, st)
			ack := sndUNA(r, st)
			first, second := fcText('a', 100), fcText('b', 100)
			start := r.SndNxt
			r.Send(wire.PSH|wire.ACK, injector.WithSeq(start.Add(100)), injector.WithAck(ack), injector.WithPayload(second))
			t.Sleep(50 * time.Millisecond)
			r.skipRetransmissions(t)
			if replied(t, r.TConn) {
				// MAY-13: an immediate ACK still asks for RCV.NXT.
				r.Expect(BeSegment(Flags(wire.ACK), SeqNum(r.RcvNxt), AckNum(start), PayloadLen(0)))
			}
			t.Expect(r.State()).To(BeInState(st))
			r.Send(wire.PSH|wire.ACK, injector.WithSeq(start), injector.WithAck(ack), injector.WithPayload(first))
			r.Expect(BeSegment(Flags(wire.ACK), SeqNum(r.RcvNxt), AckNum(start.Add(200)), PayloadLen(0)))
			t.Expect(readFull(t, r.fd, 200)).To(gm.Equal(append(first, second...)))
			t.Expect(r.State()).To(BeInState(st))
		}, "SHLD-31", "MAY-13")
})

// First check, a segment straddling RCV.NXT: its first octets are old, the
// rest new. It is acceptable (its last octet lies in the window); the
// target trims it to the octets from RCV.NXT on, acknowledges those and
// delivers only them.
var _ = eachState(fcReceiving, func(st state.State) {
	spec("T054", st, "text straddling RCV.NXT: only the new part is taken and acknowledged", withState,
		func(t *injector.T) {
			r := reach(t, st)
			ack := sndUNA(r, st)
			old, fresh := fcText('o', 50), fcText('n', 50)
			r.Send(wire.PSH|wire.ACK, injector.WithAck(ack), injector.WithPayload(old))
			r.Expect(BeSegment(Flags(wire.ACK), SeqNum(r.RcvNxt), AckNum(r.SndNxt), PayloadLen(0)))
			t.Expect(readFull(t, r.fd, 50)).To(gm.Equal(old))
			// The old 50 octets again, then 50 new ones.
			r.Send(wire.PSH|wire.ACK, injector.WithSeq(r.SndNxt.Sub(50)), injector.WithAck(ack),
				injector.WithPayload(append(append([]byte(nil), old...), fresh...)))
			r.Expect(BeSegment(Flags(wire.ACK), SeqNum(r.RcvNxt), AckNum(r.SndNxt), PayloadLen(0)))
			t.Expect(t.Read(r.fd, 100)).To(gm.Equal(fresh), "only the octets from RCV.NXT on are new")
			t.Expect(r.State()).To(BeInState(st))
		})
})
