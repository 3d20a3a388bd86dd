package expectations

import (
	"slices"
	"strings"
	"testing"
)

// Every built-in profile's deviation says how the spec fails, so that a
// different failure of a declared spec is not taken as the declared one.
func TestBuiltinDeviationsNameTheirFailure(t *testing.T) {
	for _, name := range builtinTargets {
		p := ProfileFor(name)
		if len(p.Known) == 0 {
			t.Errorf("%s: no built-in profile with known deviations", name)
		}
		for id, d := range p.Known {
			if strings.TrimSpace(d.Reason) == "" || strings.TrimSpace(d.Fails) == "" {
				t.Errorf("%s: %s: want a reason and the failure it shows, got %+v", name, id, d)
			}
		}
	}
	for name := range profiles {
		if !slices.Contains(builtinTargets, name) {
			t.Errorf("profile %s is not checked here", name)
		}
	}
}

func TestFailsAs(t *testing.T) {
	d := Deviation{Reason: "r", Fails: "flags: want S. got R."}
	for _, tc := range []struct {
		failure string
		want    bool
	}{
		{"x.go:1: segment 2\n  flags:  want S.\n        got  R.\n", true},
		{"flags: want S. got R.", true},
		{"flags: want S. got R", false},
		{"ack: want 1 got 2", false},
		{"", false},
	} {
		if got := d.FailsAs(tc.failure); got != tc.want {
			t.Errorf("FailsAs(%q) = %v, want %v", tc.failure, got, tc.want)
		}
	}
	if (Deviation{Reason: "r"}).FailsAs("anything") {
		t.Error("a deviation without Fails matched a failure")
	}
}

// builtinTargets are the targets with a built-in profile.
var builtinTargets = []string{"netstack", "linux", "remote", "uml", "lwip", "seqs"}
