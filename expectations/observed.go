// Package expectations is the reference side of the harness: matchers that
// say what a conforming stack sends, with failure messages that list every
// field that differs and show what arrived instead.
//
// Matchers are Gomega matchers, so specs compose them with And, Or and Not
// and use them under Expect; the package does not depend on Ginkgo.
package expectations

import (
	"fmt"
	"time"

	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/wire"
)

// Base holds the initial sequence numbers that relative sequence and
// acknowledgment numbers are read against, as packetdrill reads them.
type Base struct {
	// ISS is the target's initial send sequence number: the sequence number
	// of the SYN or SYN,ACK it sent (RFC 9293 section 3.4.1).
	ISS seq.Value
	// IRS is the target's initial receive sequence number: the sequence
	// number of the peer's SYN.
	IRS seq.Value
	// KnownISS and KnownIRS say whether the numbers have been seen yet.
	KnownISS, KnownIRS bool
}

// Observed is one segment the target sent, as the matchers see it: the
// segment, when it left (since the start of the run, on the instance clock),
// and the base its relative numbers are read against.
type Observed struct {
	Segment wire.Segment
	At      time.Duration
	Base    Base
}

// String prints the segment and its time, e.g.
// "192.0.2.1.8080 > 192.0.2.2.40000: Flags [R.], ... (at +0.000112 s)".
func (o Observed) String() string {
	return fmt.Sprintf("%v (at +%.6f s)", o.Segment, o.At.Seconds())
}

// GomegaString makes Gomega print the one-line form.
func (o Observed) GomegaString() string { return o.String() }

// relSeq prints v relative to the target's ISS, and absolute as well.
func (b Base) relSeq(v seq.Value) string { return rel("ISS", b.ISS, b.KnownISS, v) }

// relAck prints v relative to the peer's ISN (the target's IRS).
func (b Base) relAck(v seq.Value) string { return rel("IRS", b.IRS, b.KnownIRS, v) }

func rel(name string, base seq.Value, known bool, v seq.Value) string {
	if !known {
		return fmt.Sprintf("%d", uint32(v))
	}
	off := v.Offset(base)
	sign := "+"
	if off < 0 {
		sign = ""
	}
	return fmt.Sprintf("%s%s%d (%d)", name, sign, off, uint32(v))
}

// asObserved accepts the types a segment matcher can be applied to.
func asObserved(actual any) (Observed, error) {
	switch a := actual.(type) {
	case Observed:
		return a, nil
	case *Observed:
		if a == nil {
			return Observed{}, fmt.Errorf("expected a segment, got nil")
		}
		return *a, nil
	case wire.Segment:
		return Observed{Segment: a}, nil
	case *wire.Segment:
		if a == nil {
			return Observed{}, fmt.Errorf("expected a segment, got nil")
		}
		return Observed{Segment: *a}, nil
	}
	return Observed{}, fmt.Errorf("expected an expectations.Observed or wire.Segment, got %T", actual)
}
