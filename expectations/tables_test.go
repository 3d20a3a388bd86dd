package expectations

import (
	"fmt"
	"slices"
	"testing"
)

func TestTablesAreComplete(t *testing.T) {
	ts := Transitions()
	if len(ts) != 110 {
		t.Fatalf("%d transitions, want 110", len(ts))
	}
	for i, tr := range ts {
		if want := fmt.Sprintf("T%03d", i+1); tr.ID != want {
			t.Errorf("row %d is %s, want %s", i+1, tr.ID, want)
		}
		if len(tr.Sections()) == 0 && tr.Variant != "impl" {
			t.Errorf("%s: no section in %q", tr.ID, tr.Ref)
		}
	}
	rs := Requirements()
	if len(rs) != 119 {
		t.Fatalf("%d requirements, want 119", len(rs))
	}
	observable := 0
	for _, r := range rs {
		if r.Observable == "yes" {
			observable++
		}
	}
	if observable != 70 {
		t.Errorf("%d wire-observable requirements, want 70", observable)
	}
}

func TestSections(t *testing.T) {
	for ref, want := range map[string][]string{
		"RFC9293 3.10.7.3 step 4; 3.5 Fig.6; RFC793 Fig.6": {"rfc9293:3.10.7.3", "rfc9293:3.5"},
		"RFC1337 s.3 (F1)": {"rfc1337:3"},
		"RFC9293 3.10.7.4 step 2 (3); RFC5961 3.2, 7": {"rfc9293:3.10.7.4", "rfc5961:3.2"},
	} {
		if got := (Transition{Ref: ref}).Sections(); !slices.Equal(got, want) {
			t.Errorf("Sections(%q) = %v, want %v", ref, got, want)
		}
	}
	if tr, ok := TransitionByID("T043"); !ok || tr.States[0] != "SYN-SENT" || tr.Sections()[0] != "rfc9293:3.10.7.3" {
		t.Errorf("T043 = %+v", tr)
	}
}
