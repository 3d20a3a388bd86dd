package suites

import (
	"fmt"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/wire"
)

// Out-of-order data draws an immediate duplicate ACK: RFC 5681 section 4.2
// ("a TCP receiver SHOULD send an immediate duplicate ACK when an
// out-of-order segment arrives"), which RFC 9293 section 3.10.7.4 allows
// (MAY-13) and RFC 1122 section 4.2.2.21 recommends; without it the sender
// cannot count duplicate ACKs and its fast retransmit never starts. The
// segment that fills the gap is acknowledged at once too, one ACK covering
// everything held. The helpers start with "ooo".

// oooOrder is the order in which the peer sends segments 1 to 3 of four,
// all ahead of segment 0, which it holds back: the first and second leave a
// gap between them, so that a receiver with SACK holds two separate blocks
// before the third joins them.
var oooOrder = []int{3, 1, 2}

// oooRun sends the segments of oooOrder, reqFlowMSS octets each, each of
// which must draw an ACK of RCV.NXT within the target's latency, no
// delayed-ACK timer; check looks at each ACK, with the octets the segments
// received so far that are contiguous with the one that drew it. Then
// segment 0 fills the gap: one ACK must cover all, at once, and the
// application reads the octets in order.
func oooRun(t *injector.T, c *injector.TConn, fd int, check func(ack wire.Segment, run wire.SACKBlock)) {
	data := pattern((len(oooOrder)+1)*reqFlowMSS, 'a')
	rcvNxt := c.SndNxt
	at := func(i int) seq.Value { return rcvNxt.Add(seq.Size(i * reqFlowMSS)) }
	held := map[int]bool{}
	for _, i := range oooOrder {
		held[i] = true
		c.Send(wire.ACK, injector.WithSeq(at(i)), injector.WithPayload(data[i*reqFlowMSS:(i+1)*reqFlowMSS]))
		o := reqFlowWithin(t, c, t.Peer().Elapsed(), 0, t.Peer().Late, reqFlowSeg{
			fmt.Sprintf("an immediate duplicate ACK (RFC 5681 section 4.2, RFC 9293 section 3.10.7.4): flags [.], ack %d (RCV.NXT), no data, for out-of-order data at seq %d",
				uint32(rcvNxt), uint32(at(i))),
			func(s wire.Segment) bool { return s.Flags == wire.ACK && s.Ack == rcvNxt && len(s.Payload) == 0 }})
		lo, hi := i, i
		for held[lo-1] {
			lo--
		}
		for held[hi+1] {
			hi++
		}
		check(o.Segment, wire.SACKBlock{Left: uint32(at(lo)), Right: uint32(at(hi + 1))})
	}
	c.SndNxt = rcvNxt
	c.Send(wire.PSH|wire.ACK, injector.WithPayload(data[:reqFlowMSS]))
	end := rcvNxt.Add(seq.Size(len(data)))
	reqFlowWithin(t, c, t.Peer().Elapsed(), 0, t.Peer().Late, reqFlowSeg{
		fmt.Sprintf("an immediate ACK of everything held once the gap is filled (RFC 5681 section 4.2): flags [.], ack %d, no data", uint32(end)),
		func(s wire.Segment) bool { return s.Flags == wire.ACK && s.Ack == end && len(s.Payload) == 0 }})
	c.SndNxt = end
	t.Expect(readFull(t, fd, len(data))).To(gm.Equal(data), "the application must read the octets in order")
}

// Without SACK: each out-of-order segment draws an immediate ACK of RCV.NXT
// with the window unchanged (RFC 5681 section 2's duplicate ACK, which the
// sender counts only if the window is the same).
var _ = check([]string{"MAY-13", "SHLD-31"}, "3.10.7.4", "out-of-order data draws an immediate duplicate ACK; the gap filled, one ACK at once (RFC 5681 4.2)", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		var wnd uint16
		acks := 0
		oooRun(t, c, fd, func(ack wire.Segment, _ wire.SACKBlock) {
			if acks++; acks > 1 && ack.Window != wnd {
				t.Fatalf("RFC 5681 section 2: duplicate ACKs count only with an unchanged window; it went from %d to %d", wnd, ack.Window)
			}
			wnd = ack.Window
		})
	})

// With SACK (RFC 2018 section 4): each duplicate ACK's first SACK block is
// the contiguous block of held data containing the segment that drew it,
// however many blocks are held.
var _ = checkAs("sack", []string{"MAY-13", "SHLD-31"}, "3.10.7.4", "out-of-order data with SACK: an immediate duplicate ACK whose first block holds the newest segment (RFC 2018 4)", withState,
	func(t *injector.T) {
		c, fd, synack := reqFlowConnect(t, reqFlowListen(t, 0), injector.DefaultWindow, wire.MSS(reqFlowMSS), wire.SACKPermitted{})
		if !frOffers(synack, wire.KindSACKPermitted) {
			t.Skipf("the target did not agree to SACK (no SACK-permitted option on its SYN,ACK)")
		}
		oooRun(t, c, fd, func(ack wire.Segment, want wire.SACKBlock) {
			for _, o := range ack.Options {
				if blocks, ok := o.(wire.SACK); ok && len(blocks) > 0 {
					t.Expect(blocks[0]).To(gm.Equal(want),
						"RFC 2018 section 4: the first SACK block must be the contiguous block of held data containing the segment that drew the ACK\n  segment   %v", ack)
					return
				}
			}
			t.Fatalf("RFC 2018 section 4: with SACK agreed, a duplicate ACK for out-of-order data should carry a SACK option; expected block %v\n  segment   %v", want, ack)
		})
	})
