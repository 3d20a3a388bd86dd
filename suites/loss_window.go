package suites

import (
	"fmt"
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/wire"
)

// The loss window after a retransmission timeout (RFC 5681 section 3.1),
// part of the congestion control RFC 9293 section 3.8.2 asks for (MUST-19);
// the helpers are in initial_window.go.

// RFC 5681 section 3.1: when the retransmission timer expires, cwnd must be
// set to no more than the loss window, one full-sized segment. The target
// sends a flight of at least three segments that the peer leaves
// unacknowledged; at the timeout it resends the first, and until that is
// acknowledged nothing else may follow it, neither the rest of the flight
// nor new data. The wait is half the timeout just measured: the next
// timeout is longer (RFC 6298 section 5.5 doubles it). Then the peer
// acknowledges everything and the data flows to its end.
var _ = checkAs("loss-window", []string{"MUST-19"}, "3.8.2", "after a retransmission timeout one segment goes out until it is acknowledged (RFC 5681 3.1: cwnd = LW)", withState,
	func(t *injector.T) {
		c, una, _ := ccFlight(t, 3)
		sent := t.Peer().Elapsed()
		rtx := reqFlowWithin(t, c, sent, 0, reqFlowLong(t, 130*time.Second, 5*time.Second),
			reqFlowSeg{fmt.Sprintf("a retransmission of the first unacknowledged segment: seq %d (SND.UNA), 1 to %d octets", uint32(una), reqFlowMSS),
				func(s wire.Segment) bool {
					n := len(s.Payload)
					return reqFlowDataSeg.ok(s) && s.Seq == una && n <= reqFlowMSS
				}})
		t.Sleep((rtx.At - sent) / 2)
		for _, o := range reqFlowTake(t, c) {
			if len(o.Segment.Payload) > 0 || o.Segment.Flags&(wire.SYN|wire.FIN|wire.RST) != 0 {
				t.Fatalf("RFC 5681 section 3.1: after a retransmission timeout cwnd is the loss window, one segment; the target sent another before its retransmission was acknowledged\n  retransmission  %v\n  then            %v", rtx, o)
			}
		}
		c.Send(wire.ACK)
		reqFlowDrain(t, c, c.TargetISS.Add(1+ccData))
	})
