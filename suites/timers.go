package suites

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	gm "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// Timeouts: RFC 9293 section 3.10.8 (USER TIMEOUT, RETRANSMISSION TIMEOUT,
// TIME-WAIT TIMEOUT), with the retransmission timer of RFC 6298, the
// excessive-retransmission thresholds R1/R2 of 3.8.3, keep-alives (3.8.4),
// zero-window probing (3.8.6.1) and delayed ACKs (3.8.6.3). FIN-WAIT-2's
// timeout is not in the RFC; stacks add it for orphaned connections.
//
// Where the RFCs leave a value to the implementation (R2, the keep-alive
// idle time, interval and count, the FIN-WAIT-2 timeout), a spec sets it
// with a socket option and is skipped on a target without that option.
// Where the RFCs bound the default (R2 of at least 100 s, or 3 min for a
// SYN; keep-alives off, and no sooner than every 2 h), a spec checks the
// default. Specs that wait longer than about 2 s need virtual time.

// Socket options that set the implementation's timer values, by Linux's
// numbers, which targets.Sockets takes.
const (
	tcpKeepIdle    = 4  // TCP_KEEPIDLE, seconds
	tcpKeepIntvl   = 5  // TCP_KEEPINTVL, seconds
	tcpKeepCnt     = 6  // TCP_KEEPCNT
	tcpSynCnt      = 7  // TCP_SYNCNT: SYN (and, on a listener, SYN,ACK) retransmissions
	tcpLinger2     = 8  // TCP_LINGER2: orphaned FIN-WAIT-2 lifetime, seconds
	tcpUserTimeout = 18 // TCP_USER_TIMEOUT, milliseconds
)

// virtualTime is what the specs need that wait longer than a real clock allows.
var virtualTime = injector.Needs{State: true, VirtualTime: true}

// timerHelpers are the functions below whose failures are reported at the
// spec's line that called them, not at their own.
var timerHelpers = map[string]bool{
	"setKnob": true, "setKeepAlive": true, "expectWithin": true, "expectAt": true, "initialRTO": true,
	"retransmissions": true, "backoff": true, "timedOut": true, "specSite": true, "failTimer": true,
}

// specSite returns file:line of the innermost caller that is not a timer
// helper: the spec's own line.
func specSite() string {
	pcs := make([]uintptr, 16)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
	for {
		f, more := frames.Next()
		if !timerHelpers[f.Function[strings.LastIndex(f.Function, ".")+1:]] {
			return fmt.Sprintf("suites/%s:%d", filepath.Base(f.File), f.Line)
		}
		if !more {
			return "?"
		}
	}
}

// failTimer ends the case for err: nonconformance, or a harness error.
func failTimer(t *injector.T, err error) {
	var nc *injector.Nonconformance
	if errors.As(err, &nc) {
		t.FailAt(specSite(), nc.Message)
	}
	t.ErrorAt(specSite(), err)
}

// setKnob sets a socket option giving a value the RFCs leave to the
// implementation. A target without the option is skipped: the spec's
// expectations follow from the value it sets.
func setKnob(t *injector.T, fd, level, name, value int, what string) {
	err := t.Sockets().SetsockoptInt(fd, level, name, value)
	if errors.Is(err, syscall.ENOPROTOOPT) {
		t.Skipf("the target has no %s socket option (ENOPROTOOPT): the spec needs the value the RFCs leave to the implementation set explicitly", what)
	}
	if err != nil {
		t.FailAt(specSite(), fmt.Sprintf("setsockopt(%s, %d) failed: %v", what, value, err))
	}
}

// expectWithin consumes the next segment on c, which must match m and leave
// within d from now. It is for segments whose exact time the spec does not
// know, only a bound.
func expectWithin(t *injector.T, c *injector.TConn, d time.Duration, m types.GomegaMatcher) Observed {
	o, err := tryExpectWithin(t, c, d, m)
	if err != nil {
		failTimer(t, err)
	}
	return o
}

// tryExpectWithin is expectWithin that returns the failure instead of ending the case.
func tryExpectWithin(t *injector.T, c *injector.TConn, d time.Duration, m types.GomegaMatcher) (Observed, error) {
	p := t.Peer()
	tol, timeout := p.Tolerance, p.ExpectTimeout
	p.Tolerance, p.ExpectTimeout = d, d
	defer func() { p.Tolerance, p.ExpectTimeout = tol, timeout }()
	return c.TryExpect(t.Context(), m)
}

// expectAt consumes the next segment on c, which must match m and leave at
// instance time at (since the start of the case), give or take the peer's
// tolerance.
func expectAt(t *injector.T, c *injector.TConn, at time.Duration, m types.GomegaMatcher) Observed {
	o, err := c.TryExpectAfter(t.Context(), at-t.Peer().Elapsed(), m)
	if err != nil {
		failTimer(t, err)
	}
	return o
}

// sleepUntil lets instance time run to at.
func sleepUntil(t *injector.T, at time.Duration) {
	if d := at - t.Peer().Elapsed(); d > 0 {
		t.Sleep(d)
	}
}

