package suites

import (
	"bytes"
	"syscall"
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// SEGMENT ARRIVES in a synchronized state, RFC 9293 section 3.10.7.4, fifth
// check: the ACK field (T077–T088). The helpers named arrive* are shared with
// urg_text.go (sixth and seventh checks) and fin.go (eighth check); those
// shared more widely are in helpers.go.

// arriveQuiet is how long a spec waits to see that nothing is sent. It stays
// below the smallest retransmission timeout of the targets (200 ms), so a
// FIN or data still outstanding is not retransmitted meanwhile.
const arriveQuiet = 150 * time.Millisecond

// arriveAckStates are the states the fifth check treats alike (T077–T080).
var arriveAckStates = []state.State{
	state.Established, state.FinWait1, state.FinWait2, state.CloseWait, state.Closing,
}

// arriveSendingStates are those of arriveAckStates in which the target can
// still have data of its own in flight: in FIN-WAIT-2 all of it, the FIN
// included, has been acknowledged.
var arriveSendingStates = []state.State{
	state.Established, state.FinWait1, state.CloseWait, state.Closing,
}

// arriveAcks expects the target to acknowledge data or a FIN it has just
// received: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. The ACK may be delayed, but
// by less than 0.5 s (RFC 9293 section 3.8.6.3, MUST-40); Linux delays up to
// 40 ms outside quick-ack mode.
func arriveAcks(t *injector.T, r reached) {
	p := t.Peer()
	tol := p.Tolerance
	p.Tolerance = 500 * time.Millisecond
	defer func() { p.Tolerance = tol }()
	r.Expect(BeSegment(Flags(wire.ACK), SeqNum(r.RcvNxt), AckNum(r.SndNxt), PayloadLen(0)))
}

// arriveAcked has the peer send a segment with flags (and opts) on r, which
// the target must acknowledge (arriveAcks); the connection is then in st.
func arriveAcked(t *injector.T, r reached, st state.State, flags wire.Flags, opts ...injector.SendOption) {
	r.Send(flags, opts...)
	arriveAcks(t, r)
	t.Expect(r.State()).To(BeInState(st))
}

// arriveQuietly has the peer send a segment with flags (and opts) on r, which
// draws nothing from the target (r.quiet for arriveQuiet); the connection is
// then in st.
func arriveQuietly(t *injector.T, r reached, st state.State, flags wire.Flags, opts ...injector.SendOption) {
	r.Send(flags, opts...)
	r.quiet(t, arriveQuiet)
	t.Expect(r.State()).To(BeInState(st))
}

// arriveOpen is a passive open like acceptConn, but the peer's SYN carries
// only an MSS option of mss and the peer advertises window bytes: without
// window scaling the window is exact, and without timestamps the peer can
// build segments of its own (arriveSendUrg).
func arriveOpen(t *injector.T, mss, window uint16) reached {
	c, fd, _ := passiveOpen(t, t.Listen(servicePort), window, injector.WithOptions(wire.MSS(mss)))
	t.Expect(c.State()).To(BeInState(state.Established))
	return reached{TConn: c, fd: fd, lfd: -1}
}

// arriveReach is reach over arriveOpen (MSS 1460, window 65535, no
// timestamps), the target's ACKs of the peer's FIN allowed the delay of
// arriveAcks, for the synchronized states.
func arriveReach(t *injector.T, st state.State) reached {
	return reachVia(t, st,
		func(t *injector.T) reached { return arriveOpen(t, 1460, 65535) },
		func(t *injector.T, r reached, _, _ int64) { arriveAcks(t, r) })
}

// arriveHeld brings a connection to st (one of arriveSendingStates) with
// data of the target's in flight and more held back by the peer's window:
// the peer offers MSS 100 and a window of 200 bytes, the application writes
// 300, so octets 1–200 are sent in two segments and 201–300 wait (behind
// them the FIN, in FIN-WAIT-1 and CLOSING). It returns the data written.
func arriveHeld(t *injector.T, st state.State) (reached, []byte) {
	data := bytes.Repeat([]byte("0123456789"), 30)
	r := arriveOpen(t, 100, 200)
	if st == state.CloseWait {
		arriveAcked(t, r, state.CloseWait, wire.FIN|wire.ACK)
	}
	t.Write(r.fd, data)
	r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Payload(data[:100])))
	r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(101), Payload(data[100:200])))
	if st == state.FinWait1 || st == state.Closing {
		// The FIN queues behind the held data; the state changes at once
		// (RFC 9293 section 3.10.4).
		t.Shutdown(r.fd, syscall.SHUT_WR)
		t.Expect(r.State()).To(BeInState(state.FinWait1))
	}
	if st == state.Closing {
		// The peer's FIN acknowledges nothing of the target's.
		arriveAcked(t, r, state.Closing, wire.FIN|wire.ACK, injector.WithAck(r.TargetISS.Add(1)))
	}
	// The window is full: nothing more leaves.
	r.quiet(t, arriveQuiet)
	t.Expect(r.State()).To(BeInState(st))
	return r, data
}

