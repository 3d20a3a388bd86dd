package suites

import (
	"syscall"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// Active open, RFC 9293 section 3.5 Figure 6: an active OPEN sends
// <SEQ=ISS><CTL=SYN> and enters SYN-SENT (3.10.1); a SYN,ACK acknowledging
// it is answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and the
// connection is ESTABLISHED (3.10.7.3, fourth check).
var _ = behaviourWithID("active open: SYN-SENT to ESTABLISHED",
	[]string{"T002", "T046", "rfc9293:3.10.1", "rfc9293:3.10.7.3", "state:CLOSED", "state:SYN-SENT"},
	injector.Needs{State: true},
	func(t *injector.T) {
		fd := t.Socket()
		t.Expect(t.Sockets().SetNonblock(fd, true)).To(gm.Succeed())
		c := t.Await()

		err := t.Sockets().Connect(t.Context(), fd, c.PeerAddrPort())
		t.Expect(err).To(gm.MatchError(syscall.EINPROGRESS))
		c.Expect(BeSegment(Flags(wire.SYN), Seq(0), HasOptionKind(wire.KindMSS)))
		t.Expect(c.State()).To(BeInState(state.SynSent))

		c.Send(wire.SYN | wire.ACK)
		c.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(1)))
		t.Expect(c.State()).To(BeInState(state.Established))

		t.Expect(t.Sockets().GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(0))
	})
