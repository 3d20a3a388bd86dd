package suites

import (
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/wire"
)

// The congestion window at the start of a connection (RFC 5681 section 3.1
// with RFC 6928), part of the congestion control RFC 9293 section 3.8.2
// asks for (MUST-19). The specs of congestion control here and in
// slow_start.go and loss_window.go share the helpers starting with "cc".
// Their connections offer no SACK, so no RACK-TLP loss probe (RFC 8985,
// which Linux and gVisor run only with SACK) sends data the congestion
// window would hold, and a window of 65535 octets, so that the peer's
// window never is what limits the target.

// ccData is what the target's application writes: twice the largest
// initial window at the peer's MSS, so that the congestion window, not the
// data, limits each flight.
const ccData = 20000

// ccInitialWindow is the largest initial window RFC 6928 section 2 allows
// for a sender's MSS: min(10*MSS, max(2*MSS, 14600)) octets. RFC 5681's is
// smaller (at most 4 segments of this MSS).
func ccInitialWindow(mss int) int {
	return min(10*mss, max(2*mss, 14600))
}

// ccQuiet is how long the target must send nothing before ccSettle takes a
// flight as whole: 10 ms on a virtual clock; on a real one 50 ms and the
// target's lateness, less than any retransmission timeout after the last
// acknowledgment (RFC 6298's minimum is 1 s, Linux's 200 ms).
func ccQuiet(t *injector.T) time.Duration {
	return reqFlowLong(t, 10*time.Millisecond, 50*time.Millisecond+t.Peer().Late)
}

// ccSettle lets the target send what it sends at once and takes it: all it
// sends until it is quiet for ccQuiet, so that a target slowed down by the
// machine's load shows its whole flight, not part of it. A target that is
// never quiet is taken as it is after ccSettleRounds waits.
func ccSettle(t *injector.T, c *injector.TConn) []expectations.Observed {
	var got []expectations.Observed
	for range ccSettleRounds {
		t.Sleep(ccQuiet(t))
		more := reqFlowTake(t, c)
		if len(more) == 0 {
			break
		}
		got = append(got, more...)
	}
	return got
}

// ccSettleRounds bounds ccSettle's waits.
const ccSettleRounds = 20

// ccNewOctets checks that segs are all data segments and returns how many
// of their octets lie at or beyond high, the sequence number after the
// highest octet sent before, and the new such number: what the target sent
// for the first time, retransmissions left out.
func ccNewOctets(t *injector.T, segs []expectations.Observed, high seq.Value) (int, seq.Value) {
	n := 0
	for _, o := range segs {
		s := o.Segment
		if !reqFlowDataSeg.ok(s) || s.Flags&wire.FIN != 0 {
			t.Fatalf("expected only data segments while the application has more to send\n  actual    %v", o)
		}
		if end := s.Seq.Add(seq.Size(len(s.Payload))); end.GreaterThan(high) {
			n += int(end.Distance(seq.Max(s.Seq, high)))
			high = end
		}
	}
	return n, high
}

// ccFirstFlight opens a connection whose peer offers MSS reqFlowMSS and no
// other option, has the target's application write ccData octets and
// returns what the target sends before anything is acknowledged: its
// octets, and the sequence number after the highest.
func ccFirstFlight(t *injector.T) (*injector.TConn, seq.Value) {
	c, fd, _ := reqFlowAccept(t)
	t.Write(fd, pattern(ccData, 'a'))
	n, high := ccNewOctets(t, ccSettle(t, c), c.TargetISS.Add(1))
	if n == 0 {
		t.Fatalf("the target sent no data within %v of the write", ccQuiet(t))
	}
	return c, high
}

// ccFlightRounds is how many flights the peer acknowledges in full, at
// most, before the target's flight has the segments a spec needs (a stack
// may start with a window of one segment; slow start doubles it each
// round).
const ccFlightRounds = 4

// ccFlight is ccFirstFlight, then the peer acknowledging each flight in
// full until one has at least segs segments of reqFlowMSS. It returns the
// connection and where that flight starts and ends; nothing of it is
// acknowledged. A first flight of all ccData octets fails: nothing but the
// data limited it, so the congestion window the spec watches is not there.
func ccFlight(t *injector.T, segs int) (c *injector.TConn, start, end seq.Value) {
	c, end = ccFirstFlight(t)
	if end == c.TargetISS.Add(1+ccData) {
		t.Fatalf("RFC 5681 section 3.1: the target sent all %d octets written before any acknowledgment: no congestion window limits its flight", ccData)
	}
	start = c.TargetISS.Add(1)
	for round := 1; end.Distance(start) < seq.Size(segs*reqFlowMSS); round++ {
		if round > ccFlightRounds {
			t.Fatalf("RFC 5681 section 3.1: after %d acknowledged flights the target still sends fewer than %d segments at once (%d octets): slow start does not open its window",
				ccFlightRounds, segs, end.Distance(start))
		}
		start = end
		c.Send(wire.ACK)
		var n int
		if n, end = ccNewOctets(t, ccSettle(t, c), end); n == 0 {
			t.Fatalf("the target sent nothing more after the peer acknowledged all it had sent")
		}
	}
	return c, start, end
}

// RFC 5681 section 3.1, RFC 6928 section 2: a sender starts with a
// congestion window of at most min(10*MSS, max(2*MSS, 14600)) octets, 10
// segments of the peer's 1000. Its first flight, with the peer's window
// wide open and twice that written, is no larger; the rest waits for an
// acknowledgment and comes once the peer acknowledges.
var _ = checkAs("initial-window", []string{"MUST-19"}, "3.8.2", "the first flight is at most the initial window (RFC 5681 3.1, RFC 6928: 10 segments)", withState,
	func(t *injector.T) {
		c, high := ccFirstFlight(t)
		iw := ccInitialWindow(reqFlowMSS)
		sent := int(high.Distance(c.TargetISS.Add(1)))
		t.Expect(sent).To(gm.BeNumerically("<=", iw),
			"RFC 5681 section 3.1, RFC 6928 section 2: the first flight before any acknowledgment is %d octets, more than the initial window of %d (%d segments of MSS %d)",
			sent, iw, iw/reqFlowMSS, reqFlowMSS)
		c.Send(wire.ACK)
		reqFlowDrain(t, c, c.TargetISS.Add(1+ccData))
	})
