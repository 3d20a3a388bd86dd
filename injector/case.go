package injector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/targets"
)

// Case is one conformance check written in Go against the engine: the CLI
// runs it directly and the Ginkgo suite turns it into a spec.
type Case struct {
	// Name says what the case checks, e.g. "passive open: LISTEN to
	// ESTABLISHED".
	Name string
	// ID names the case in targets' profiles (their known deviations) and
	// in coverage reports: "T043.SYN-SENT" for a transition-table spec.
	ID string
	// Group is the state or behaviour the case describes; the Ginkgo suite
	// makes one Describe of each.
	Group string
	// Labels carry the transition ids, RFC sections and states the case
	// covers ("T036", "rfc9293:3.10.7.2", "state:LISTEN").
	Labels []string
	// Family is the address family the peer speaks.
	Family Family
	// Needs lists the capabilities the case relies on.
	Needs Needs
	// Config tunes the instance the case gets.
	Config targets.Config
	// Run is the body.
	Run func(t *T)
	// Location is the file:line where the case was declared.
	Location string
}

// FullName is the name with the family, unique across the built-in cases.
func (c *Case) FullName() string { return fmt.Sprintf("%s [%v]", c.Name, c.Family) }

// Needs are the capabilities a case relies on beyond sending and receiving.
type Needs struct {
	State            bool // Instance.State
	SynReceivedState bool // State of passive children before accept
	VirtualTime      bool // waits that would take minutes of wall time
}

// Missing returns why a target with caps cannot run a case with these needs
// in family f, or "" when it can.
func (n Needs) Missing(caps targets.Capabilities, f Family) string {
	var why []string
	if f == IPv4 && !caps.IPv4 {
		why = append(why, "IPv4")
	}
	if f == IPv6 && !caps.IPv6 {
		why = append(why, "IPv6")
	}
	if n.State && !caps.State {
		why = append(why, "observing connection states")
	}
	if n.SynReceivedState && !caps.SynReceivedState {
		why = append(why, "observing SYN-RECEIVED before accept")
	}
	if n.VirtualTime && !caps.VirtualTime {
		why = append(why, "virtual time")
	}
	if len(why) == 0 {
		return ""
	}
	return "the target does not support " + strings.Join(why, ", ")
}

// RunOptions tune how cases run.
type RunOptions struct {
	// Seed is passed to each instance (see targets.Config.Seed).
	Seed uint64
	// PcapDir, when set, receives the pcap of every failing case, or of
	// every case with PcapAll.
	PcapDir string
	PcapAll bool
	// Timeout bounds each case in wall time; zero means DefaultCaseTimeout.
	Timeout time.Duration
	// Verbose keeps one line per packet of each case in Result.Log (Run),
	// or writes them to Log (Start).
	Verbose bool
	Log     io.Writer
	// NoOffload gives every instance a link without segmentation or
	// checksum offload, even scripts' (which otherwise get packetdrill's
	// device, targets.Config.Offload), for wire-exact checks.
	NoOffload bool
	// Profile, when set, is what the target is judged by instead of its
	// built-in profile (a profile file of the user's, -profile).
	Profile *expectations.Profile
}

// ProfileOf returns the profile tgt is judged by: o.Profile when set,
// else the target's built-in one (expectations.ProfileFor).
func (o RunOptions) ProfileOf(tgt targets.Target) expectations.Profile {
	if o.Profile != nil {
		return *o.Profile
	}
	return expectations.ProfileFor(tgt.Name())
}

// DefaultCaseTimeout bounds a case in wall time, so a target that hangs fails
// that case and the run goes on.
const DefaultCaseTimeout = 30 * time.Second

