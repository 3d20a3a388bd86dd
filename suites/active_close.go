package suites

import (
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// Active close, RFC 9293 section 3.6 Figure 12: CLOSE in ESTABLISHED sends
// FIN and enters FIN-WAIT-1 (3.10.4); the ACK of the FIN moves it to
// FIN-WAIT-2, the peer's FIN is acknowledged and starts TIME-WAIT
// (3.10.7.4, fifth and eighth checks), which lasts 2 MSL and ends in CLOSED
// (3.10.8).
var _ = behaviour("active close: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT for its full duration, CLOSED",
	[]string{"T020", "T081", "T097", "T106", "rfc9293:3.6", "rfc9293:3.10.4", "rfc9293:3.10.8",
		"state:FIN-WAIT-1", "state:FIN-WAIT-2", "state:TIME-WAIT"},
	injector.Needs{State: true, VirtualTime: true},
	func(t *injector.T) {
		c, fd := acceptConn(t)

		t.Close(fd)
		c.Expect(BeSegment(Flags(wire.FIN|wire.ACK), Seq(1), Ack(1)))
		t.Expect(c.State()).To(BeInState(state.FinWait1))

		c.Send(wire.ACK)
		t.Expect(c.State()).To(BeInState(state.FinWait2))

		c.Send(wire.FIN | wire.ACK)
		c.Expect(BeSegment(Flags(wire.ACK), Seq(2), Ack(2)))
		t.Expect(c.State()).To(BeInState(state.TimeWait))

		// TIME-WAIT holds for the whole of its duration, then the
		// connection is deleted. The duration is the reference's for this
		// target (2 MSL, or what its profile documents), not what the target
		// says of itself.
		c.ExpectNothing(t.Profile().TimeWait - time.Millisecond)
		t.Expect(c.State()).To(BeInState(state.TimeWait))
		t.Sleep(2 * time.Millisecond)
		t.Expect(c.State()).To(BeInState(state.Closed))
	})
