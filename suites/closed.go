package suites

import (
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// CLOSED, SEGMENT ARRIVES: RFC 9293 section 3.10.7.1. There is no TCB: the
// segment's data is discarded, a reset is discarded, and anything else draws
// a reset whose numbers the sender will accept (section 3.5.2, case 1).

// closedNoTCB checks that the segment created no connection: the target has
// none for the tuple (it reads as CLOSED, or is unknown to it).
func closedNoTCB(t *injector.T, c *injector.TConn) {
	t.Expect(c.State()).To(noConnection(),
		"a segment to a closed port must not create a connection")
}

// A reset arriving in CLOSED is discarded: a RST is never answered with a
// RST, whatever else it carries.
var _ = spec("T030", state.Closed, "RST, RST,ACK and RST with data to a closed port draw nothing", injector.Needs{},
	func(t *injector.T) {
		eachDrawsNothing(t, closedPort, []toSend{
			{wire.RST, nil},
			{wire.RST | wire.ACK, []injector.SendOption{injector.WithAck(0x5eed)}},
			{wire.RST | wire.PSH, []injector.SendOption{injector.WithPayload([]byte("stray"))}},
		}, closedNoTCB)
	})

// Without ACK the reset is <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, where
// SEG.LEN counts the data and the SYN and FIN controls.
var _ = spec("T031", state.Closed, "segments without ACK (SYN, SYN with data, FIN with data, bare data) draw <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>", injector.Needs{},
	func(t *injector.T) {
		for _, send := range []struct {
			flags wire.Flags
			data  []byte
		}{
			{wire.SYN, nil},
			{wire.SYN, []byte("hello")},
			{wire.FIN, []byte("bye")},
			{wire.PSH, []byte("stray data")},
		} {
			c := t.Dial(closedPort)
			s := c.Send(send.flags, injector.WithPayload(send.data))
			c.Expect(BeSegment(Flags(wire.RST|wire.ACK), SeqNum(0), AckNum(s.Seq.Add(s.Len())), PayloadLen(0)))
			closedNoTCB(t, c)
		}
	})

// With ACK the reset is <SEQ=SEG.ACK><CTL=RST>, without the ACK bit: this is
// how a half-open connection is found out (section 3.5.1, Figure 10).
var _ = spec("T032", state.Closed, "segments with ACK (ACK, ACK with data, FIN,ACK, SYN,ACK) draw <SEQ=SEG.ACK><CTL=RST>", injector.Needs{},
	func(t *injector.T) {
		eachDrawsRST(t, closedPort, []toSend{
			{wire.ACK, nil},
			{wire.ACK | wire.PSH, []injector.SendOption{injector.WithPayload([]byte("stray"))}},
			{wire.FIN | wire.ACK, nil},
			{wire.SYN | wire.ACK, nil},
		}, closedNoTCB)
	})
