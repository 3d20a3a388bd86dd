package suites

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// The Nagle algorithm, RFC 9293 section 3.7.4 (RFC 1122 section 4.2.3.4):
// while data is unacknowledged, small writes are held until the
// acknowledgment comes or a full segment gathers (SHLD-7), and the
// application can turn it off per connection (MUST-17; TCP_NODELAY). Whether
// it is on by default and whether it works are separate specs, so that a
// stack with TCP_NODELAY on by default is still checked for a Nagle that
// holds data when asked to. The helpers start with "nagle".

// nagleSmall is the size of each small write, far below the MSS.
const nagleSmall = 100

// nagleSet sets TCP_NODELAY on fd to v, skipping where the target has no
// such option.
func nagleSet(t *injector.T, fd, v int) {
	err := t.Sockets().SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, v)
	if errors.Is(err, syscall.ENOPROTOOPT) || errors.Is(err, syscall.EOPNOTSUPP) {
		t.Skipf("the target has no TCP_NODELAY (%v), so Nagle cannot be turned on or off", err)
	}
	t.Expect(err).NotTo(gm.HaveOccurred(), "setsockopt(TCP_NODELAY, %d)", v)
}

// nagleOutstanding has the target send one small segment on an idle
// connection, which it must do at once, and leaves it unacknowledged; then
// the application writes five more small pieces. It returns that segment.
func nagleOutstanding(t *injector.T, c *injector.TConn, fd int) expectations.Observed {
	t.Write(fd, pattern(nagleSmall, 'a'))
	first := c.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), PayloadLen(nagleSmall)))
	for i := 0; i < 5; i++ {
		t.Write(fd, pattern(nagleSmall, 'A'))
	}
	return first
}

// nagleProbe is how soon after the first segment a tail loss probe may
// carry held data: RFC 8985 section 7.2 adds the peer's delayed-ACK time
// (200 ms) to the probe timeout when one segment is in flight.
const nagleProbe = 200 * time.Millisecond

// nagleHeld checks that the small writes behind the unacknowledged first
// segment stay held for 150 ms after it left; why is the failure's reason.
// Data leaving later may be a loss probe (RFC 8985 section 7), which the
// check cannot tell from a Nagle that gave up: on a target so slow that
// its writes took that long, the case is skipped. A retransmission of the
// first segment is no held write and is let pass.
func nagleHeld(t *injector.T, c *injector.TConn, first expectations.Observed, why string) {
	t.Sleep(max(first.At+150*time.Millisecond-t.Peer().Elapsed(), 0))
	for _, o := range reqFlowTake(t, c) {
		if len(o.Segment.Payload) == 0 || nagleResent(first, o.Segment) {
			continue
		}
		if o.At-first.At < nagleProbe {
			t.Fatalf("%s; a small write left while data was unacknowledged\n  segment   %v", why, o)
		}
		t.Skipf("the small writes took the target until %v after the first segment, when a loss probe (RFC 8985 section 7.2) may carry them: Nagle cannot be told apart\n  segment   %v",
			o.At-first.At, o)
	}
}

// nagleResent reports whether s is a retransmission of the first segment:
// on a real clock a peer whose ACK the machine's load delays past the
// target's retransmission timeout (RFC 6298 section 2.4; Linux's minimum
// is 200 ms) draws one, which carries none of the held writes.
func nagleResent(first expectations.Observed, s wire.Segment) bool {
	return s.Seq == first.Segment.Seq && len(s.Payload) == len(first.Segment.Payload)
}

// nagleReleased acknowledges the first segment and checks that the held
// writes then leave together, at once, as one segment starting at next.
// Retransmissions of the first segment that crossed the ACK are let pass
// (nagleResent), a few at most.
func nagleReleased(t *injector.T, c *injector.TConn, first expectations.Observed) {
	next := first.Segment.Seq.Add(nagleSmall)
	c.Send(wire.ACK)
	acked := t.Peer().Elapsed()
	for range 3 {
		o := reqFlowWithin(t, c, acked, 0, t.Peer().Late, reqFlowSeg{
			"the held writes together, at once after the ACK: seq " + fmt.Sprint(uint32(next)) + ", 500 octets (or a retransmission of the first segment that crossed the ACK)",
			func(s wire.Segment) bool {
				released := s.Flags&wire.ACK != 0 && s.Seq == next && len(s.Payload) == 5*nagleSmall
				return released || nagleResent(first, s)
			}})
		if !nagleResent(first, o.Segment) {
			return
		}
	}
	t.Fatalf("RFC 9293 section 3.7.4: the target kept retransmitting the first segment after the peer acknowledged it, and did not release the held writes")
}

// Section 3.7.4 (SHLD-7): Nagle is on unless the application turns it off:
// on a new connection, left as it is, five small writes after an
// unacknowledged one are held, then sent together when the ACK comes.
var _ = check([]string{"SHLD-7"}, "3.7.4", "Nagle on by default: small writes held while data is unacknowledged", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		first := nagleOutstanding(t, c, fd)
		nagleHeld(t, c, first, "RFC 9293 section 3.7.4 (SHLD-7): Nagle should be on unless the application turns it off")
		nagleReleased(t, c, first)
	})

// Section 3.7.4 (SHLD-7): Nagle turned on explicitly (TCP_NODELAY 0) holds
// small writes while data is unacknowledged, and the ACK releases them
// together as one segment. This holds whatever the default.
var _ = checkAs("enabled", []string{"SHLD-7"}, "3.7.4", "Nagle turned on: small writes held while data is unacknowledged, then sent together", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		nagleSet(t, fd, 0)
		first := nagleOutstanding(t, c, fd)
		nagleHeld(t, c, first, "RFC 9293 section 3.7.4 (SHLD-7): with Nagle on (TCP_NODELAY 0) small writes must wait for the ACK of outstanding data")
		nagleReleased(t, c, first)
	})

// Section 3.7.4 (MUST-17): the application can turn Nagle off
// (TCP_NODELAY 1): then the five small writes behind unacknowledged data
// leave at once, without waiting for its ACK.
var _ = check([]string{"MUST-17"}, "3.7.4", "Nagle turned off: small writes leave at once behind unacknowledged data", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		nagleSet(t, fd, 1)
		first := nagleOutstanding(t, c, fd)
		end := first.Segment.Seq.Add(6 * nagleSmall)
		from := t.Peer().Elapsed()
		for c.RcvNxt.LessThan(end) {
			reqFlowWithin(t, c, from, 0, t.Peer().Late, reqFlowSeg{
				"a small write sent at once: RFC 9293 section 3.7.4 (MUST-17), with Nagle off (TCP_NODELAY 1) data must not wait for the ACK of outstanding data",
				reqFlowDataSeg.ok})
		}
	})
