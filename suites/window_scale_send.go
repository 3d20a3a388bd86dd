package suites

import (
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// RFC 7323 section 2.3: once both SYNs carried the window scale option, the
// window field of every later segment is shifted left by the sender's
// shift. The peer offers shift 2 and an MSS of 1000, then advertises a
// window field of 1000: the target may send up to 4000 octets beyond the
// acknowledged point, and no further. With 8000 octets to send and an
// initial congestion window of at least 4 segments of 1000 octets (RFC
// 5681 section 3.1, RFC 3390), it fills that window: a stack that ignores
// the shift stops at 1000, one that shifts the wrong way, or by its own
// shift, goes beyond 4000.
var _ = behaviourWithID("RFC 7323 2.3: the peer's window scale is honoured when sending: a window field of 1000 with shift 2 lets 4000 octets out, no more",
	[]string{"T009", "T078", "rfc7323:2.3", "rfc9293:3.8.6", "rfc9293:3.10.7.4", "state:ESTABLISHED"},
	injector.Needs{},
	func(t *injector.T) {
		const shift, field, mss = 2, 1000, 1000
		lfd := t.Listen(servicePort)
		c, fd, synack := passiveOpen(t, lfd, field,
			injector.WithOptions(wire.MSS(mss), wire.NOP{}, wire.WindowScale(shift)))
		if _, ok := synack.Segment.Option(wire.KindWindowScale); !ok {
			t.Skipf("the target's SYN,ACK has no window scale option: the peer's shift is not in force (RFC 7323 section 2.2)")
		}
		allowed := seq.Size(field << shift)
		t.Write(fd, pattern(2*int(allowed), 'w'))
		for round := 1; round <= 2; round++ {
			edge := c.RcvNxt.Add(allowed) // SND.UNA + SND.WND, as the target should see it
			if high := wsFlight(t, c, edge); high != edge {
				t.Fatalf("RFC 7323 section 2.3: round %d: the peer's window field %d with shift %d allows %d octets past the acknowledged point, but the target stopped after %d: it does not shift the window field",
					round, field, shift, allowed, high.Distance(edge.Sub(allowed)))
			}
			c.Send(wire.ACK) // acknowledges all of it, the same window field
		}
	})

// wsFlight consumes what the target sends on c within a quiet spell and
// fails the case if a segment goes beyond edge, the right edge of the
// window the peer advertised (RFC 9293 section 3.8.6: the sender must not
// send beyond it). It returns the highest sequence number sent, plus one.
func wsFlight(t *injector.T, c *injector.TConn, edge seq.Value) seq.Value {
	t.Sleep(200*time.Millisecond + t.Peer().Tolerance)
	high := c.RcvNxt
	for replied(t, c) {
		s := c.Expect(BeSegment(FlagsInclude(wire.ACK))).Segment
		end := s.Seq.Add(seq.Size(len(s.Payload)))
		if end.GreaterThan(edge) {
			t.Fatalf("RFC 7323 section 2.3: the target sent beyond the right edge of the peer's scaled window (%d octets past it)\n  actual    %v", end.Distance(edge), s)
		}
		if end.GreaterThan(high) {
			high = end
		}
	}
	return high
}
