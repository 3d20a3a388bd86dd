package state

import "testing"

func TestStringAndParseRoundTrip(t *testing.T) {
	for _, s := range All() {
		got, err := Parse(s.String())
		if err != nil || got != s {
			t.Errorf("Parse(%q) = %v, %v; want %v", s.String(), got, err, s)
		}
	}
	if got := State(99).String(); got != "State(99)" {
		t.Errorf("unknown state prints %q", got)
	}
	if _, err := Parse("HALF-OPEN"); err == nil || err.Error() != `state: unknown TCP state "HALF-OPEN"` {
		t.Errorf("Parse of a bad name: %v", err)
	}
	if s, _ := Parse("SYN-RCVD"); s != SynReceived {
		t.Errorf("short form SYN-RCVD parsed as %v", s)
	}
}

func TestSynchronized(t *testing.T) {
	want := map[State]bool{Established: true, FinWait1: true, FinWait2: true, CloseWait: true,
		Closing: true, LastAck: true, TimeWait: true}
	for _, s := range All() {
		if s.Synchronized() != want[s] {
			t.Errorf("%v.Synchronized() = %v", s, s.Synchronized())
		}
	}
}
