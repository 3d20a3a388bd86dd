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

// SYN-SENT, SEGMENT ARRIVES: RFC 9293 section 3.10.7.3. The checks run in
// order: the ACK (step 1), RST (2), security (3), SYN (4), and otherwise
// drop (5).

// Step 1: an ACK outside SND.UNA < SEG.ACK =< SND.NXT is unacceptable;
// without RST it draws <SEQ=SEG.ACK><CTL=RST> and the connection stays.
var _ = spec("T041", state.SynSent, "unacceptable ACK draws <SEQ=SEG.ACK><CTL=RST>, state unchanged", withState,
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		bad := r.TargetISS.Add(1000) // beyond SND.NXT = ISS+1
		r.Send(wire.ACK, injector.WithAck(bad))
		r.Expect(BeSegment(Flags(wire.RST), SeqNum(bad), PayloadLen(0)))
		t.Expect(r.State()).To(BeInState(state.SynSent))
	})

// Step 1 with RST: an unacceptable ACK on a reset is dropped; the
// connection stays in SYN-SENT. (Linux then retransmits its SYN at once, in
// case the reset came from a stale connection; a retransmission is allowed.)
var _ = spec("T042", state.SynSent, "RST with an unacceptable ACK is dropped", withState,
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		r.Send(wire.RST|wire.ACK, injector.WithAck(r.TargetISS.Add(1000)))
		t.Sleep(200 * time.Millisecond)
		t.Expect(r.State()).To(BeInState(state.SynSent))
	})

// Step 2: an RST whose ACK is acceptable resets the connection: the user is
// told "connection reset" and the state becomes CLOSED.
var _ = spec("T043", state.SynSent, "RST with an acceptable ACK resets the connection: CLOSED, ECONNREFUSED", withState,
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		drawsNothing(t, r, state.Closed, wire.RST|wire.ACK, injector.WithSeq(0), injector.WithAck(r.TargetISS.Add(1)))
		t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(int(syscall.ECONNREFUSED)))
	})

// Step 2: an RST without ACK is dropped (RFC 9293 section 3.10.7.3: "If the
// ACK was not acceptable... drop"; without an ACK it cannot be tied to the
// SYN, RFC 5961 section 3 too).
var _ = spec("T044", state.SynSent, "RST without ACK is dropped", withState,
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		drawsNothing(t, r, state.SynSent, wire.RST)
	})

// Step 3, security and compartment: IP security options (RFC 1108) are
// obsolete and no target under test carries them.
var _ = spec("T045", state.SynSent, "security/compartment mismatch", withState,
	func(t *injector.T) {
		t.Skipf("IP security options (RFC 1108) are not modelled: no stack under test implements them")
	})

// Step 4: a SYN,ACK that acknowledges the SYN completes the handshake:
// ESTABLISHED, and <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> is sent.
var _ = spec("T046", state.SynSent, "SYN,ACK acknowledging the SYN: ACK sent, ESTABLISHED", withState,
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		r.Send(wire.SYN | wire.ACK)
		r.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(1), PayloadLen(0)))
		t.Expect(r.State()).To(BeInState(state.Established))
	}, "MUST-10")

// Step 4 then step 8: a SYN,ACK that also carries FIN establishes the
// connection and then closes the receive side: CLOSE-WAIT, the FIN
// acknowledged.
var _ = spec("T047", state.SynSent, "SYN,ACK,FIN: the FIN is acknowledged, CLOSE-WAIT", withState,
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		r.Send(wire.SYN | wire.ACK | wire.FIN)
		r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Ack(2), PayloadLen(0)))
		t.Expect(r.State()).To(BeInState(state.CloseWait))
	})

// Step 4, simultaneous open (RFC 9293 section 3.5, Figure 7): a SYN without
// ACK moves SYN-SENT to SYN-RECEIVED and is answered with
// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
var _ = spec("T048", state.SynSent, "SYN without ACK (simultaneous open): SYN,ACK sent, SYN-RECEIVED", withState,
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		r.Send(wire.SYN)
		r.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1)))
		t.Expect(r.State()).To(BeInState(state.SynReceived))
	})

// Step 5: a segment with neither SYN nor RST is dropped.
var _ = spec("T049", state.SynSent, "neither SYN nor RST (an acceptable bare ACK): dropped", withState,
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		drawsNothing(t, r, state.SynSent, wire.ACK, injector.WithAck(r.TargetISS.Add(1)))
	})
