package injector

import (
	"fmt"

	"github.com/tcpconform/tcpconform/expectations"
)

// KnownDeviation returns the deviation profile p declares for c, when it
// declares one: for c's ID in c's family ("T038.LISTEN [IPv4]") or in both
// ("T038.LISTEN").
func KnownDeviation(p expectations.Profile, c *Case) (expectations.Deviation, bool) {
	if c.ID == "" {
		return expectations.Deviation{}, false
	}
	if d, ok := p.Known[fmt.Sprintf("%s [%v]", c.ID, c.Family)]; ok {
		return d, true
	}
	d, ok := p.Known[c.ID]
	return d, ok
}

// JudgeDeviation is the verdict on a run of c, which target's profile
// declares the deviation d: failed says whether the case failed, and
// failure with what. Only the failure d declares is expected (XFAIL); a
// different failure is a failure of the spec like any other, for the stack
// may have broken in a new way behind the declared one; and a pass is a
// failure too, for the profile must then drop the deviation. Every runner
// of cases judges a declared deviation here.
func JudgeDeviation(target string, c *Case, d expectations.Deviation, failed bool, failure string) (Outcome, string) {
	switch {
	case !failed:
		return Failed, fmt.Sprintf("%s: the %s profile declares %s a known deviation (%s), but it passed: remove it from the profile",
			c.Location, target, c.ID, d.Reason)
	case d.FailsAs(failure):
		return Deviated, fmt.Sprintf("known deviation of %s: %s\nfailed as declared:\n%s", target, d.Reason, failure)
	default:
		return Failed, fmt.Sprintf("the %s profile declares %s a known deviation (%s), expected to fail with %q; it failed with:\n%s",
			target, c.ID, d.Reason, d.Fails, failure)
	}
}