// initialRTO expects n retransmissions of a segment first sent at t0 when
// no round-trip time has been measured yet: the timer starts at 1 s (RFC
// 6298 section 2.1) and doubles on each expiry (5.5), so they leave 1 s,
// 2 s, 4 s, ... after the transmission before (at t0+1 s, t0+3 s, t0+7 s
// on an exact clock; n is small enough to stay below a 60 s ceiling). It
// returns when the last one left.
func initialRTO(t *injector.T, c *injector.TConn, t0 time.Duration, n int, m types.GomegaMatcher) time.Duration {
	at, rto := t0, time.Second
	for range n {
		at = expectAt(t, c, at+rto, m).At
		rto *= 2
	}
	return at
}

// retransmissions consumes n retransmissions matching m of a segment first
// sent at t0, each within limit of the one before, and returns the times of
// all n+1 transmissions.
//
// On a real clock the case has a wall-time limit (its context's deadline),
// and a timer that doubles from an RTO of seconds (RFC 6298 section 2.1
// allows 1 s and more) soon needs more than that. Once two gaps are known,
// a retransmission due, by the doubling, past the limit is not waited for:
// the gaps so far are checked (backoff, from skip) and the case is skipped,
// as one needing virtual time is, rather than ended by its deadline.
func retransmissions(t *injector.T, c *injector.TConn, t0 time.Duration, n int, limit time.Duration, m types.GomegaMatcher, skip int) []time.Duration {
	at := []time.Duration{t0}
	for range n {
		if k := len(at); k >= 3 {
			last, gap := at[k-1], at[k-1]-at[k-2]
			due := last + 2*gap + 3*t.Peer().Tolerance
			if left, ok := realClockLeft(t); ok && due-t.Peer().Elapsed() > left {
				backoff(t, "retransmissions", at, skip)
				var times []string
				for _, a := range at {
					times = append(times, fmt.Sprintf("+%.3f", a.Seconds()))
				}
				t.Skipf("on a real clock the next retransmission is due at about +%.1f s (the timer doubling after a gap of %.1f s), "+
					"past the case's wall-time limit (%.1f s left): the spec needs virtual time or a longer case timeout; "+
					"the transmissions so far (at %s s) back off as they should", due.Seconds(), gap.Seconds(), left.Seconds(), strings.Join(times, ", "))
			}
		}
		at = append(at, expectWithin(t, c, realClockLimit(t, limit), m).At)
	}
	return at
}

// realClockLimit caps a wait of d for what a timer sends at the wall time a
// case on a real clock has left, so that a segment that never comes fails
// the case as a timeout (with a 1 s initial RTO and an RTT of milliseconds,
// RFC 6298 sections 2.1 to 2.4, a retransmission is due long before) rather
// than running into the case's limit, which is the harness's error.
func realClockLimit(t *injector.T, d time.Duration) time.Duration {
	if left, ok := realClockLeft(t); ok && left < d {
		return max(left, 0)
	}
	return d
}

// realClockLeft returns how much time a case on a real clock has left
// before its wall-time limit, less a margin for what it does after its
// waits; ok is false on a virtual clock, or when the case has no limit.
func realClockLeft(t *injector.T) (left time.Duration, ok bool) {
	if t.Peer().Instance().Clock().Virtual() {
		return 0, false
	}
	deadline, ok := t.Context().Deadline()
	if !ok {
		return 0, false
	}
	return time.Until(deadline) - 2*time.Second, true
}

// backoff checks RFC 6298 section 5.5 on the times a segment was sent (at[0]
// the first transmission): each expiry of the timer doubles it, so each gap
// between transmissions is twice the one before, until a ceiling of at least
// 60 s (2.5), from which the gaps stay put. The check starts with the gap
// that ends at at[skip+1], so that a first retransmission that was not an RTO
// expiry (a tail loss probe, RFC 8985 section 7) can be left out.
func backoff(t *injector.T, what string, at []time.Duration, skip int) {
	slack := 3 * t.Peer().Tolerance
	for i := skip + 2; i < len(at); i++ {
		prev, gap := at[i-1]-at[i-2], at[i]-at[i-1]
		lo, hi := min(2*prev, max(prev, time.Minute)), 2*prev
		if gap < lo-slack || gap > hi+slack {
			var times []string
			for _, a := range at {
				times = append(times, fmt.Sprintf("+%.3f", a.Seconds()))
			}
			t.FailAt(specSite(), fmt.Sprintf("%s: the retransmission timer does not double on expiry (RFC 6298 section 5.5; a ceiling must be at least 60 s, 2.5)\n"+
				"  expected  gap %d of %v to %v (± %v), after a gap of %v\n  actual    %v\n  sent at   %s s",
				what, i, lo, hi, slack, prev, gap, strings.Join(times, ", ")))
		}
	}
}

// timedOut checks that the connection was aborted by a timer: CLOSED, and
// the application told so by a timeout error (RFC 9293 section 3.10.8:
// "error: connection aborted due to user timeout"; 3.8.3 for R2).
func timedOut(t *injector.T, r reached, when string) {
	if s := r.State(); s != state.Closed {
		t.FailAt(specSite(), when+"\n"+BeInState(state.Closed).FailureMessage(s))
	}
	soerr, err := t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil || soerr != int(syscall.ETIMEDOUT) {
		t.FailAt(specSite(), fmt.Sprintf("the user was not told of the timeout\n  expected  SO_ERROR ETIMEDOUT (%d)\n  actual    SO_ERROR %d (%v), getsockopt error %v",
			int(syscall.ETIMEDOUT), soerr, syscall.Errno(soerr), err))
	}
}

