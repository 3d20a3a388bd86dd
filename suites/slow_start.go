package suites

import (
	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/wire"
)

// Slow start (RFC 5681 section 3.1), part of the congestion control RFC 9293
// section 3.8.2 asks for (MUST-19); the helpers are in initial_window.go.

// RFC 5681 section 3.1: in slow start, each ACK that acknowledges new data
// grows cwnd by at most SMSS ("cwnd += min (N, SMSS)"); RFC 3465 allows up
// to 2*SMSS (L = 2), and Linux and gVisor add one segment per segment
// acknowledged, which for an ACK of two segments is the same. So an ACK of
// the first two segments of a flight lets out at most four new ones: two
// for the octets that left the network, two for the growth; a stack that
// grows its window faster sends more.
var _ = checkAs("slow-start", []string{"MUST-19"}, "3.8.2", "slow start: an ACK of two segments lets out at most four new ones (RFC 5681 3.1, RFC 3465 L=2)", withState,
	func(t *injector.T) {
		c, start, high := ccFlight(t, 3)
		acked := 2 * reqFlowMSS
		c.Send(wire.ACK, injector.WithAck(start.Add(seq.Size(acked))))
		released, _ := ccNewOctets(t, ccSettle(t, c), high)
		limit := acked + min(acked, 2*reqFlowMSS)
		t.Expect(released).To(gm.BeNumerically("<=", limit),
			"RFC 5681 section 3.1: in slow start an ACK of %d octets grows cwnd by at most min(N, SMSS) (2*SMSS with RFC 3465), so at most %d new octets may follow it; the target sent %d",
			acked, limit, released)
		c.Send(wire.ACK)
		reqFlowDrain(t, c, c.TargetISS.Add(1+ccData))
	})
