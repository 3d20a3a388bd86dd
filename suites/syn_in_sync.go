package suites

import (
	"syscall"
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// SEGMENT ARRIVES in the synchronized states, RFC 9293 section 3.10.7.4:
// the third check (security, T065), the fourth (SYN, T069–T072), and the
// first two checks of the fifth (ACK bit off, T073; the RFC 5961 range of
// SEG.ACK, T074).

// Third check: IP security options (RFC 1108, the compartment of RFC 791)
// are obsolete and no target under test carries them.
var _ = eachState(synchronized, func(st state.State) {
	spec("T065", st, "security/compartment mismatch", withState,
		func(t *injector.T) {
			t.Skipf("IP security options (RFC 1108) are obsolete and not modelled: no stack under test implements them, so no security level or compartment can mismatch")
		})
})

// fcSYNOptions are those of the SYN of the fourth check: a plain SYN at exactly RCV.NXT,
// in the window, as from a peer that restarted and picked that ISN. It
// carries the connection's timestamps, except in TIME-WAIT: there a SYN
// whose timestamp is newer opens a new incarnation (RFC 6191, T071), so it
// goes without one, and since its sequence number is not above RCV.NXT
// nothing allows a reopening (RFC 9293 section 3.6.1, MAY-2, T072).
func fcSYNOptions(r reached, st state.State) []injector.SendOption {
	opts := []injector.SendOption{injector.WithSeq(r.SndNxt)}
	if st == state.TimeWait {
		opts = append(opts, injector.WithoutTimestamp())
	}
	return opts
}

// Fourth check, with RFC 5961 section 4.2: a SYN in a synchronized state,
// whatever its sequence number, draws a challenge ACK
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and is dropped; the connection stays.
// RFC 9293 keeps this for TIME-WAIT as well, except for a SYN whose
// timestamp meets RFC 6191's test.
var _ = eachState(synchronized, func(st state.State) {
	spec("T069", st, "SYN at RCV.NXT draws a challenge ACK, state unchanged", withState,
		func(t *injector.T) {
			r := reach(t, st)
			fcChallenged(t, r, st, wire.SYN, fcSYNOptions(r, st)...)
		})
})

// Fourth check without RFC 5961 (RFC 793 page 71): a SYN in the window is
// an error; the target sends a reset (its form is not specified), flushes
// the queues, tells the user "connection reset" and goes to CLOSED.
var _ = eachState(synchronized, func(st state.State) {
	spec("T070", st, "in-window SYN (no RFC 5961): RST sent, CLOSED", withState,
		func(t *injector.T) {
			r := reach(t, st)
			fcProbe(r, wire.SYN, fcSYNOptions(r, st)...)
			r.Expect(BeSegment(FlagsInclude(wire.RST), PayloadLen(0)))
			r.ExpectNothing(200 * time.Millisecond)
			t.Expect(r.State()).To(BeInState(state.Closed))
			switch st {
			case state.Established, state.FinWait1, state.FinWait2, state.CloseWait:
				t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(int(syscall.ECONNRESET)),
					"the user receives a \"connection reset\" signal")
			}
		})
})

// Fourth check in TIME-WAIT with RFC 6191 (SHLD-4, section 3.6.1): a SYN
// whose timestamp is newer than the last one seen on the old connection
// opens a new incarnation, whatever its sequence number; here it lies below
// the old RCV.NXT, so only the timestamp can justify it. The target answers
// <SEQ=ISS'><ACK=SEG.SEQ+1><CTL=SYN,ACK> and the connection is in
// SYN-RECEIVED.
var _ = spec("T071", state.TimeWait, "SYN with a newer timestamp, below RCV.NXT: a new incarnation, SYN,ACK, SYN-RECEIVED", withSynReceivedState,
	func(t *injector.T) {
		r := reach(t, state.TimeWait)
		t.Sleep(10 * time.Millisecond) // the peer's timestamp clock moves on
		isn := r.SndNxt.Sub(100000)
		r.Send(wire.SYN, injector.WithSeq(isn))
		r.Expect(BeSegment(Flags(wire.SYN|wire.ACK), AckNum(isn.Add(1)), PayloadLen(0)))
		t.Expect(r.State()).To(BeInState(state.SynReceived))
	}, "SHLD-4")

// Section 3.6.1 (MAY-2), without timestamps: a SYN whose sequence number is
// above the old RCV.NXT may reopen the connection from TIME-WAIT if the new
// ISS exceeds every sequence number the old connection used (the largest
// being its FIN, SND.NXT-1). The target answers
// <SEQ=ISS'><ACK=SEG.SEQ+1><CTL=SYN,ACK> and the connection is in
// SYN-RECEIVED.
var _ = spec("T072", state.TimeWait, "SYN without timestamps above RCV.NXT: SYN,ACK with ISS' above the old SND.NXT, SYN-RECEIVED", withSynReceivedState,
	func(t *injector.T) {
		r := reach(t, state.TimeWait)
		oldSndNxt := r.RcvNxt          // the target's SND.NXT, as the peer sees it
		t.Sleep(10 * time.Millisecond) // a reopening comes some time after the last ACK
		isn := r.SndNxt.Add(100000)
		r.Send(wire.SYN, injector.WithSeq(isn), injector.WithoutTimestamp())
		o := r.Expect(BeSegment(Flags(wire.SYN|wire.ACK), AckNum(isn.Add(1)), PayloadLen(0)))
		t.Expect(o.Segment.Seq.GreaterThanEq(oldSndNxt)).To(gm.BeTrue(),
			"ISS' %v must lie above %v, the last sequence number of the old connection", o.Segment.Seq, oldSndNxt.Sub(1))
		t.Expect(r.State()).To(BeInState(state.SynReceived))
	}, "MAY-2")

// Fifth check, first test: a segment without ACK (nor RST, nor SYN) is
// dropped, even with text in the window; nothing is sent and no text is
// delivered.
var _ = eachState(fcStates, func(st state.State) {
	spec("T073", st, "text at RCV.NXT without ACK is dropped silently, state unchanged", needsIn(st),
		func(t *injector.T) {
			r := reach(t, st)
			fcDropped(t, r, st, wire.PSH, injector.WithPayload(fcText('q', 100)))
			fcUndelivered(t, r, st)
		})
})

// Fifth check with RFC 5961 section 5.2 (MAY-12): an ACK is acceptable only
// in (SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT. Text at RCV.NXT whose
// ACK lies far below SND.UNA (more than any window the peer offered) is
// discarded, not delivered, and an ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
// is sent back. SYN-RECEIVED is not among these states: there an
// unacceptable ACK draws a reset (T076).
var _ = eachState(synchronized, func(st state.State) {
	spec("T074", st, "text whose ACK lies below SND.UNA - MAX.SND.WND draws <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, not delivered", withState,
		func(t *injector.T) {
			r := reach(t, st)
			fcChallenged(t, r, st, wire.PSH|wire.ACK, injector.WithAck(sndUNA(r, st).Sub(1<<30)), injector.WithPayload(fcText('m', 100)))
			fcUndelivered(t, r, st)
		}, "MAY-12")
})
