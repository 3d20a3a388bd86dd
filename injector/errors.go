package injector

import "fmt"

// Outcome is how a case ended. The classes never mix: a harness error is not
// a failure of the target, and an unsupported case is not a pass.
type Outcome int

const (
	// Passed: the target behaved as the case expects.
	Passed Outcome = iota
	// Failed: nonconformance; the target did something else.
	Failed
	// Skipped: the target cannot run the case (a missing capability).
	Skipped
	// Errored: the harness or the case itself broke, so nothing was learnt
	// about the target.
	Errored
	// Deviated: the case failed as the target's profile declares it will
	// (a known deviation, with its reason): an expected failure.
	Deviated
)

func (o Outcome) String() string {
	switch o {
	case Passed:
		return "PASS"
	case Failed:
		return "FAIL"
	case Skipped:
		return "SKIP"
	case Errored:
		return "ERROR"
	case Deviated:
		return "XFAIL"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// HarnessError is a failure of the harness, not of the target: a packet that
// could not be encoded or injected, a socket call that failed for a reason
// other than an errno.
type HarnessError struct {
	Where string // file:line of the case step
	Err   error
}

func (e *HarnessError) Error() string {
	if e.Where == "" {
		return "harness error: " + e.Err.Error()
	}
	return e.Where + ": harness error: " + e.Err.Error()
}

func (e *HarnessError) Unwrap() error { return e.Err }
