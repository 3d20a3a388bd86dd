package suites

import (
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/wire"
)

// Sender silly-window avoidance with data in flight (RFC 9293 section
// 3.8.6.2.1, RFC 1122 section 4.2.3.4). The MUST-38 spec of req_flow.go
// opens a window with nothing outstanding; here the window's right edge
// creeps forward by slivers while most of a flight is still unacknowledged.

// Section 3.8.6.2.1: with 10000 octets queued, the target fills a window of
// 4000. The peer acknowledges 1000 octets but offers 3010, then 2000 and
// offers 2020: each time the usable window is a sliver (10, then 20
// octets), far below a full segment and below Fs*max(SND.WND) = 2000, and
// the queued data exceeds it, so nothing may be sent before the override
// timeout, which is 0.1 s at the soonest. Acknowledging everything with a
// window of 4000 then releases a full segment.
var _ = checkAs("data-in-flight", []string{"MUST-38"}, "3.8.6.2.1", "sender SWS avoidance with data in flight: no tiny segment into a sliver of window", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowConnect(t, reqFlowListen(t, 0), 4000)
		reqFlowSendBulk(t, c, fd, 10000, 4000)
		high := c.RcvNxt
		start := t.Peer().Elapsed()
		for i, w := range []uint16{3010, 2020} {
			c.Window = w
			c.Send(wire.ACK, injector.WithAck(c.TargetISS.Add(seq.Size(1+1000*(i+1)))))
			t.Sleep(20 * time.Millisecond)
		}
		sleepUntil(t, start+90*time.Millisecond)
		for _, o := range reqFlowTake(t, c) {
			t.Fatalf("RFC 9293 section 3.8.6.2.1 (MUST-38): with data in flight and more queued than the usable window, the sender waits for a full segment (or the override timeout, 0.1 s at the soonest); the target sent into a window that had opened by a sliver\n  actual    %v", o)
		}
		reqFlowWindowReopens(t, c, high)
	})
