package suites

import (
	"fmt"
	"time"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// Fast retransmit and fast recovery (RFC 5681 section 3.2; with SACK, RFC
// 6675 and RACK-TLP, RFC 8985), the congestion control RFC 9293 section
// 3.8.2 asks for (MUST-19). The target sends a window of data the peer
// never acknowledges in full: the first segment is "lost", the peer
// acknowledges the others with duplicate ACKs of its sequence number, and
// the target must resend it at once, long before its retransmission timer
// would, and then send less than before: its congestion window was cut.
// The helpers start with "fr".

// frData is how much the target's application writes: more than any
// initial window, so that the flight is limited by the congestion window
// and limited transmit (RFC 3042) has new data to send.
const frData = 30000

// frFlight is what the target has in flight: its data segments in the
// order they left, and the sequence number after the last.
type frFlight struct {
	segs []expectations.Observed
	end  seq.Value
}

// frQuiet lets the target send what it sends at once and takes it: on a
// virtual clock the stack settles with no time passing; on a real clock
// 30 ms and the target's latency pass (less than any retransmission
// timeout, RFC 6298's minimum being 1 s and Linux's 200 ms).
func frQuiet(t *injector.T, c *injector.TConn) []expectations.Observed {
	if !reqFlowVirtual(t) {
		t.Sleep(30*time.Millisecond + t.Peer().Late)
	}
	return reqFlowTake(t, c)
}

// frOpen has the target send a first segment, which the peer acknowledges:
// a loss among the very first data octets may be left to the
// retransmission timer (RFC 6582 section 3.2, step 2: "recover" starts at
// the ISS, and duplicate ACKs of ISS+1 do not cover more than it). It then
// writes frData octets and takes the target's flight: all it sends before
// any acknowledgment. Where that flight is shorter than four segments (the
// hole and three to be acknowledged), the peer acknowledges it and takes
// the next, which slow start makes larger.
func frOpen(t *injector.T, c *injector.TConn, fd int) frFlight {
	t.Write(fd, pattern(100, 'w'))
	c.Expect(BeSegment(FlagsInclude(wire.ACK), SeqNum(c.RcvNxt), PayloadLen(100)))
	c.Send(wire.ACK)
	t.Write(fd, pattern(frData, 'a'))
	for round := 0; ; round++ {
		var f frFlight
		for _, o := range frQuiet(t, c) {
			if !reqFlowDataSeg.ok(o.Segment) || o.Segment.Flags&wire.FIN != 0 {
				t.Fatalf("expected only data segments while the peer acknowledges nothing\n  actual    %v", o)
			}
			f.segs = append(f.segs, o)
		}
		f.end = c.RcvNxt
		if len(f.segs) >= 4 {
			return f
		}
		if round == 4 {
			t.Fatalf("RFC 5681 section 3.1: after 4 round trips the target still sends fewer than 4 segments at once (%d): slow start does not open its window", len(f.segs))
		}
		c.Send(wire.ACK)
	}
}

// frAfterLoss is how many segments the target may send at once when the
// recovery ends, for a congestion window of flight segments when the loss
// was detected: RFC 5681 section 3.2 sets ssthresh to half the flight and
// cwnd to ssthresh on the full acknowledgment; CUBIC (RFC 9438 section
// 4.6) keeps 0.7 of it. One more segment is a tail loss probe (RFC 8985
// section 7) on a real clock.
func frAfterLoss(flight int) int { return flight*7/10 + 1 }

// frRecovery is a loss in progress: the flight the peer took, the hole at
// una, the SACK blocks of each duplicate ACK the peer sent, whether the
// target may resend the hole by now (after the third duplicate ACK, or
// sooner with SACK, where RACK may find it lost) and whether it did.
type frRecovery struct {
	t      *injector.T
	c      *injector.TConn
	f      frFlight
	una    seq.Value
	sacks  []frSACK
	mayRtx bool
	resent bool
}

// frSACK is what one duplicate ACK reported, and when the peer sent it.
type frSACK struct {
	at     time.Duration
	blocks []wire.SACKBlock
}

// sackedBefore returns the blocks the target knew of when it sent a
// segment that left at: those of the last duplicate ACK sent before, less
// the time the target may take to act on it (its latency, and 5 ms of
// scheduling on a real clock), so that a segment the target sent just as
// a later ACK arrived is not judged by that ACK.
func (r *frRecovery) sackedBefore(at time.Duration) []wire.SACKBlock {
	margin := time.Duration(0)
	if !reqFlowVirtual(r.t) {
		margin = 5*time.Millisecond + r.t.Peer().Late
	}
	var blocks []wire.SACKBlock
	for _, s := range r.sacks {
		if s.at+margin <= at {
			blocks = s.blocks
		}
	}
	return blocks
}

// take checks what the target sent while the peer was sending duplicate
// ACKs: each segment is new data, the retransmission of the hole when it
// may be resent, or a tail loss probe resending the last segment (RFC 8985
// section 7.3); once the hole may be resent, so may any octets not SACKed
// (RFC 6675's NextSeg rule 3, or RACK marking them lost). Nothing may cover
// octets the peer SACKed. New data moves the flight's end.
func (r *frRecovery) take(got []expectations.Observed) {
	last := r.f.segs[len(r.f.segs)-1].Segment
	for _, o := range got {
		s := o.Segment
		end := s.Seq.Add(seq.Size(len(s.Payload)))
		switch {
		case !reqFlowDataSeg.ok(s) || s.Flags&wire.FIN != 0:
			r.t.Fatalf("expected data segments only while the peer reports a loss\n  actual    %v", o)
		case frCovers(r.sackedBefore(o.At), s):
			r.t.Fatalf("RFC 6675 section 4 (NextSeg): octets the peer selectively acknowledged must not be sent again; SACKed %v\n  actual    %v", r.sackedBefore(o.At), o)
		case s.Seq == r.una && r.mayRtx:
			r.resent = true
		case s.Seq == r.una:
			r.t.Fatalf("RFC 5681 section 3.2: fewer than three duplicate ACKs must not trigger fast retransmit (the first two may send new data, RFC 3042)\n  actual    %v", o)
		case !end.GreaterThan(r.f.end) && s.Seq != last.Seq && !r.mayRtx:
			r.t.Fatalf("RFC 5681 section 3.2: before the third duplicate ACK only new data (RFC 3042) or a loss probe of the last segment (seq %d, RFC 8985 section 7.3) may be sent\n  actual    %v",
				uint32(last.Seq), o)
		}
		if end.GreaterThan(r.f.end) {
			r.f.end = end
		}
	}
}

// frCovers reports whether s carries octets inside one of the blocks.
func frCovers(blocks []wire.SACKBlock, s wire.Segment) bool {
	end := s.Seq.Add(seq.Size(len(s.Payload)))
	for _, b := range blocks {
		if s.Seq.LessThan(seq.Value(b.Right)) && end.GreaterThan(seq.Value(b.Left)) {
			return true
		}
	}
	return false
}

// frRecover runs the loss of f's first segment: the peer sends a duplicate
// ACK of its sequence number for each later segment of the flight, as a
// receiver missing only that one would, each with the SACK block sack
// returns for it when sack is set (i counts from 1). After the third the
// hole must be resent within the target's latency; with sack, RACK-TLP
// (RFC 8985 section 6.2) may resend it sooner. The peer then acknowledges
// everything, and the target must send no more than frAfterLoss of the
// first flight at once.
func frRecover(t *injector.T, c *injector.TConn, f frFlight, sack func(i int) []wire.SACKBlock) {
	r := &frRecovery{t: t, c: c, f: f, una: f.segs[0].Segment.Seq, mayRtx: sack != nil}
	flight := len(f.segs)
	for i := 1; i < flight; i++ {
		var opts []injector.SendOption
		if sack != nil {
			r.sacks = append(r.sacks, frSACK{t.Peer().Elapsed(), sack(i)})
			opts = append(opts, injector.WithOptions(wire.SACK(sack(i))))
		}
		c.Send(wire.ACK, append(opts, injector.WithAck(r.una))...)
		r.mayRtx = r.mayRtx || i == 3
		from := t.Peer().Elapsed()
		for i == 3 && !r.resent {
			r.take([]expectations.Observed{reqFlowWithin(t, c, from, 0, t.Peer().Late, reqFlowSeg{
				fmt.Sprintf("data: new, or the retransmission of seq %d (SND.UNA) the third duplicate ACK asks for (RFC 5681 section 3.2)", uint32(r.una)),
				reqFlowDataSeg.ok})})
		}
		// After the third, the duplicate ACKs go without a pause, so
		// that on a real clock the recovery ends before the
		// retransmission's own timer could fire.
		if i < 3 {
			r.take(frQuiet(t, c))
		} else {
			r.take(reqFlowTake(t, c))
		}
	}
	r.take(frQuiet(t, c))
	c.RcvNxt = r.f.end
	c.Send(wire.ACK)
	var burst []expectations.Observed
	for _, o := range frQuiet(t, c) {
		if reqFlowDataSeg.ok(o.Segment) {
			burst = append(burst, o)
		}
	}
	if len(burst) > frAfterLoss(flight) {
		t.Fatalf("RFC 5681 section 3.2: on a loss ssthresh drops to half the flight (0.7 with CUBIC, RFC 9438) and the recovery ends with cwnd = ssthresh; "+
			"%d segments were in flight before the loss, %d left at once after the recovery (at most %d)", flight, len(burst), frAfterLoss(flight))
	}
}

// RFC 5681 section 3.2, without SACK (the duplicate ACK count decides: RACK
// needs SACK to know what arrived): the first two duplicate ACKs may send
// new data (limited transmit, RFC 3042) but not resend the first segment;
// the third resends it at once, and after the recovery the target sends
// less at once than before the loss.
var _ = checkAs("fast-retransmit", []string{"MUST-19"}, "3.8.2", "fast retransmit on the third duplicate ACK, then a smaller flight (RFC 5681 3.2)", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		frRecover(t, c, frOpen(t, c, fd), nil)
	})