// lateAbortWait is how long after its limit a timeout that has not ended
// the connection is waited for, to tell one that fires late from one that
// never fires.
const lateAbortWait = 3 * time.Second

// timedOutBy expects the connection, whose first unacknowledged
// transmission left at t0, to be CLOSED with ETIMEDOUT once limit has
// passed (RFC 9293 sections 3.8.3 and 3.10.8: the connection is aborted
// when the time runs out). When it is not, the failure tells a timeout that
// fires late ("aborted late", and when) from one that does not fire within
// lateAbortWait more ("not aborted"), so a profile can declare the one
// without hiding the other. The state is looked at every 20 ms up to the
// deadline; when the machine's load keeps the harness from looking until
// more than the peer's tolerance after it, a connection found CLOSED then
// may have been aborted on time or late, and the case is skipped rather
// than judged.
func timedOutBy(t *injector.T, r reached, t0, limit time.Duration, what string) {
	margin := 2 * t.Peer().Tolerance
	deadline := t0 + limit + margin
	s := r.State()
	for s != state.Closed && t.Peer().Elapsed() < deadline {
		t.Sleep(max(min(20*time.Millisecond, deadline-t.Peer().Elapsed()), 0))
		s = r.State()
	}
	if s == state.Closed {
		if looked := t.Peer().Elapsed(); looked > deadline+t.Peer().Tolerance {
			t.Skipf("the harness, slowed down by the machine's load, looked at the connection only %v after the first transmission, %v past the deadline of %v (%s %v): CLOSED by then, it cannot tell an abort on time from a late one",
				looked-t0, looked-deadline, limit+margin, what, limit)
		}
	} else {
		for t.Peer().Elapsed() < t0+limit+lateAbortWait && r.State() != state.Closed {
			t.Sleep(20 * time.Millisecond)
		}
		at := t.Peer().Elapsed() - t0
		if r.State() == state.Closed {
			t.FailAt(specSite(), fmt.Sprintf("the connection was aborted late: CLOSED only %v after the first transmission, %s being %v\n%s",
				at, what, limit, BeInState(state.Closed).FailureMessage(s)))
		}
		t.FailAt(specSite(), fmt.Sprintf("the connection was not aborted: still %v %v after the first transmission, %s being %v",
			r.State(), at, what, limit))
	}
	timedOut(t, r, fmt.Sprintf("%v after the first transmission, %s being %v", t.Peer().Elapsed()-t0, what, limit))
}

// anySegment matches a segment that any of its matchers matches.
type anySegment []*SegmentMatcher

