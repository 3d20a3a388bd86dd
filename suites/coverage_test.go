package suites_test

import (
	"slices"
	"testing"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/suites"
)

// Every row of the transition table has a Go spec labelled with its id, and
// every spec's transition and requirement labels name rows and labels the
// tables know.
func TestEveryTransitionHasASpec(t *testing.T) {
	labelled := map[string]bool{}
	for _, c := range suites.Cases() {
		for _, l := range c.Labels {
			labelled[l] = true
		}
	}
	for _, tr := range expectations.Transitions() {
		if !labelled[tr.ID] {
			t.Errorf("%s (%s, %s: %s) has no spec", tr.ID, tr.States[0], tr.Event, tr.Condition)
		}
	}
	var reqs []string
	for _, r := range expectations.Requirements() {
		reqs = append(reqs, r.Label)
	}
	for l := range labelled {
		if requirementLabel.MatchString(l) && !slices.Contains(reqs, l) {
			t.Errorf("label %s is not an RFC 9293 requirement label", l)
		}
		if len(l) == 4 && l[0] == 'T' {
			if _, ok := expectations.TransitionByID(l); !ok {
				t.Errorf("label %s is not a row of the transition table", l)
			}
		}
	}
}
