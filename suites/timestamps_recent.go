package suites

import (
	"bytes"
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// tsTick is how long the peer waits between its segments here, so that its
// timestamp clock (a millisecond a tick) gives each a TSval of its own.
const tsTick = 20 * time.Millisecond

// RFC 7323 section 4.3: TS.Recent holds the TSval to echo. It takes a
// segment's TSval when SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent,
// that is, from segments in order, not from one beyond a hole (case (C)
// of section 4.3), and the TSecr of every ACK is TS.Recent. The peer's
// TSval advances between its segments, so a stack that keeps echoing an
// old TSval (the SYN's, say), or takes the TSval of an out-of-order
// segment, sends a TSecr other than the one asked for.
var _ = behaviourWithID("RFC 7323 4.3: TSecr echoes the TSval of the last segment in order, not a stale one nor an out-of-order one's",
	[]string{"T091", "SHLD-31", "rfc7323:4.3", "rfc7323:3.2", "rfc9293:3.10.7.4", "state:ESTABLISHED"},
	injector.Needs{},
	func(t *injector.T) {
		c, fd := acceptConn(t)
		if !c.Timestamps() {
			t.Skipf("the target did not answer the timestamps option on its SYN,ACK (RFC 7323 section 3.2): no TSecr to check")
		}
		tsval := func(s wire.Segment) uint32 {
			o, _ := s.Option(wire.KindTimestamps)
			return o.(wire.Timestamps).Val
		}

		// A: in order, a later TSval than the handshake's.
		t.Sleep(tsTick)
		a := c.Send(wire.PSH|wire.ACK, injector.WithPayload(pattern(100, 'a')))
		c.Expect(BeSegment(Flags(wire.ACK), AckNum(c.SndNxt), PayloadLen(0), HasOptionKind(wire.KindTimestamps), TSEcr(tsval(a))))

		// C: beyond a hole of 100 octets, a later TSval still. The
		// duplicate ACK echoes A's TSval: C's SEG.SEQ is above
		// Last.ACK.sent, so TS.Recent keeps A's.
		hole := c.SndNxt
		t.Sleep(tsTick)
		late := c.Send(wire.PSH|wire.ACK, injector.WithSeq(hole.Add(100)), injector.WithPayload(pattern(100, 'c')))
		dup := c.Expect(BeSegment(Flags(wire.ACK), AckNum(hole), PayloadLen(0), HasOptionKind(wire.KindTimestamps), TSEcr(tsval(a))))

		// B: fills the hole (SEG.SEQ = Last.ACK.sent). It was sent before
		// C and delayed on the way: its TSval lies between A's and C's.
		// B's TSval becomes TS.Recent, and C's, queued beyond the hole,
		// never does: the ACK of A, B and C echoes B's (section 4.3,
		// case (C)).
		o, _ := dup.Segment.Option(wire.KindTimestamps)
		b := wire.Timestamps{Val: tsval(late) - 1, Ecr: o.(wire.Timestamps).Val}
		c.Send(wire.PSH|wire.ACK, injector.WithSeq(hole), injector.WithPayload(pattern(100, 'b')),
			injector.WithOptions(wire.NOP{}, wire.NOP{}, b))
		c.Expect(BeSegment(Flags(wire.ACK), AckNum(hole.Add(200)), PayloadLen(0), HasOptionKind(wire.KindTimestamps), TSEcr(b.Val)))

		// D: in order, the latest TSval: TS.Recent moves on to it.
		t.Sleep(tsTick)
		d := c.Send(wire.PSH|wire.ACK, injector.WithPayload(pattern(100, 'd')))
		c.Expect(BeSegment(Flags(wire.ACK), AckNum(c.SndNxt), PayloadLen(0), HasOptionKind(wire.KindTimestamps), TSEcr(tsval(d))))

		want := bytes.Join([][]byte{pattern(100, 'a'), pattern(100, 'b'), pattern(100, 'c'), pattern(100, 'd')}, nil)
		t.Expect(readFull(t, fd, len(want))).To(gm.Equal(want))
	})
