package suites

import (
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// closedPort is a port nothing listens on.
const closedPort = 9

// RFC 9293 section 3.10.7.1: in CLOSED, a segment without ACK draws
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
var _ = behaviourWithID("SYN to a closed port draws RST,ACK with seq 0 and ack SEG.SEQ+SEG.LEN",
	[]string{"T031", "rfc9293:3.10.7.1", "rfc9293:3.5.2", "state:CLOSED"},
	injector.Needs{},
	func(t *injector.T) {
		c := t.Dial(closedPort)
		syn := c.Send(wire.SYN)
		c.Expect(BeSegment(Flags(wire.RST|wire.ACK), SeqNum(0), AckNum(syn.Seq.Add(syn.Len())), PayloadLen(0)))
	})
