package suites

import (
	"syscall"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// This spec lives in a file of its own that sorts after transitions.go: the
// two T076 specs of syn_received.go are registered in that order (one of
// them waits for withState), and this one must come after both, as
// T076.SYN-RECEIVED#3, so that the IDs profiles use stay put.

// Fifth check, passive, from above: an ACK beyond SND.NXT (ISS+1, what the
// SYN,ACK occupies) acknowledges something the target never sent, so it is
// not acceptable either (RFC 9293 section 3.10.7.4, SYN-RECEIVED: "If the
// segment acknowledgment is not acceptable, form a reset segment
// <SEQ=SEG.ACK><CTL=RST>"). It must not complete the handshake: the child
// stays in SYN-RECEIVED and accept() has nothing until a valid ACK. A stack
// that checks only SEG.ACK > SND.UNA would take it as the handshake's ACK.
var _ = spec("T076", state.SynReceived, "ACK above SND.NXT on a passive open: <SEQ=SEG.ACK><CTL=RST>, no connection", withSynReceivedState,
	func(t *injector.T) {
		r := reach(t, state.SynReceived)
		t.Expect(t.Sockets().SetNonblock(r.lfd, true)).To(gm.Succeed())
		for _, above := range []seq.Size{1, 1000} {
			segAck := r.TargetISS.Add(1 + above) // SND.NXT = ISS+1
			r.Send(wire.ACK, injector.WithAck(segAck))
			r.Expect(BeSegment(Flags(wire.RST), SeqNum(segAck), PayloadLen(0)))
			t.Expect(r.State()).To(BeInState(state.SynReceived),
				"RFC 9293 section 3.10.7.4: an ACK above SND.NXT must not complete the handshake")
			_, _, err := t.Sockets().Accept(t.Context(), r.lfd)
			t.Expect(err).To(gm.MatchError(syscall.EAGAIN),
				"accept() after an ACK above SND.NXT (RFC 9293 section 3.10.7.4: not acceptable)")
		}
		r.Send(wire.ACK)
		t.Expect(r.State()).To(BeInState(state.Established))
		t.Expect(t.Sockets().SetNonblock(r.lfd, false)).To(gm.Succeed())
		connectedTo(t, t.Accept(r.lfd), r.TConn, "accept() after the valid ACK")
	})