func (e anySegment) Match(actual any) (bool, error) {
	for _, m := range e {
		if ok, err := m.Match(actual); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func (e anySegment) FailureMessage(actual any) string {
	msgs := make([]string, len(e))
	for i, m := range e {
		msgs[i] = m.FailureMessage(actual)
	}
	return "segment matches none of the alternatives:\n" + strings.Join(msgs, "\nnor ")
}

func (e anySegment) NegatedFailureMessage(actual any) string {
	return "segment should not match " + e.String()
}

func (e anySegment) String() string {
	parts := make([]string, len(e))
	for i, m := range e {
		parts[i] = "(" + m.String() + ")"
	}
	return strings.Join(parts, " or ")
}

// retransmitting are the states in which something the target sent after
// the handshake can wait for acknowledgment (RFC 9293 section 3.10.8): data
// in ESTABLISHED and CLOSE-WAIT, the FIN in FIN-WAIT-1, CLOSING and
// LAST-ACK.
var retransmitting = []state.State{state.Established, state.CloseWait, state.FinWait1, state.Closing, state.LastAck}

// outstanding brings a connection to st, one of retransmitting, with setup
// applied to its socket before the target sends what it will retransmit:
// data written in ESTABLISHED and CLOSE-WAIT, its FIN in the others. That
// segment stays unacknowledged. It returns the connection, when the segment
// was first sent, and a matcher for its retransmissions: the first segment
// on the retransmission queue, as it was.
func outstanding(t *injector.T, st state.State, setup func(fd int)) (reached, time.Duration, *SegmentMatcher) {
	from := state.Established
	if st == state.CloseWait || st == state.LastAck {
		from = state.CloseWait
	}
	r := reach(t, from)
	if setup != nil {
		setup(r.fd)
	}
	var m *SegmentMatcher
	switch st {
	case state.Established, state.CloseWait:
		data := []byte("unacknowledged")
		t.Write(r.fd, data)
		m = BeSegment(FlagsInclude(wire.ACK), Seq(1), AckNum(r.SndNxt), Payload(data))
	default:
		t.Shutdown(r.fd, syscall.SHUT_WR)
		m = BeSegment(Flags(wire.FIN|wire.ACK), Seq(1), AckNum(r.SndNxt), PayloadLen(0))
	}
	o := r.Expect(m)
	if st == state.Closing {
		// Simultaneous close (RFC 9293 section 3.6, Figure 13): the
		// peer's FIN does not acknowledge the target's.
		r.Send(wire.FIN|wire.ACK, injector.WithAck(r.RcvNxt.Sub(1)))
		r.Expect(BeSegment(Flags(wire.ACK), Seq(2), AckNum(r.SndNxt)))
		m = BeSegment(Flags(wire.FIN|wire.ACK), Seq(1), AckNum(r.SndNxt), PayloadLen(0))
	}
	t.Expect(r.State()).To(BeInState(st))
	return r, o.At, m
}

// T101, USER TIMEOUT (RFC 9293 section 3.10.8): when the user timeout
// expires, in whatever state, the connection is aborted: queues flushed, the
// user told "connection aborted due to user timeout", the TCB deleted,
// CLOSED. The timeout bounds how long data handed to TCP may go undelivered
// (3.10.1, OPEN's timeout parameter), so it runs while the target has
// something unacknowledged: data, or its FIN. It is set here to 500 ms with
// TCP_USER_TIMEOUT (RFC 5482's per-connection user timeout); whether a reset
// is sent is not specified. (In SYN-SENT nothing has been handed to TCP yet:
// giving up there is R2's, T105. LISTEN, SYN-RECEIVED before accept,
// FIN-WAIT-2 and TIME-WAIT have nothing outstanding.)
var _ = eachState(retransmitting, func(st state.State) {
	const userTimeout = 500 * time.Millisecond
	spec("T101", st, "user timeout (500 ms) expires with data or FIN unacknowledged: CLOSED, ETIMEDOUT", withState,
		func(t *injector.T) {
			r, t0, _ := outstanding(t, st, func(fd int) {
				setKnob(t, fd, syscall.IPPROTO_TCP, tcpUserTimeout, int(userTimeout/time.Millisecond), "TCP_USER_TIMEOUT")
			})
			// Retransmissions before the timeout are allowed, and
			// a reset at it; neither is checked.
			margin := 2 * t.Peer().Tolerance
			sleepUntil(t, t0+userTimeout-margin)
			t.Expect(r.State()).To(BeInState(st), "before the user timeout")
			timedOutBy(t, r, t0, userTimeout, "the user timeout")
		})
})

// T102, RETRANSMISSION TIMEOUT in SYN-SENT (RFC 9293 section 3.10.8; RFC
// 6298): an unacknowledged SYN is sent again when the timer expires. With no
// round-trip time measured yet, the first timeout is 1 s (RFC 6298 section
// 2.1).
var _ = spec("T102", state.SynSent, "SYN retransmitted when the initial RTO of 1 s expires", withState,
	func(t *injector.T) {
		r, first := activeOpen(t, nil, synSeg)
		initialRTO(t, r.TConn, first.At, 1, synSeg)
		t.Expect(r.State()).To(BeInState(state.SynSent))
	})

// ... and each expiry doubles the timer (RFC 6298 section 5.5): SYNs at
// +1, +3, +7, +15, +31 and +63 s.
var _ = spec("T102", state.SynSent, "SYN retransmissions back off: +1, +3, +7, +15, +31, +63 s", virtualTime,
	func(t *injector.T) {
		r, first := activeOpen(t, nil, synSeg)
		initialRTO(t, r.TConn, first.At, 6, synSeg)
		t.Expect(r.State()).To(BeInState(state.SynSent))
	})

// T103, RETRANSMISSION TIMEOUT in SYN-RECEIVED (RFC 9293 section 3.10.8): an
// unacknowledged SYN,ACK is sent again, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>,
// first after the initial RTO of 1 s (RFC 6298 section 2.1).
var _ = spec("T103", state.SynReceived, "SYN,ACK retransmitted when the initial RTO of 1 s expires",
	withSynReceivedState,
	func(t *injector.T) {
		r, first := halfOpen(t, nil, synACK)
		initialRTO(t, r.TConn, first.At, 1, synACK)
		t.Expect(r.State()).To(BeInState(state.SynReceived))
	})

// ... doubling on each expiry (RFC 6298 section 5.5): +1, +3, +7, +15, +31 s.
var _ = spec("T103", state.SynReceived, "SYN,ACK retransmissions back off: +1, +3, +7, +15, +31 s",
	injector.Needs{State: true, SynReceivedState: true, VirtualTime: true},
	func(t *injector.T) {
		r, first := halfOpen(t, nil, synACK)
		initialRTO(t, r.TConn, first.At, 5, synACK)
		t.Expect(r.State()).To(BeInState(state.SynReceived))
	})

// T104, RETRANSMISSION TIMEOUT in the synchronized states (RFC 9293 section
// 3.10.8): the segment at the front of the retransmission queue is sent
// again, and the timer restarted backed off: doubled (RFC 6298 section 5.5,
// up to a ceiling of at least 60 s, 2.5). The RTO itself depends on the
// round-trip time, which the spec does not fix, so it checks the ratio of
// successive gaps; the first retransmission may be a tail loss probe (RFC
// 8985 section 7) sent before the RTO, so the doubling is checked from the
// second gap on. The state does not change.
var _ = eachState(retransmitting, func(st state.State) {
	spec("T104", st, "the first unacknowledged segment is retransmitted, the timer doubling each time", withState,
		func(t *injector.T) {
			r, t0, m := outstanding(t, st, nil)
			at := retransmissions(t, r.TConn, t0, 4, 2*time.Minute, m, 1)
			backoff(t, "retransmissions", at, 1)
			t.Expect(r.State()).To(BeInState(st))
		})
})

// T105, EXCESSIVE RETRANSMISSION (RFC 9293 section 3.8.3): when the
// retransmissions of a segment reach R2, the connection is closed and the
// user told. R2's value is the implementation's, but it must be settable per
// connection (MUST-21), and for a SYN it must allow at least 3 minutes of
// retransmission (MUST-23). With the defaults, a SYN is still being
// retransmitted, the connection still SYN-SENT and no error reported, 180 s
// after the first SYN.
var _ = spec("T105", state.SynSent, "default R2 for a SYN: still retrying, no error, after 3 minutes", virtualTime,
	func(t *injector.T) {
		r, first := activeOpen(t, nil, synSeg)
		sleepUntil(t, first.At+180*time.Second)
		t.Expect(r.State()).To(BeInState(state.SynSent), "180 s after the first SYN (MUST-23)")
		t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(0))
	}, "MUST-20", "MUST-22", "MUST-23")

// R2 for a SYN set with TCP_SYNCNT to 3 retransmissions (MUST-21): SYNs at
// +1, +3 and +7 s, none after, and when the timer runs out after the third
// (+15 s) the connection is closed and connect() fails with ETIMEDOUT
// (MUST-22: the SYN's failure is reported like any other).
var _ = spec("T105", state.SynSent, "R2 set to 3 SYN retransmissions: then CLOSED, ETIMEDOUT", virtualTime,
	func(t *injector.T) {
		r, first := activeOpen(t, func(fd int) {
			setKnob(t, fd, syscall.IPPROTO_TCP, tcpSynCnt, 3, "TCP_SYNCNT")
		}, synSeg)
		last := initialRTO(t, r.TConn, first.At, 3, synSeg)
		t.Expect(r.State()).To(BeInState(state.SynSent), "after the last retransmission")
		giveUp := last + 8*time.Second // the RTO, doubled after the third
		r.ExpectNothing(giveUp - t.Peer().Tolerance - t.Peer().Elapsed())
		t.Expect(r.State()).To(BeInState(state.SynSent), "before the last retransmission timed out")
		sleepUntil(t, giveUp+t.Peer().Tolerance)
		timedOut(t, r, fmt.Sprintf("%v after the first SYN, the last retransmission having timed out 8 s after it left", t.Peer().Elapsed()-first.At))
	}, "MUST-20", "MUST-21", "MUST-22")

// R2 for a SYN,ACK, set on the listener with TCP_SYNCNT to 2 retransmissions:
// SYN,ACKs at +1 and +3 s, none after, and when the timer runs out after
// the second (+7 s) the half-open connection is deleted. No user has it
// yet, so nobody is told.
var _ = spec("T105", state.SynReceived, "R2 set to 2 SYN,ACK retransmissions: then the half-open connection is CLOSED",
	injector.Needs{State: true, SynReceivedState: true, VirtualTime: true},
	func(t *injector.T) {
		r, first := halfOpen(t, func(lfd int) {
			setKnob(t, lfd, syscall.IPPROTO_TCP, tcpSynCnt, 2, "TCP_SYNCNT (on a listener, for SYN,ACKs)")
		}, synACK)
		last := initialRTO(t, r.TConn, first.At, 2, synACK)
		giveUp := last + 4*time.Second // the RTO, doubled after the second
		r.ExpectNothing(giveUp - t.Peer().Tolerance - t.Peer().Elapsed())
		t.Expect(r.State()).To(BeInState(state.SynReceived), "before the last retransmission timed out")
		sleepUntil(t, giveUp+t.Peer().Tolerance)
		t.Expect(r.State()).To(BeInState(state.Closed))
	}, "MUST-20", "MUST-21")

// With data or a FIN outstanding and the defaults, R2 should be at least
// 100 s (SHLD-11): the connection is still in its state, with no error
// reported, 100 s after the first transmission, the timer having doubled
// all along (RFC 6298 section 5.5) up to a ceiling of at least 60 s (2.5).
// R2 is then reached, whatever the implementation chose (the spec allows an
// hour), and the connection is closed with ETIMEDOUT (MUST-20).
var _ = eachState(retransmitting, func(st state.State) {
	spec("T105", st, "default R2: retransmissions back off for at least 100 s, then CLOSED, ETIMEDOUT", virtualTime,
		func(t *injector.T) {
			r, t0, m := outstanding(t, st, nil)
			sleepUntil(t, t0+100*time.Second)
			t.Expect(r.State()).To(BeInState(st), "100 s after the first transmission (SHLD-11)")
			t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(0))
			// Every retransmission until the connection is closed:
			// R2. A reset then is allowed (3.8.3 does not say).
			at := []time.Duration{t0}
			for r.State() == st && t.Peer().Elapsed() < t0+time.Hour {
				o, err := tryExpectWithin(t, r.TConn, 10*time.Second, m)
				switch {
				case err == nil:
					at = append(at, o.At)
				case o.Segment.IP.Src.IsValid() && o.Segment.Flags&wire.RST == 0:
					t.Fatalf("while retransmitting: %v", err)
				}
			}
			if s := r.State(); s != state.Closed {
				t.Fatalf("R2 not reached: the connection is %v, not CLOSED, an hour after the first transmission", s)
			}
			backoff(t, "retransmissions up to R2", at, 1)
			timedOut(t, r, "after the last retransmission")
		}, "SHLD-11", "MUST-20")
})

