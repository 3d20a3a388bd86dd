package linux

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// awaitAddr6 keeps polling an address that is not usable until its context
// ends, then says which address and how long it waited; a usable one
// returns at once.
func TestAwaitAddr6FollowsItsContext(t *testing.T) {
	inst := newInstance(t)
	missing := netip.MustParseAddr("2001:db8::99")
	const wait = 150 * time.Millisecond
	var err, okErr error
	var took time.Duration
	if e := inst.ex.Do(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		start := time.Now()
		err = awaitAddr6(ctx, missing)
		took = time.Since(start)
		okErr = awaitAddr6(context.Background(), addrs.Local6)
		return nil
	}); e != nil {
		t.Fatal(e)
	}
	if err == nil || !strings.Contains(err.Error(), missing.String()+" did not become usable within") {
		t.Errorf("awaitAddr6(%v) = %v, want it not usable", missing, err)
	}
	if took < wait || took > wait+500*time.Millisecond {
		t.Errorf("awaitAddr6(%v) gave up after %v, want it to wait for its context (%v)", missing, took, wait)
	}
	if okErr != nil {
		t.Errorf("awaitAddr6(%v), the instance's own address: %v", addrs.Local6, okErr)
	}
}
