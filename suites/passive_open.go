package suites

import (
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// Passive open, RFC 9293 section 3.5 Figure 6: LISTEN receives a SYN and
// answers SYN,ACK (3.10.7.2, third check), entering SYN-RECEIVED; an ACK
// of the SYN,ACK moves it to ESTABLISHED (3.10.7.4, fifth check).
var _ = behaviourWithID("passive open: LISTEN to SYN-RECEIVED to ESTABLISHED",
	[]string{"T001", "T036", "T075", "rfc9293:3.10.7.2", "rfc9293:3.10.7.4", "state:LISTEN", "state:SYN-RECEIVED"},
	injector.Needs{State: true, SynReceivedState: true},
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		c := t.Dial(servicePort)

		c.Send(wire.SYN)
		// The SYN,ACK acknowledges the SYN (ack = peer ISN + 1) and carries
		// the MSS option (RFC 9293 section 3.7.1, SHLD-5).
		c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1), HasOptionKind(wire.KindMSS), WindowNonZero()))
		t.Expect(c.State()).To(BeInState(state.SynReceived))
		// With sockets the SYN makes a child connection; the listening
		// socket itself stays in LISTEN.
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))

		c.Send(wire.ACK)
		t.Expect(c.State()).To(BeInState(state.Established))
		// An acceptable ACK with no data draws no reply.
		c.ExpectNothing(time.Second)

		fd := t.Accept(lfd)
		remote, err := t.Sockets().RemoteAddr(fd)
		t.Expect(err).To(gm.Succeed())
		t.Expect(remote).To(gm.Equal(c.PeerAddrPort()))
	})