// R2 set per connection (MUST-21) in time, with TCP_USER_TIMEOUT, to 1.5 s:
// the segment is retransmitted meanwhile, the connection keeps its state
// until R2, and is then closed with ETIMEDOUT (MUST-20).
var _ = eachState(retransmitting, func(st state.State) {
	const r2 = 1500 * time.Millisecond
	spec("T105", st, "R2 set to 1.5 s: retransmissions until then, then CLOSED, ETIMEDOUT", withState,
		func(t *injector.T) {
			r, t0, m := outstanding(t, st, func(fd int) {
				setKnob(t, fd, syscall.IPPROTO_TCP, tcpUserTimeout, int(r2/time.Millisecond), "TCP_USER_TIMEOUT")
			})
			margin := 2 * t.Peer().Tolerance
			expectWithin(t, r.TConn, r2-margin, m)
			sleepUntil(t, t0+r2-margin)
			t.Expect(r.State()).To(BeInState(st), "before R2")
			timedOutBy(t, r, t0, r2, "R2")
		}, "MUST-20", "MUST-21")
})

// T106, TIME-WAIT TIMEOUT (RFC 9293 section 3.10.8): TIME-WAIT holds for
// 2 MSL, sending nothing, and then the TCB is deleted: CLOSED. The duration
// is the reference's for the target (its profile documents where it departs
// from 2 MSL), not what the target says of itself.
var _ = spec("T106", state.TimeWait, "TIME-WAIT lasts its full duration, then CLOSED", virtualTime,
	func(t *injector.T) {
		r := reach(t, state.TimeWait)
		tol := t.Peer().Tolerance
		r.ExpectNothing(t.Profile().TimeWait - tol)
		t.Expect(r.State()).To(BeInState(state.TimeWait))
		t.Sleep(2 * tol)
		t.Expect(r.State()).To(BeInState(state.Closed))
	})

