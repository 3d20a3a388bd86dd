package targets

import (
	"context"
	"time"
)

// RealClock is the wall clock, for targets whose stacks run in real time
// (a kernel, an agent process).
type RealClock struct{}

func (RealClock) Now() time.Time               { return time.Now() }
func (RealClock) Virtual() bool                { return false }
func (RealClock) Settle()                      {}
func (RealClock) NextTimer() (time.Time, bool) { return time.Time{}, false }

// spinWindow is how much of a wait is spent spinning rather than sleeping:
// a sleeping goroutine wakes up to a millisecond late, too coarse for
// packetdrill's 4 ms tolerance once a few waits add up.
const spinWindow = 300 * time.Microsecond

// Advance waits for d, or until ctx is done: it sleeps for most of it and
// spins through the last moments, so that the next packet leaves on time.
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