// RFC 6675 with RFC 2018's SACK option: the peer's duplicate ACKs carry SACK
// blocks for the second, third and fourth segments. With three segments
// SACKed above it the first is lost (RFC 6675 section 4, IsLost; RACK,
// RFC 8985 section 6.2, may decide sooner) and must be resent at once; the
// SACKed segments must never be sent again, and the recovery ends with a
// smaller flight, as without SACK.
var _ = checkAs("sack-recovery", []string{"MUST-19"}, "3.8.2", "SACK recovery: the hole resent on three SACKed segments, SACKed data never (RFC 6675)", withState,
	func(t *injector.T) {
		c, fd, synack := reqFlowConnect(t, reqFlowListen(t, 0), injector.DefaultWindow, wire.MSS(reqFlowMSS), wire.SACKPermitted{})
		if !frOffers(synack, wire.KindSACKPermitted) {
			t.Skipf("the target did not agree to SACK (no SACK-permitted option on its SYN,ACK)")
		}
		f := frOpen(t, c, fd)
		frRecover(t, c, f, func(i int) []wire.SACKBlock {
			s := f.segs[i].Segment
			return []wire.SACKBlock{{Left: uint32(f.segs[1].Segment.Seq), Right: uint32(s.Seq.Add(seq.Size(len(s.Payload))))}}
		})
	})

// frOffers reports whether s carries an option of kind k.
func frOffers(s wire.Segment, k wire.OptionKind) bool {
	for _, o := range s.Options {
		if o.Kind() == k {
			return true
		}
	}
	return false
}