// T099 with T106 (RFC 9293 section 3.10.7.4, eighth check, TIME-WAIT): a
// retransmission of the peer's FIN is acknowledged and restarts the 2 MSL
// timeout, so TIME-WAIT lasts its full duration from the retransmission,
// not from the first FIN.
var _ = spec("T099", state.TimeWait, "retransmitted FIN restarts the TIME-WAIT timeout", virtualTime,
	func(t *injector.T) {
		r := reach(t, state.FinWait2)
		fin := r.SndNxt
		arriveAcked(t, r, state.TimeWait, wire.FIN|wire.ACK)
		tw, tol := t.Profile().TimeWait, t.Peer().Tolerance
		t.Sleep(tw / 2)
		r.Send(wire.FIN|wire.ACK, injector.WithSeq(fin))
		r.expectPast(t, challengeACK(r.TConn))
		r.ExpectNothing(tw - tol)
		t.Expect(r.State()).To(BeInState(state.TimeWait),
			"RFC 9293 section 3.10.7.4: the retransmitted FIN restarts the 2 MSL timeout, so TIME-WAIT lasts %v from it", tw)
		t.Sleep(2 * tol)
		t.Expect(r.State()).To(BeInState(state.Closed))
	})

// zeroWindowProbe is a probe of the peer's zero window (RFC 9293 section
// 3.8.6.1): one octet of new data, or a retransmission, which here (all
// data being acknowledged) can only be of sequence space before SND.UNA:
// the usual one is <SEQ=SND.UNA-1>, empty or with one garbage octet, as a
// keep-alive. Either way the peer must acknowledge it.
func zeroWindowProbe() anySegment {
	return anySegment{
		BeSegment(FlagsInclude(wire.ACK), Seq(1), PayloadLen(1)),
		BeSegment(Flags(wire.ACK), Seq(0), PayloadLen(0)),
		BeSegment(Flags(wire.ACK), Seq(0), PayloadLen(1)),
	}
}

// zeroWindow brings a connection to st with the peer's window closed, then
// has the application write data; it returns the connection, the data and
// when it was written.
func zeroWindow(t *injector.T, st state.State) (reached, []byte, time.Duration) {
	r := reach(t, st)
	r.Window = 0
	r.Send(wire.ACK)
	data := []byte("waiting for the window")
	t0 := t.Peer().Elapsed()
	t.Write(r.fd, data)
	return r, data, t0
}

// answerProbe acknowledges a probe without taking its octet, the window
// still closed.
func answerProbe(r reached) {
	r.RcvNxt = r.TargetISS.Add(1)
	r.Send(wire.ACK)
}

