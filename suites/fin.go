package suites

import (
	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// SEGMENT ARRIVES, RFC 9293 section 3.10.7.4, eighth check: the FIN bit
// (T094–T099). A FIN is acknowledged (RCV.NXT advanced over it), the user
// is told the connection is closing (a read returns end of stream), and the
// state moves per Figure 5. T100: in CLOSED, LISTEN and SYN-SENT the FIN is
// not processed, since SEG.SEQ cannot be validated.

// SYN-RECEIVED: an ACK of our SYN,ACK that also carries FIN first moves the
// connection to ESTABLISHED (fifth check), then the FIN moves it to
// CLOSE-WAIT and is acknowledged; the accepted socket reads end of stream.
var _ = spec("T094", state.SynReceived, "ACK,FIN completing the handshake: FIN acknowledged, CLOSE-WAIT, EOF",
	withSynReceivedState,
	func(t *injector.T) {
		r := reach(t, state.SynReceived)
		arriveAcked(t, r, state.CloseWait, wire.FIN|wire.ACK)
		fd := t.Accept(r.lfd)
		t.Expect(t.Read(fd, 100)).To(gm.BeEmpty())
	})

// ESTABLISHED: a FIN with data (the FIN implies PUSH) is acknowledged past
// the data and the FIN; CLOSE-WAIT; the data is read, then end of stream.
var _ = spec("T094", state.Established, "FIN with data: acknowledged over both, CLOSE-WAIT, data then EOF", withState,
	func(t *injector.T) {
		r := reach(t, state.Established)
		data := []byte("bye")
		arriveAcked(t, r, state.CloseWait, wire.FIN|wire.PSH|wire.ACK, injector.WithPayload(data))
		t.Expect(t.Read(r.fd, 100)).To(gm.Equal(data))
		t.Expect(t.Read(r.fd, 100)).To(gm.BeEmpty())
	})

// FIN-WAIT-1: a FIN whose segment also acknowledges our FIN: the fifth check
// moves to FIN-WAIT-2, the eighth to TIME-WAIT (transition left out of
// Figure 5, its note 2); the FIN is acknowledged, the stream ends.
var _ = spec("T095", state.FinWait1, "FIN acknowledging our FIN: FIN acknowledged, TIME-WAIT, EOF", withState,
	func(t *injector.T) {
		r := reach(t, state.FinWait1)
		arriveAcked(t, r, state.TimeWait, wire.FIN|wire.ACK)
		t.Expect(t.Read(r.fd, 100)).To(gm.BeEmpty())
	})

// FIN-WAIT-1: a FIN that does not acknowledge our FIN is a simultaneous close
// (Figure 13): CLOSING, the FIN acknowledged, the stream ends.
var _ = spec("T096", state.FinWait1, "FIN not acknowledging our FIN: FIN acknowledged, CLOSING, EOF", withState,
	func(t *injector.T) {
		r := reach(t, state.FinWait1)
		arriveAcked(t, r, state.Closing, wire.FIN|wire.ACK, injector.WithAck(sndUNA(r, state.FinWait1)))
		t.Expect(t.Read(r.fd, 100)).To(gm.BeEmpty())
	})

// FIN-WAIT-2: the peer's FIN is acknowledged and starts TIME-WAIT (Figure
// 12); the stream ends.
var _ = spec("T097", state.FinWait2, "FIN: acknowledged, TIME-WAIT, EOF", withState,
	func(t *injector.T) {
		r := reach(t, state.FinWait2)
		arriveAcked(t, r, state.TimeWait, wire.FIN|wire.ACK)
		t.Expect(t.Read(r.fd, 100)).To(gm.BeEmpty())
	})

// CLOSE-WAIT, CLOSING, LAST-ACK: a retransmission of the peer's FIN is
// acknowledged with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and the state stays
// (it arrives at RCV.NXT-1, fails the first check and is acknowledged
// there). Where our FIN is outstanding, the retransmission does not cover it.
var _ = eachState([]state.State{state.CloseWait, state.Closing, state.LastAck}, func(st state.State) {
	spec("T098", st, "retransmitted FIN acknowledged, state unchanged", withState,
		func(t *injector.T) {
			r := reach(t, st)
			r.Send(wire.FIN|wire.ACK, injector.WithSeq(r.SndNxt.Sub(1)), injector.WithAck(sndUNA(r, st)))
			r.expectPast(t, challengeACK(r.TConn))
			t.Expect(r.State()).To(BeInState(st))
		})
})

// TIME-WAIT: the peer's FIN, here the retransmission of a last segment that
// carried data and FIN, is acknowledged with <SEQ=SND.NXT><ACK=RCV.NXT>
// <CTL=ACK>, the 2 MSL timer restarts (not waited for here) and the state
// stays; the data is delivered once.
var _ = spec("T099", state.TimeWait, "retransmitted data and FIN acknowledged, TIME-WAIT, data read once", withState,
	func(t *injector.T) {
		r := reach(t, state.FinWait2)
		data := []byte("bye")
		last := r.SndNxt
		arriveAcked(t, r, state.TimeWait, wire.FIN|wire.PSH|wire.ACK, injector.WithPayload(data))

		r.Send(wire.FIN|wire.PSH|wire.ACK, injector.WithSeq(last), injector.WithPayload(data))
		r.expectPast(t, challengeACK(r.TConn))
		t.Expect(r.State()).To(BeInState(state.TimeWait))
		t.Expect(t.Read(r.fd, 100)).To(gm.Equal(data))
		t.Expect(t.Read(r.fd, 100)).To(gm.BeEmpty())
	})

// CLOSED (section 3.10.7.1): once LAST-ACK has ended in CLOSED, a
// retransmitted FIN finds no TCB; with ACK set it draws <SEQ=SEG.ACK>
// <CTL=RST>, and nothing is re-created.
var _ = spec("T100", state.Closed, "FIN after the connection closed draws <SEQ=SEG.ACK><CTL=RST>", withState,
	func(t *injector.T) {
		r := reach(t, state.LastAck)
		r.Send(wire.ACK)
		t.Expect(r.State()).To(BeInState(state.Closed))
		fin := r.Send(wire.FIN|wire.ACK, injector.WithSeq(r.SndNxt.Sub(1)))
		r.Expect(BeSegment(Flags(wire.RST), SeqNum(fin.Ack), PayloadLen(0)))
		t.Expect(r.State()).To(BeInState(state.Closed))
	})

// LISTEN (section 3.10.7.2, fourth check): a FIN without SYN or ACK is
// dropped: nothing is sent, no connection is made, the listener stays.
var _ = spec("T100", state.Listen, "FIN without ACK dropped: nothing sent, no connection", withState,
	func(t *injector.T) {
		r := reach(t, state.Listen)
		r.Send(wire.FIN)
		r.quiet(t, arriveQuiet)
		listenStays(t, r.TConn)
		listenNoneQueued(t, r.lfd)
	})

// SYN-SENT (section 3.10.7.3, fifth check): a FIN with neither SYN nor RST
// (nor ACK) is dropped: nothing is sent and the state stays.
var _ = spec("T100", state.SynSent, "FIN without SYN or ACK dropped: nothing sent, SYN-SENT", withState,
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		arriveQuietly(t, r, state.SynSent, wire.FIN)
	})