// Start gives a case its instance, peer and T. It reports through rep, so it
// does not return when the target cannot run the case (Skip) or the instance
// does not start (Error). The caller must call the returned cleanup.
func Start(ctx context.Context, tgt targets.Target, c *Case, rep Reporter, o RunOptions) (*T, func()) {
	if err := tgt.Available(); err != nil {
		rep.Skip(fmt.Sprintf("target %s is not available here: %v", tgt.Name(), err))
	}
	cfg := c.Config
	if cfg.Seed == 0 {
		cfg.Seed = o.Seed
	}
	if o.NoOffload {
		cfg.Offload = false
	}
	inst, err := tgt.New(ctx, cfg)
	if errors.Is(err, targets.ErrUnsupported) {
		rep.Skip(err.Error())
	}
	if err != nil {
		rep.Error((&HarnessError{Where: c.Location, Err: fmt.Errorf("start target %s: %w", tgt.Name(), err)}).Error())
	}
	var once sync.Once
	cleanup := func() { once.Do(func() { inst.Close() }) }
	if why := c.Needs.Missing(inst.Capabilities(), c.Family); why != "" {
		cleanup()
		rep.Skip(why)
	}
	t := &T{ctx: ctx, target: tgt.Name(), profile: o.ProfileOf(tgt), c: c, peer: NewPeer(inst, c.Family), rep: rep, pcapDir: o.PcapDir}
	t.peer.Log = o.Log
	t.peer.Late = t.Profile().TimerGranularity + t.Profile().Latency
	t.g = gomega.NewGomega(func(message string, _ ...int) { t.fail(message) })
	return t, cleanup
}

// Result is how one case ended.
type Result struct {
	Case    *Case
	Outcome Outcome
	Message string
	Elapsed time.Duration
	Pcap    string
	// Log holds the packet lines when RunOptions.Verbose was set.
	Log string
	// Warnings are the mismatches the case let pass (T.WarnAt).
	Warnings []string
	// FirstFailure, for a case that was run again alone after failing,
	// is the first run's message.
	FirstFailure string
	// Start is when the case's instance time began; Packets are what
	// passed between the peer and the target, and States what the case read
	// of the target's states, both stamped on the instance's clock; End is
	// when the case ended on that clock (where a failure happened).
	Start   time.Time
	Packets []Packet
	States  []StateSample
	End     time.Time
}

// runReporter records the outcome and leaves the case's goroutine. A
// failure of a case the target's profile declares is an expected one.
type runReporter struct {
	res       *Result
	target    string
	c         *Case
	deviation expectations.Deviation
	known     bool
}

func (r runReporter) end(o Outcome, msg string) {
	r.res.Outcome, r.res.Message = o, msg
	runtime.Goexit()
}
func (r runReporter) Fail(msg string) {
	if r.known {
		r.end(JudgeDeviation(r.target, r.c, r.deviation, true, msg))
	}
	r.end(Failed, msg)
}
func (r runReporter) Skip(msg string)  { r.end(Skipped, msg) }
func (r runReporter) Error(msg string) { r.end(Errored, msg) }

// Run runs one case against a fresh instance of tgt, outside any test
// framework. A case that does not finish within the timeout fails with that
// reason; the run can go on with the next case.
func Run(ctx context.Context, tgt targets.Target, c *Case, o RunOptions) Result {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultCaseTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	res := &Result{Case: c, Outcome: Passed}
	profile := o.ProfileOf(tgt)
	deviation, known := KnownDeviation(profile, c)
	rep := runReporter{res: res, target: profile.Target, c: c, deviation: deviation, known: known}
	var log strings.Builder
	if o.Verbose {
		o.Log = &log
	}
	begin := time.Now()
	done := make(chan struct{})
	var t *T
	// closer holds the instance's cleanup once it exists, so that a case
	// that hangs still has its instance closed.
	var closer atomic.Pointer[func()]
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				res.Outcome = Errored
				res.Message = fmt.Sprintf("%s: harness error: panic: %v\n%s", c.Location, p, debug.Stack())
			}
		}()
		var cleanup func()
		t, cleanup = Start(ctx, tgt, c, rep, o)
		closer.Store(&cleanup)
		defer cleanup()
		c.Run(t)
		if known {
			res.Outcome, res.Message = JudgeDeviation(profile.Target, c, deviation, false, "")
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			if cleanup := closer.Load(); cleanup != nil {
				(*cleanup)()
			}
			return Result{Case: c, Outcome: Failed, Elapsed: time.Since(begin),
				Message: fmt.Sprintf("%s: the case did not finish within %v: the target hangs", c.Location, timeout)}
		}
	}
	res.Elapsed = time.Since(begin)
	res.Log = log.String()
	if t != nil {
		p := t.peer
		res.Start, res.Packets, res.States, res.End = p.Start(), p.rec.Packets(), p.States(), p.clock.Now()
		res.Pcap = t.PcapPath
		res.Warnings = t.Warnings
		if o.PcapAll && res.Pcap == "" && o.PcapDir != "" {
			path := filepath.Join(o.PcapDir, Slug(c.FullName())+".pcap")
			if err := p.rec.WriteFile(path); err == nil {
				res.Pcap = path
			}
		}
	}
	return *res
}
