package suites

import (
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	gm "github.com/onsi/gomega"

	. "github.com/tcpconform/tcpconform/expectations"
)

// Passive close, RFC 9293 section 3.6 Figure 12: a FIN in ESTABLISHED is
// acknowledged and moves the connection to CLOSE-WAIT (3.10.7.4, eighth
// check); the user's CLOSE sends FIN and enters LAST-ACK (3.10.4); the ACK
// of that FIN deletes the connection (3.10.7.4, fifth check).
var _ = behaviourWithID("passive close: CLOSE-WAIT, LAST-ACK, CLOSED",
	[]string{"T094", "T014", "T022", "T086", "rfc9293:3.6", "rfc9293:3.10.4", "rfc9293:3.10.7.4",
		"state:CLOSE-WAIT", "state:LAST-ACK"},
	injector.Needs{State: true},
	func(t *injector.T) {
		c, fd := acceptConn(t)

		c.Send(wire.FIN | wire.ACK)
		c.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(2)))
		t.Expect(c.State()).To(BeInState(state.CloseWait))
		// The FIN reads as end of stream (RFC 9293 section 3.10.3).
		t.Expect(t.Read(fd, 100)).To(gm.BeEmpty())

		t.Close(fd)
		c.Expect(BeSegment(Flags(wire.FIN|wire.ACK), Seq(1), Ack(2)))
		t.Expect(c.State()).To(BeInState(state.LastAck))

		c.Send(wire.ACK)
		t.Expect(c.State()).To(BeInState(state.Closed))
	})
