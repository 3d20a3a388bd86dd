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

// SEGMENT ARRIVES in SYN-RECEIVED and the synchronized states, RFC 9293
// section 3.10.7.4, second check: the RST bit (T055–T057, T060–T063; T058
// and T059, SYN-RECEIVED, are in syn_received.go). Resets here carry no ACK,
// as one answering a segment with ACK would (<SEQ=SEG.ACK><CTL=RST>,
// section 3.10.7.1).

// fcResetDone checks what an accepted reset does in st (section 3.10.7.4,
// second check, and section 3.5.3): a passive child in SYN-RECEIVED returns
// to LISTEN, so its own connection is gone and the listener still listens;
// every other state goes to CLOSED.
func fcResetDone(t *injector.T, r reached, st state.State) {
	if st == state.SynReceived {
		t.Expect(r.State()).To(noConnection(),
			"a reset passive child returns to LISTEN: the half-open connection must be gone")
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		return
	}
	t.Expect(r.State()).To(BeInState(state.Closed))
}

// fcResetName is what an accepted reset does in st, for spec names.
func fcResetName(st state.State) string {
	if st == state.SynReceived {
		return "back to LISTEN"
	}
	return "CLOSED"
}

// Second check, RFC 5961 section 3.2 rule 2 (and any in-window reset for a
// stack without RFC 5961): a reset whose sequence number is exactly RCV.NXT
// is accepted. Nothing is sent, and the connection takes its state's reset
// action: a passive SYN-RECEIVED goes back to LISTEN, every other state
// here to CLOSED (TIME-WAIT too, in RFC 9293; see T063 for RFC 1337).
var _ = eachState(fcStates, func(st state.State) {
	spec("T055", st, "RST at exactly RCV.NXT is accepted: nothing sent, "+fcResetName(st), needsIn(st),
		func(t *injector.T) {
			r := reach(t, st)
			r.Send(wire.RST) // SEG.SEQ = RCV.NXT
			r.ExpectNothing(200 * time.Millisecond)
			fcResetDone(t, r, st)
		})
})

// Second check, RFC 5961 section 3.2 rule 3: a reset in the window but not
// at RCV.NXT may be blind. The target sends a challenge ACK
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, drops the reset and stays; a peer
// that really reset would answer with a reset at exactly RCV.NXT.
var _ = eachState(fcStates, func(st state.State) {
	spec("T056", st, "in-window RST not at RCV.NXT draws a challenge ACK, state unchanged", needsIn(st),
		func(t *injector.T) {
			r := reach(t, st)
			fcChallenged(t, r, st, wire.RST, injector.WithSeq(r.SndNxt.Add(fcInside)))
		})
})

// The RFC 793 rule (RFC 9293 section 3.5.3) for stacks without RFC 5961: a
// reset is valid if its sequence number is anywhere in the window, so one
// in the window but not at RCV.NXT takes the state's reset action at once,
// with nothing sent.
var _ = eachState(fcStates, func(st state.State) {
	spec("T057", st, "in-window RST not at RCV.NXT is accepted (no RFC 5961): nothing sent, "+fcResetName(st), needsIn(st),
		func(t *injector.T) {
			r := reach(t, st)
			fcProbe(r, wire.RST, injector.WithSeq(r.SndNxt.Add(fcInside)))
			r.ExpectNothing(200 * time.Millisecond)
			fcResetDone(t, r, st)
		})
})

// Second check, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 and CLOSE-WAIT: an
// accepted reset flushes every queue and closes the connection, and the
// user gets an unsolicited "connection reset" (MUST-12: the application can
// tell an abort from a FIN). The socket's pending error is ECONNRESET.
var _ = eachState([]state.State{state.Established, state.FinWait1, state.FinWait2, state.CloseWait}, func(st state.State) {
	spec("T060", st, "accepted RST: nothing sent, CLOSED, the user sees ECONNRESET", withState,
		func(t *injector.T) {
			r := reach(t, st)
			drawsNothing(t, r, state.Closed, wire.RST) // SEG.SEQ = RCV.NXT
			t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(int(syscall.ECONNRESET)),
				"RFC 9293 section 3.10.7.4: the user receives a \"connection reset\" signal")
		}, "MUST-12")
})

// Section 3.5.3 (SHLD-2): a reset may carry data, such as a diagnostic, and
// is accepted all the same; the data is not delivered as text.
var _ = spec("T060", state.Established, "accepted RST carrying data: nothing sent, CLOSED, the user sees ECONNRESET", withState,
	func(t *injector.T) {
		r := reach(t, state.Established)
		drawsNothing(t, r, state.Closed, wire.RST, injector.WithPayload([]byte("diagnostic: connection aborted")))
		t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(int(syscall.ECONNRESET)))
	}, "SHLD-2", "MUST-12")

// Second check, CLOSING and LAST-ACK: the user has already closed, so an
// accepted reset just deletes the TCB: CLOSED, nothing sent, and the FIN
// still outstanding is not retransmitted.
var _ = eachState([]state.State{state.Closing, state.LastAck}, func(st state.State) {
	spec("T061", st, "accepted RST: nothing sent, CLOSED", withState,
		func(t *injector.T) {
			r := reach(t, st)
			drawsNothing(t, r, state.Closed, wire.RST) // SEG.SEQ = RCV.NXT
		})
})

// Second check, TIME-WAIT, as RFC 9293 has it: an accepted reset deletes the
// TCB at once, ending TIME-WAIT early. This is the assassination hazard of
// RFC 1337 section 1: a reset at exactly RCV.NXT is what a peer without
// state answers to the ACK of an old duplicate.
var _ = spec("T062", state.TimeWait, "accepted RST ends TIME-WAIT at once: nothing sent, CLOSED", withState,
	func(t *injector.T) {
		r := reach(t, state.TimeWait)
		drawsNothing(t, r, state.Closed, wire.RST) // SEG.SEQ = RCV.NXT
	})

// RFC 1337 section 3, fix F1: a reset in TIME-WAIT is ignored, so TIME-WAIT
// always runs its full course. Nothing is sent and the state stays.
var _ = spec("T063", state.TimeWait, "RST ignored in TIME-WAIT (RFC 1337 F1): nothing sent, still TIME-WAIT", withState,
	func(t *injector.T) {
		r := reach(t, state.TimeWait)
		drawsNothing(t, r, state.TimeWait, wire.RST) // SEG.SEQ = RCV.NXT
	})
