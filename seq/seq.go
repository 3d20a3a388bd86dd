// Package seq holds TCP sequence-number arithmetic as value types.
//
// Sequence numbers live in a 32-bit space that wraps (RFC 9293 section 3.4):
// every comparison is made modulo 2^32, so "a is before b" means that b lies
// less than 2^31 ahead of a. A bare uint32 compared with < gets this wrong
// near the wrap point; these types do not.
package seq

import "fmt"

// Value is a point in the sequence space: a sequence or acknowledgment number.
type Value uint32

// Size is a distance in the sequence space: a length or a window.
type Size uint32

// Add returns v moved forward by s, wrapping modulo 2^32.
func (v Value) Add(s Size) Value { return v + Value(s) }

// Sub returns v moved back by s, wrapping modulo 2^32.
func (v Value) Sub(s Size) Value { return v - Value(s) }

// Offset returns the signed distance from base to v: positive when v is ahead
// of base. Distances of 2^31 or more read as negative, as RFC 1982 serial
// arithmetic prescribes.
func (v Value) Offset(base Value) int64 { return int64(int32(v - base)) }

// Distance returns how far v lies ahead of base, modulo 2^32.
func (v Value) Distance(base Value) Size { return Size(v - base) }

// LessThan reports whether v comes strictly before w: w lies less than 2^31
// ahead. Two numbers exactly 2^31 apart are unordered; neither is before the
// other.
func (v Value) LessThan(w Value) bool {
	d := uint32(w - v)
	return d != 0 && d < 1<<31
}

// LessThanEq reports whether v comes before w or equals it.
func (v Value) LessThanEq(w Value) bool { return v == w || v.LessThan(w) }

// GreaterThan reports whether v comes strictly after w.
func (v Value) GreaterThan(w Value) bool { return w.LessThan(v) }

// GreaterThanEq reports whether v comes after w or equals it.
func (v Value) GreaterThanEq(w Value) bool { return w.LessThanEq(v) }

// InRange reports whether first <= v < end in sequence space.
func (v Value) InRange(first, end Value) bool {
	return v.Distance(first) < end.Distance(first)
}

// InWindow reports whether v lies in the window of size s starting at first,
// that is first <= v < first+s. An empty window contains nothing.
func (v Value) InWindow(first Value, s Size) bool {
	return v.InRange(first, first.Add(s))
}

// Max returns whichever of v and w comes later.
func Max(v, w Value) Value {
	if v.LessThan(w) {
		return w
	}
	return v
}

// Min returns whichever of v and w comes earlier.
func Min(v, w Value) Value {
	if v.LessThan(w) {
		return v
	}
	return w
}

// Overlap reports whether the segment [segSeq, segSeq+segLen) has any octet in
// the window [rcvNxt, rcvNxt+rcvWnd): the test RFC 9293 section 3.10.7.4
// applies to segments that carry data.
func Overlap(segSeq Value, segLen Size, rcvNxt Value, rcvWnd Size) bool {
	if segLen == 0 {
		return false
	}
	last := segSeq.Add(segLen - 1)
	return segSeq.InWindow(rcvNxt, rcvWnd) || last.InWindow(rcvNxt, rcvWnd)
}

// Acceptable applies the four-case acceptability test of RFC 9293 section
// 3.10.7.4 ("There are four cases for the acceptability test for an incoming
// segment") to a segment of length segLen starting at segSeq, for a receiver
// whose next expected octet is rcvNxt and whose window is rcvWnd.
func Acceptable(segSeq Value, segLen Size, rcvNxt Value, rcvWnd Size) bool {
	switch {
	case segLen == 0 && rcvWnd == 0:
		return segSeq == rcvNxt
	case segLen == 0:
		return segSeq.InWindow(rcvNxt, rcvWnd)
	case rcvWnd == 0:
		return false
	default:
		return Overlap(segSeq, segLen, rcvNxt, rcvWnd)
	}
}

// String prints the number in decimal, as tcpdump does.
func (v Value) String() string { return fmt.Sprintf("%d", uint32(v)) }
