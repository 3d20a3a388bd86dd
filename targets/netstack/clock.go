package netstack

import (
	"context"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/faketime"
)

// epochOffset is how far the manual clock is moved before the stack is built.
// faketime.ManualClock starts at the Unix epoch, whose monotonic reading is
// tcpip.MonotonicTime{}, and parts of netstack treat that zero value as
// "unset" (for example the rate limiter for out-of-window ACKs compares
// lastOutOfWindowAckTime with MonotonicTime{}). Starting an hour in avoids it.
const epochOffset = time.Hour

// vclock is the tcpip.Clock handed to the stack. It wraps a
// faketime.ManualClock and additionally keeps the deadline of every armed
// timer, which ManualClock does not expose, so that NextTimer can tell the
// harness where the next event is.
//
// Lock order: vclock.mu, then the ManualClock's own lock. ManualClock never
// holds its lock while calling a timer function, so the wrapped callbacks may
// take vclock.mu.
type vclock struct {
	mc *faketime.ManualClock

	mu sync.Mutex
	// active maps each armed timer to its deadline. Timers that fire, are
	// stopped, or were armed with a non-positive duration (ManualClock runs
	// those at once on a goroutine) are absent.
	active map[*vtimer]time.Time
}

var _ tcpip.Clock = (*vclock)(nil)

func newVClock() *vclock {
	c := &vclock{
		mc:     faketime.NewManualClock(),
		active: make(map[*vtimer]time.Time),
	}
	c.mc.Advance(epochOffset)
	return c
}

// Now implements tcpip.Clock.
func (c *vclock) Now() time.Time { return c.mc.Now() }

// NowMonotonic implements tcpip.Clock.
func (c *vclock) NowMonotonic() tcpip.MonotonicTime { return c.mc.NowMonotonic() }

// AfterFunc implements tcpip.Clock. The returned timer records its deadline
// while armed.
func (c *vclock) AfterFunc(d time.Duration, f func()) tcpip.Timer {
	t := &vtimer{c: c}
	fire := func() {
		c.fired(t)
		f()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.mc.Now()
	t.inner = c.mc.AfterFunc(d, fire)
	if d > 0 {
		c.active[t] = now.Add(d)
	}
	return t
}

// fired runs first thing in a timer's callback. It forgets the deadline unless
// the timer was re-armed for a later time in the meantime (ManualClock marks a
// timer inactive before releasing its lock to run the callback, so a Reset
// from another goroutine can slip in between).
func (c *vclock) fired(t *vtimer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at, ok := c.active[t]; ok && !at.After(c.mc.Now()) {
		delete(c.active, t)
	}
}

// next returns the earliest armed deadline.
func (c *vclock) next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var min time.Time
	found := false
	for _, at := range c.active {
		if !found || at.Before(min) {
			min, found = at, true
		}
	}
	return min, found
}

// vtimer wraps a ManualClock timer, keeping its Stop and Reset semantics
// (including Stop's result) and mirroring its deadline into vclock.active.
type vtimer struct {
	c     *vclock
	inner tcpip.Timer // set once under c.mu before t escapes
}

// Stop implements tcpip.Timer.
func (t *vtimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	delete(t.c.active, t)
	return t.inner.Stop()
}

// Reset implements tcpip.Timer.
func (t *vtimer) Reset(d time.Duration) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	now := t.c.mc.Now()
	t.inner.Reset(d)
	if d > 0 {
		t.c.active[t] = now.Add(d)
	} else {
		delete(t.c.active, t)
	}
}

// clock is the instance's targets.Clock.
type clock struct{ inst *instance }

// Now returns the instance's virtual time.
func (c clock) Now() time.Time { return c.inst.vc.Now() }

// Virtual is true: time moves only through Advance.
func (c clock) Virtual() bool { return true }

// Settle is a quiescence barrier. Netstack's IP layer runs synchronously
// inside Link.Inject, but TCP segments are queued to per-CPU processor
// goroutines, and the state change and the timer arming they cause happen
// there (for example an endpoint reads TIME-WAIT before its TIME-WAIT timer
// is armed). Pausing the TCP protocol waits until every processor has drained
// its queue and is idle; resuming lets them run again. Timer callbacks that
// ManualClock started on goroutines (zero-length timers) are waited for too,
// and the endpoints now registered with the stack are remembered for State.
func (c clock) Settle() { c.inst.settle() }

// Advance settles, moves virtual time forward by d, running every timer that
// falls due in deadline order on the calling goroutine (each one stamps what
// it sends with its own fire time), and settles again. Anything a timer sent
// is in the link's queue when Advance returns.
func (c clock) Advance(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d < 0 {
		d = 0
	}
	c.inst.settle()
	if c.inst.isClosed() {
		return errClosed
	}
	c.inst.vc.mc.Advance(d)
	c.inst.settle()
	return nil
}

// NextTimer returns the earliest deadline among the stack's armed clock
// timers. Some of these wake netstack for nothing: its TCP timers (RTO, TLP,
// keepalive, ...) are disabled lazily, leaving the clock timer armed and
// letting it fire as a no-op ("orphaned"), e.g. the retransmission timer of a
// FIN that was acknowledged. So a jump to NextTimer may send nothing; jump
// again to the one after.
func (c clock) NextTimer() (time.Time, bool) { return c.inst.vc.next() }
