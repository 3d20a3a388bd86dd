package suites

import (
	"fmt"
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/wire"
)

// wuAllowed is how soon a receiver whose application has read must announce
// its reopened window: before the sender's first probe of the closed
// window, which comes one retransmission timeout after the window closed
// (RFC 9293 section 3.8.6.1, SHLD-29); 200 ms is the smallest timeout in
// use (Linux's), a fifth of RFC 6298's minimum of 1 s.
const wuAllowed = 200 * time.Millisecond

// Section 3.8.6.2.2 (RFC 1122 section 4.2.3.3): the receiver's window is
// closed by data the application has not read; the application then reads
// all of it. The receiver must announce the reopened window itself, with a
// window update (an ACK of RCV.NXT whose window is at least min(RCV.BUFF/2,
// MSS), by the same section's SWS rule), before the peer would probe; the
// peer here never probes, so a receiver that waits for a probe to tell its
// window leaves the connection stalled.
var _ = checkAs("window-update", []string{"MUST-39"}, "3.8.6.2.2", "window update: once the application reads, the receiver reopens its closed window unprompted", withState,
	func(t *injector.T) {
		c, fd, synack := reqFlowConnect(t, reqFlowListen(t, reqFlowRcvbuf), injector.DefaultWindow)
		sent, _, maxWnd := reqFlowFill(t, c, synack)
		want := min(maxWnd/2, reqFlowMSS)
		rcvNxt := c.SndNxt
		reqFlowTake(t, c) // whatever the filling drew, before the application reads
		readFull(t, fd, sent)
		update := reqFlowSeg{
			fmt.Sprintf("a window update (RFC 9293 section 3.8.6.2.2, RFC 1122 section 4.2.3.3): flags [.], ack %d (RCV.NXT), no data, window at least %d, "+
				"sent without a probe from the peer once the application has read", uint32(rcvNxt), want),
			func(s wire.Segment) bool {
				return s.Flags == wire.ACK && s.Ack == rcvNxt && len(s.Payload) == 0 && int(s.Window) >= want
			}}
		reqFlowWithin(t, c, t.Peer().Elapsed(), 0, wuAllowed+t.Peer().Late, update)
		// The window is open: new data is taken. Further updates, as
		// the application's reads went on, may come first.
		reqFlowTake(t, c)
		c.Send(wire.PSH|wire.ACK, injector.WithPayload(pattern(100, 'z')))
		for o := reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, reqFlowPureACK); o.Segment.Ack != c.SndNxt; {
			o = reqFlowWithin(t, c, t.Peer().Elapsed(), 0, 500*time.Millisecond, reqFlowPureACK)
		}
	})