// arriveDataFin brings a connection to st (FIN-WAIT-1, CLOSING or LAST-ACK)
// with five octets of the target's data and its FIN both unacknowledged. An
// ACK of r.RcvNxt-1 then covers the data and not the FIN.
func arriveDataFin(t *injector.T, st state.State) reached {
	from := state.Established
	if st == state.LastAck {
		from = state.CloseWait
	}
	r := reach(t, from)
	data := []byte("hello")
	t.Write(r.fd, data)
	r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), AckNum(r.SndNxt), Payload(data)))
	t.Shutdown(r.fd, syscall.SHUT_WR)
	r.Expect(BeSegment(Flags(wire.FIN|wire.ACK), Seq(6), AckNum(r.SndNxt)))
	if st == state.Closing {
		r.Send(wire.FIN|wire.ACK, injector.WithAck(r.TargetISS.Add(1)))
		arriveAcks(t, r)
	}
	t.Expect(r.State()).To(BeInState(st))
	return r
}

// arriveAfterData brings a connection to st (one of arriveAckStates) after
// the target has sent five octets and the peer has acknowledged them, so that
// SND.UNA is past ISS+1 and an older ACK acknowledges octets really sent.
func arriveAfterData(t *injector.T, st state.State) reached {
	r := reach(t, state.Established)
	data := []byte("hello")
	t.Write(r.fd, data)
	r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Payload(data)))
	r.Send(wire.ACK)
	switch st {
	case state.FinWait1, state.FinWait2, state.Closing:
		t.Shutdown(r.fd, syscall.SHUT_WR)
		r.Expect(BeSegment(Flags(wire.FIN|wire.ACK), Seq(6), Ack(1)))
		if st == state.FinWait2 {
			r.Send(wire.ACK)
		}
		if st == state.Closing {
			r.Send(wire.FIN|wire.ACK, injector.WithAck(r.RcvNxt.Sub(1)))
			arriveAcks(t, r)
		}
	case state.CloseWait:
		r.Send(wire.FIN | wire.ACK)
		arriveAcks(t, r)
	}
	t.Expect(r.State()).To(BeInState(st))
	return r
}

// An ACK that advances (SND.UNA < SEG.ACK =< SND.NXT) sets SND.UNA to it and
// takes what it covers off the retransmission queue. With the peer's window
// full, an ACK of the first 100 of the 200 octets in flight, offering 201
// octets from there, leaves room for the 100 held octets (and a FIN behind
// them, which takes a sequence number too): they leave at once. Had SND.UNA
// not moved, the same window would leave room for one octet only. (In
// FIN-WAIT-2 everything, FIN included, is already acknowledged, so no ACK
// can advance there.)
var _ = eachState(arriveSendingStates, func(st state.State) {
	spec("T077", st, "ACK advancing SND.UNA slides the window: held data leaves, state unchanged", withState,
		func(t *injector.T) {
			r, data := arriveHeld(t, st)
			r.Send(wire.ACK, injector.WithAck(r.TargetISS.Add(101)), injector.WithWindow(201))
			r.expectPast(t, BeSegment(FlagsInclude(wire.ACK), Seq(201), Payload(data[200:])))
			t.Expect(r.State()).To(BeInState(st))
		})
})

// The send window is updated from any ACK with SND.UNA =< SEG.ACK =< SND.NXT
// that is newer than the last update (SND.WL1, SND.WL2). RFC 9293 relaxed
// RFC 793's SND.UNA < SEG.ACK: a pure window update that acknowledges
// nothing new (SEG.ACK = SND.UNA) must open the window. A window of 301
// octets from SND.UNA has room for the held data and a FIN behind it, which
// then leave at once.
var _ = eachState(arriveSendingStates, func(st state.State) {
	spec("T078", st, "window update with SEG.ACK = SND.UNA opens the window: held data leaves", withState,
		func(t *injector.T) {
			r, data := arriveHeld(t, st)
			r.Send(wire.ACK, injector.WithAck(r.TargetISS.Add(1)), injector.WithWindow(301))
			r.expectPast(t, BeSegment(FlagsInclude(wire.ACK), Seq(201), Payload(data[200:])))
			t.Expect(r.State()).To(BeInState(st))
		})
})

