package expectations

import (
	"fmt"
	"strings"
)

// SegmentMatcher is a Gomega matcher over one segment: it checks every Field
// and reports all that differ, not just the first.
type SegmentMatcher struct {
	Fields []Field
}

// BeSegment matches a segment (an Observed or a wire.Segment) that has every
// one of the fields.
func BeSegment(fields ...Field) *SegmentMatcher { return &SegmentMatcher{Fields: fields} }

// Match implements types.GomegaMatcher.
func (m *SegmentMatcher) Match(actual any) (bool, error) {
	o, err := asObserved(actual)
	if err != nil {
		return false, err
	}
	return len(m.Mismatches(o)) == 0, nil
}

// Mismatch is one field that differs.
type Mismatch struct {
	Field, Want, Got string
}

func (m Mismatch) String() string { return fmt.Sprintf("%s: want %s got %s", m.Field, m.Want, m.Got) }

// Mismatches lists the fields of o that differ, in the order they were given.
func (m *SegmentMatcher) Mismatches(o Observed) []Mismatch {
	var out []Mismatch
	for _, f := range m.Fields {
		if ok, got := f.check(o); !ok {
			out = append(out, Mismatch{Field: f.Name(), Want: f.Want(), Got: got})
		}
	}
	return out
}

// String describes what the matcher wants, e.g. "flags S., seq ISS+0, ack IRS+1".
func (m *SegmentMatcher) String() string {
	if len(m.Fields) == 0 {
		return "any segment"
	}
	parts := make([]string, len(m.Fields))
	for i, f := range m.Fields {
		parts[i] = f.Name() + " " + f.Want()
	}
	return strings.Join(parts, ", ")
}

// FailureMessage implements types.GomegaMatcher:
//
//	segment does not match
//	  expected  flags S., ack IRS+1
//	  actual    192.0.2.1.8080 > 192.0.2.2.40000: Flags [R.], seq 0, ack 1001, win 0, length 0 (at +0.000000 s)
//	  fields    flags: want S. got R.
func (m *SegmentMatcher) FailureMessage(actual any) string {
	o, err := asObserved(actual)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString("segment does not match\n")
	fmt.Fprintf(&b, "  expected  %s\n", m)
	fmt.Fprintf(&b, "  actual    %s\n", o)
	for i, mm := range m.Mismatches(o) {
		label := "          "
		if i == 0 {
			label = "  fields  "
		}
		fmt.Fprintf(&b, "%s  %s\n", label, mm)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// NegatedFailureMessage implements types.GomegaMatcher.
func (m *SegmentMatcher) NegatedFailureMessage(actual any) string {
	o, err := asObserved(actual)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("segment matches what it should not\n  not expected  %s\n  actual        %s", m, o)
}