// T107, PERSIST TIMEOUT (RFC 9293 section 3.8.6.1): with data queued and the
// peer's window zero, the target must probe the window (MUST-36), first
// after one RTO (SHLD-29) — at most 1 s here, the RTO RFC 6298 section 2.4
// gives a connection with a negligible round-trip time — then at
// exponentially growing intervals (SHLD-30), checked here as the doubling of
// a backed-off timer. When the window opens, the data is sent; the state
// does not change.
var _ = eachState([]state.State{state.Established, state.CloseWait}, func(st state.State) {
	spec("T107", st, "zero window: probes after one RTO, then at doubling intervals; data once it opens", withState,
		func(t *injector.T) {
			r, data, t0 := zeroWindow(t, st)
			at := []time.Duration{t0}
			for i := range 3 {
				limit := 2 * time.Minute
				if i == 0 {
					limit = time.Second + t.Peer().Tolerance
				}
				at = append(at, expectWithin(t, r.TConn, limit, zeroWindowProbe()).At)
				answerProbe(r)
			}
			backoff(t, "zero-window probes", at, 0)
			t.Expect(r.State()).To(BeInState(st))
			r.Window = injector.DefaultWindow
			r.Send(wire.ACK)
			r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Payload(data)))
		}, "MUST-35", "MUST-36", "SHLD-29", "SHLD-30")
})

// ... and while the peer keeps acknowledging the probes, the connection stays
// open however long the window stays closed (MUST-37): here 20 minutes,
// beyond the usual R2.
var _ = eachState([]state.State{state.Established, state.CloseWait}, func(st state.State) {
	spec("T107", st, "zero window held 20 min with every probe acknowledged: the connection stays", virtualTime,
		func(t *injector.T) {
			r, data, t0 := zeroWindow(t, st)
			for t.Peer().Elapsed() < t0+20*time.Minute {
				expectWithin(t, r.TConn, time.Hour, zeroWindowProbe())
				answerProbe(r)
			}
			t.Expect(r.State()).To(BeInState(st))
			t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(0))
			r.Window = injector.DefaultWindow
			r.Send(wire.ACK)
			r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Payload(data)))
		}, "MUST-36", "MUST-37")
})

// keepAliveProbe is <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK> with no data or
// one garbage octet (RFC 9293 section 3.8.4), as the peer sees it.
func keepAliveProbe(r reached) anySegment {
	return anySegment{
		BeSegment(Flags(wire.ACK), SeqNum(r.RcvNxt.Sub(1)), AckNum(r.SndNxt), PayloadLen(0)),
		BeSegment(Flags(wire.ACK), SeqNum(r.RcvNxt.Sub(1)), AckNum(r.SndNxt), PayloadLen(1)),
	}
}

// setKeepAlive sets the keep-alive idle time, interval and count on fd.
func setKeepAlive(t *injector.T, fd, idle, intvl, cnt int) {
	t.Expect(t.Sockets().SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1)).To(gm.Succeed(), "SO_KEEPALIVE (MUST-24)")
	setKnob(t, fd, syscall.IPPROTO_TCP, tcpKeepIdle, idle, "TCP_KEEPIDLE")
	setKnob(t, fd, syscall.IPPROTO_TCP, tcpKeepIntvl, intvl, "TCP_KEEPINTVL")
	setKnob(t, fd, syscall.IPPROTO_TCP, tcpKeepCnt, cnt, "TCP_KEEPCNT")
}

// T108, KEEP-ALIVE TIMEOUT (RFC 9293 section 3.8.4). Keep-alives are off
// unless the application asks for them (MUST-25): an idle connection sends
// nothing, well beyond the 2 h a default interval would be.
var _ = eachState([]state.State{state.Established, state.CloseWait}, func(st state.State) {
	spec("T108", st, "keep-alives are off by default: nothing in 3 h of idleness", virtualTime,
		func(t *injector.T) {
			r := reach(t, st)
			t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)).To(gm.Equal(0))
			r.ExpectNothing(3 * time.Hour)
			t.Expect(r.State()).To(BeInState(st))
		}, "MUST-25")
})

// Enabled without a chosen interval, keep-alives wait at least 2 h of
// idleness (MUST-28), then send <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK>; one
// unanswered probe does not kill the connection (MUST-29): another follows,
// and once that is answered the connection carries data as before.
var _ = eachState([]state.State{state.Established, state.CloseWait}, func(st state.State) {
	spec("T108", st, "default keep-alive: nothing for 2 h; a probe left unanswered is retried; connection survives", virtualTime,
		func(t *injector.T) {
			r := reach(t, st)
			t.Expect(t.Sockets().SetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1)).To(gm.Succeed(), "SO_KEEPALIVE (MUST-24)")
			r.ExpectNothing(2*time.Hour - t.Peer().Tolerance)
			expectWithin(t, r.TConn, 24*time.Hour, keepAliveProbe(r))
			t.Expect(r.State()).To(BeInState(st), "after one unanswered probe (MUST-29)")
			expectWithin(t, r.TConn, 24*time.Hour, keepAliveProbe(r))
			r.Send(wire.ACK)
			t.Expect(r.State()).To(BeInState(st))
			if st == state.Established {
				data := []byte("still there")
				r.Send(wire.PSH|wire.ACK, injector.WithPayload(data))
				expectWithin(t, r.TConn, 500*time.Millisecond, BeSegment(FlagsInclude(wire.ACK), AckNum(r.SndNxt)))
				t.Expect(t.Read(r.fd, 100)).To(gm.Equal(data))
			}
		}, "MUST-24", "MUST-28", "MUST-29")
})