// A duplicate ACK (SEG.ACK =< SND.UNA) can be ignored. After the target's
// first five octets are acknowledged, an old ACK of ISS+1 (the handshake's,
// arriving late) draws nothing and changes nothing. (It lies within
// SND.UNA-MAX.SND.WND as RFC 5961 section 5.2 wants, and Linux's tighter
// bound of the octets acknowledged so far.)
var _ = eachState(arriveAckStates, func(st state.State) {
	spec("T079", st, "old ACK (SEG.ACK < SND.UNA) ignored: nothing sent, state unchanged", withState,
		func(t *injector.T) {
			r := arriveAfterData(t, st)
			arriveQuietly(t, r, st, wire.ACK, injector.WithAck(r.TargetISS.Add(1)))
		})
})

// An ACK of something not yet sent (SEG.ACK > SND.NXT): send an ACK
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, drop the segment and return.
var _ = eachState(arriveAckStates, func(st state.State) {
	spec("T080", st, "ACK beyond SND.NXT draws <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, state unchanged", withState,
		func(t *injector.T) {
			r := reach(t, st)
			r.Send(wire.ACK, injector.WithAck(r.RcvNxt.Add(1000)))
			r.expectPast(t, challengeACK(r.TConn))
			t.Expect(r.State()).To(BeInState(st))
		})
})

// FIN-WAIT-1: once the FIN is acknowledged, enter FIN-WAIT-2 (Figure 5). The
// ACK itself draws nothing.
var _ = spec("T081", state.FinWait1, "ACK of our FIN: FIN-WAIT-2, nothing sent", withState,
	func(t *injector.T) {
		r := reach(t, state.FinWait1)
		arriveQuietly(t, r, state.FinWait2, wire.ACK)
	})

// FIN-WAIT-1: an ACK that covers the data sent before the FIN but not the
// FIN is processed as in ESTABLISHED; the state stays.
var _ = spec("T082", state.FinWait1, "ACK of the data but not of our FIN: nothing sent, FIN-WAIT-1", withState,
	func(t *injector.T) {
		r := arriveDataFin(t, state.FinWait1)
		arriveQuietly(t, r, state.FinWait1, wire.ACK, injector.WithAck(r.RcvNxt.Sub(1)))
	})

// FIN-WAIT-2: an acceptable ACK is processed as in ESTABLISHED; the
// connection waits for the peer's FIN and sends nothing.
var _ = spec("T083", state.FinWait2, "acceptable ACK: nothing sent, FIN-WAIT-2", withState,
	func(t *injector.T) {
		r := reach(t, state.FinWait2)
		arriveQuietly(t, r, state.FinWait2, wire.ACK)
	})

// CLOSING: the ACK of our FIN completes the simultaneous close (Figure 13):
// TIME-WAIT, nothing sent.
var _ = spec("T084", state.Closing, "ACK of our FIN: TIME-WAIT, nothing sent", withState,
	func(t *injector.T) {
		r := reach(t, state.Closing)
		arriveQuietly(t, r, state.TimeWait, wire.ACK)
	})

// CLOSING: an ACK that does not cover our FIN (here: it covers the data
// before it) is otherwise ignored; the state stays.
var _ = spec("T085", state.Closing, "ACK of the data but not of our FIN: nothing sent, CLOSING", withState,
	func(t *injector.T) {
		r := arriveDataFin(t, state.Closing)
		arriveQuietly(t, r, state.Closing, wire.ACK, injector.WithAck(r.RcvNxt.Sub(1)))
	})

// LAST-ACK: the ACK of our FIN deletes the TCB: CLOSED, nothing sent.
var _ = spec("T086", state.LastAck, "ACK of our FIN: CLOSED, nothing sent", withState,
	func(t *injector.T) {
		r := reach(t, state.LastAck)
		arriveQuietly(t, r, state.Closed, wire.ACK)
	})

// LAST-ACK: an ACK that does not cover our FIN (here: it covers the data
// before it) leaves the connection waiting in LAST-ACK.
var _ = spec("T087", state.LastAck, "ACK of the data but not of our FIN: nothing sent, LAST-ACK", withState,
	func(t *injector.T) {
		r := arriveDataFin(t, state.LastAck)
		arriveQuietly(t, r, state.LastAck, wire.ACK, injector.WithAck(r.RcvNxt.Sub(1)))
	})

// TIME-WAIT: the only segment expected is a retransmission of the peer's FIN
// (it arrives again at RCV.NXT-1). It is acknowledged with
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and the connection stays in TIME-WAIT.
var _ = spec("T088", state.TimeWait, "retransmitted FIN acknowledged, TIME-WAIT", withState,
	func(t *injector.T) {
		r := reach(t, state.TimeWait)
		r.Send(wire.FIN|wire.ACK, injector.WithSeq(r.SndNxt.Sub(1)))
		r.expectPast(t, challengeACK(r.TConn))
		t.Expect(r.State()).To(BeInState(state.TimeWait))
	})
