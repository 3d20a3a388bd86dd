package suites

import (
	"fmt"
	"strings"
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// isnTick bounds the period of the ISN clock a target may use. RFC 9293
// section 3.4.1 and RFC 6528 section 3 describe a timer of about 4
// microseconds (M); Linux and gVisor tick every 64 ns. Any period from a
// nanosecond to 64 microseconds (16 times slower than M) counts as a clock
// here.
const (
	isnTickMin = time.Nanosecond
	isnTickMax = 64 * time.Microsecond
)

// Section 3.4.1 (MUST-8): ISN = M + F(localip, localport, remoteip,
// remoteport, secretkey), M a clock (RFC 6528 section 3). For one
// four-tuple F is the same each time, so the ISSs of the target's SYN,ACKs
// to connections on that tuple, 200 ms and then 600 ms apart, differ by
// the time between them counted in the clock's ticks: both differences
// positive, at one rate, whose tick lies within isnTickMin..isnTickMax. A
// stack without the clock term (the same ISN for the tuple every time) or
// with a random ISN fails. Each connection is reset in SYN-RECEIVED, so no
// TIME-WAIT holds the tuple.
var _ = check([]string{"MUST-8"}, "3.4.1", "ISNs for one four-tuple advance with a clock: 200 ms and 600 ms apart, at one rate of a tick between 1 ns and 64 us", injector.Needs{},
	func(t *injector.T) {
		t.Listen(servicePort)
		type sample struct {
			at  time.Duration
			iss seq.Value
		}
		var got []sample
		var port uint16
		for i, wait := range []time.Duration{0, 200 * time.Millisecond, 600 * time.Millisecond} {
			t.Sleep(wait)
			c := t.Dial(servicePort)
			if i == 0 {
				port = c.PeerPort
			}
			c.PeerPort = port
			c.Send(wire.SYN)
			synack := c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Ack(1)))
			got = append(got, sample{synack.At, synack.Segment.Seq})
			c.Send(wire.RST)
		}
		var lines []string
		rates := make([]float64, 0, 2)
		for i := 1; i < len(got); i++ {
			d := got[i].iss.Offset(got[i-1].iss)
			dt := got[i].at - got[i-1].at
			rate := float64(d) / float64(dt.Nanoseconds()) // ticks a nanosecond
			rates = append(rates, rate)
			lines = append(lines, fmt.Sprintf("  ISS %d, %v after the one before: %+d, a tick every %s", got[i].iss, dt, d, isnTickOf(rate)))
		}
		fail := func(why string) {
			t.Fatalf("RFC 9293 section 3.4.1 (MUST-8), RFC 6528: ISNs of one four-tuple must advance with a clock: %s\n  ISS %d first\n%s", why, got[0].iss, strings.Join(lines, "\n"))
		}
		for _, r := range rates {
			if r <= 0 || r > 1/float64(isnTickMin) || r < 1/float64(isnTickMax) {
				fail(fmt.Sprintf("want a tick between %v and %v", isnTickMin, isnTickMax))
			}
		}
		if ratio := rates[1] / rates[0]; ratio < 0.5 || ratio > 2 {
			fail("the two differences are not at one rate (a clock's), within a factor of 2")
		}
	})

// isnTickOf describes the tick of a clock running at rate ticks a
// nanosecond.
func isnTickOf(rate float64) string {
	if rate <= 0 {
		return "(none: not forward)"
	}
	return time.Duration(1 / rate).String()
}