// The interval is configurable (MUST-27): set to 1 s, the first probe
// follows 1 s of idleness. Idleness counts from the last segment received,
// data or acknowledgment (MUST-26): an ACK from the peer half-way puts the
// probe off to 1 s after it. An answered probe leaves the connection as it
// was.
var _ = eachState([]state.State{state.Established, state.CloseWait}, func(st state.State) {
	spec("T108", st, "keep-alive idle time 1 s: probe 1 s after the last segment received; answered, the connection stays", withState,
		func(t *injector.T) {
			r := reach(t, st)
			setKeepAlive(t, r.fd, 1, 1, 3)
			r.ExpectNothing(500 * time.Millisecond)
			r.Send(wire.ACK)
			last := t.Peer().Elapsed()
			expectAt(t, r.TConn, last+time.Second, keepAliveProbe(r))
			r.Send(wire.ACK)
			t.Expect(r.State()).To(BeInState(st))
		}, "MUST-24", "MUST-26", "MUST-27")
})

// Unanswered, probes are sent the chosen number of times at the chosen
// interval (here 3, every 1 s, after 1 s of idleness), and then the
// connection is aborted: CLOSED, the user told ETIMEDOUT.
var _ = eachState([]state.State{state.Established, state.CloseWait}, func(st state.State) {
	spec("T108", st, "keep-alive 1 s idle, 1 s interval, 3 probes, all unanswered: CLOSED, ETIMEDOUT", virtualTime,
		func(t *injector.T) {
			r := reach(t, st)
			last := t.Peer().Elapsed()
			setKeepAlive(t, r.fd, 1, 1, 3)
			for range 3 {
				last = expectAt(t, r.TConn, last+time.Second, keepAliveProbe(r)).At
			}
			t.Expect(r.State()).To(BeInState(st), "after 3 unanswered probes, before the interval ends")
			sleepUntil(t, last+time.Second+t.Peer().Tolerance)
			timedOut(t, r, "after the third probe went unanswered for the interval")
		}, "MUST-27", "MUST-29")
})

// T109, DELAYED-ACK TIMEOUT (RFC 9293 section 3.8.6.3): received data may
// have its acknowledgment delayed, but by less than 0.5 s (MUST-40), and
// then <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> is sent. The state does not
// change. In FIN-WAIT-1 the peer's data does not acknowledge the target's
// FIN.
var _ = eachState([]state.State{state.Established, state.FinWait1, state.FinWait2}, func(st state.State) {
	spec("T109", st, "received data is acknowledged within 0.5 s", withState,
		func(t *injector.T) {
			r := reach(t, st)
			opts := []injector.SendOption{injector.WithPayload([]byte("delay my ACK"))}
			if st == state.FinWait1 {
				opts = append(opts, injector.WithAck(r.RcvNxt.Sub(1)))
			}
			r.Send(wire.PSH|wire.ACK, opts...)
			expectWithin(t, r.TConn, 500*time.Millisecond, BeSegment(Flags(wire.ACK), SeqNum(r.RcvNxt), AckNum(r.SndNxt), PayloadLen(0)))
			t.Expect(r.State()).To(BeInState(st))
		}, "MUST-40")
})

// T110, FIN-WAIT-2 TIMEOUT (not in RFC 9293; implementation practice): once
// the application has closed the socket entirely, a connection left in
// FIN-WAIT-2 by a silent peer is deleted after a timeout, here set to 1 s
// with TCP_LINGER2. It stays FIN-WAIT-2 until then, sending nothing, and is
// CLOSED after: a FIN arriving later finds no connection and draws a reset
// (RFC 9293 section 3.10.7.1).
var _ = spec("T110", state.FinWait2, "orphaned FIN-WAIT-2 with a 1 s timeout: CLOSED after 1 s, a later FIN draws RST", withState,
	func(t *injector.T) {
		r := reach(t, state.Established)
		setKnob(t, r.fd, syscall.IPPROTO_TCP, tcpLinger2, 1, "TCP_LINGER2")
		t.Close(r.fd)
		r.Expect(BeSegment(Flags(wire.FIN|wire.ACK), Seq(1), Ack(1)))
		r.Send(wire.ACK)
		t0 := t.Peer().Elapsed()
		t.Expect(r.State()).To(BeInState(state.FinWait2))
		margin := 2 * t.Peer().Tolerance
		r.ExpectNothing(t0 + time.Second - margin - t.Peer().Elapsed())
		t.Expect(r.State()).To(BeInState(state.FinWait2), "before the timeout")
		sleepUntil(t, t0+time.Second+margin)
		t.Expect(r.State()).To(BeInState(state.Closed))
		r.Send(wire.FIN | wire.ACK)
		r.Expect(BeSegment(Flags(wire.RST), SeqNum(r.RcvNxt), PayloadLen(0)))
	})
