package agent

import (
	"context"
	"time"
)

// RealClock is the wall clock, for agents whose stacks run in real time.
type RealClock struct{}

func (RealClock) Now() time.Time               { return time.Now() }
func (RealClock) Virtual() bool                { return false }
func (RealClock) Settle()                      {}
func (RealClock) NextTimer() (time.Time, bool) { return time.Time{}, false }

// spinWindow is how much of a wait is spent spinning rather than sleeping,
// so that the next packet leaves on time.
const spinWindow = 300 * time.Microsecond

// Advance waits for d, or until ctx is done.
func (RealClock) Advance(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	deadline := time.Now().Add(d)
	if d > spinWindow {
		t := time.NewTimer(d - spinWindow)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}
