package suites

import (
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// Data both ways in ESTABLISHED (RFC 9293 section 3.10.7.4, seventh check:
// "Once the TCP endpoint takes responsibility for the data, it advances
// RCV.NXT over the data accepted ... and sends an acknowledgment"; and
// section 3.10.2 for SEND).
var _ = behaviourWithID("data both ways in ESTABLISHED, each acknowledged",
	[]string{"T009", "T013", "rfc9293:3.10.2", "rfc9293:3.10.7.4", "state:ESTABLISHED"},
	injector.Needs{State: true},
	func(t *injector.T) {
		c, fd := acceptConn(t)

		request := []byte("GET / HTTP/1.0\r\n\r\n")
		c.Send(wire.PSH|wire.ACK, injector.WithPayload(request))
		c.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(int64(1+len(request))), PayloadLen(0)))
		t.Expect(t.Read(fd, 100)).To(gm.Equal(request))

		reply := []byte("HTTP/1.0 200 OK\r\n\r\nhello")
		t.Write(fd, reply)
		c.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Ack(int64(1+len(request))), Payload(reply)))
		c.Send(wire.ACK)
		// Acknowledged data is not sent again.
		c.ExpectNothing(5 * time.Second)
		t.Expect(c.State()).To(BeInState(state.Established))
	})
