package suites

import (
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// RFC 9293 section 3.10.7.1: in CLOSED, a segment with ACK draws
// <SEQ=SEG.ACK><CTL=RST>, without ACK.
var _ = behaviourWithID("ACK to a closed port draws RST with seq SEG.ACK",
	[]string{"T032", "rfc9293:3.10.7.1", "rfc9293:3.5.2", "state:CLOSED"},
	injector.Needs{},
	func(t *injector.T) {
		c := t.Dial(closedPort)
		segAck := seq.Value(0x5eed)
		c.Send(wire.ACK, injector.WithAck(segAck), injector.WithPayload([]byte("stray")))
		c.Expect(BeSegment(Flags(wire.RST), SeqNum(segAck), PayloadLen(0)))
	})
