package suites

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// spec declares one spec of a transition-table row (T001–T110) exercised in
// state st, run over IPv4 and IPv6. Its labels come from the project's copy
// of the table: the row id, the RFC sections the row cites, the state and
// the row's variant; extra adds requirement labels ("MUST-3").
func spec(id string, st state.State, name string, needs injector.Needs, run func(t *injector.T), extra ...string) bool {
	row, ok := expectations.TransitionByID(id)
	if !ok {
		panic("suites: no transition " + id)
	}
	_, file, line, _ := runtime.Caller(1)
	loc := fmt.Sprintf("suites/%s:%d", filepath.Base(file), line)
	labels := append([]string{id}, row.Sections()...)
	labels = append(labels, "state:"+st.String(), "variant:"+row.Variant)
	labels = append(labels, extra...)
	// A row of a variant the target does not follow (RFC 793's reset
	// where it follows RFC 5961's challenge ACK, say) does not apply to it.
	body := func(t *injector.T) {
		if p := t.Profile(); !p.Follows(row.Variant) {
			t.Skipf("%s is a row of variant %s, which the %s profile does not follow (it follows %v)",
				id, row.Variant, p.Target, p.Variants)
		}
		run(t)
	}
	// The ID names the spec in profiles.
	caseID := uniqueID(id + "." + st.String())
	for _, f := range []injector.Family{injector.IPv4, injector.IPv6} {
		ls := append(append([]string(nil), labels...), fmt.Sprintf("ipv%d", int(f)))
		registered = append(registered, &injector.Case{
			Name: fmt.Sprintf("%s %s: %s", id, st, name), ID: caseID, Group: st.String(),
			Labels: ls, Family: f, Needs: needs, Run: body, Location: loc,
		})
	}
	return true
}

// specsOf counts the specs declared per ID.
var specsOf = map[string]int{}

// uniqueID is id for its first spec; a second spec of the same row and
// state (passive and simultaneous open, say), or of the same requirement,
// is told apart by its rank, in declaration order: "T076.SYN-RECEIVED#2".
func uniqueID(id string) string {
	specsOf[id]++
	if n := specsOf[id]; n > 1 {
		return fmt.Sprintf("%s#%d", id, n)
	}
	return id
}

// withState is what most transition specs need: the target must tell the
// connection's state.
var withState = injector.Needs{State: true}

// reached is a connection brought to a state: the peer's side, the target's
// socket (-1 when it has none, as for a child not yet accepted) and its
// listener (-1 when there is none).
type reached struct {
	*injector.TConn
	fd, lfd int
}

// reach brings a connection to st along the arcs of RFC 9293 Figure 5 and
// checks that it got there. Closing states are reached with shutdown(SHUT_WR)
// rather than close(), so the socket stays with the application and can
// still read (RFC 9293 section 3.10.4 leaves the receive side open).
func reach(t *injector.T, st state.State) reached {
	return reachVia(t, st, established, func(t *injector.T, r reached, seq, ack int64) {
		r.Expect(BeSegment(Flags(wire.ACK), Seq(seq), Ack(ack)))
	})
}

// reachVia is reach with the ESTABLISHED connection made by open, and the
// target's ACK of the peer's FIN, <SEQ=ISS+seq><ACK=IRS+ack>, expected by
// ackFIN.
func reachVia(t *injector.T, st state.State, open func(t *injector.T) reached, ackFIN func(t *injector.T, r reached, seq, ack int64)) reached {
	// closes has the user CLOSE r: <SEQ=ISS+1><ACK=IRS+ack><CTL=FIN,ACK>
	// goes out, and r is in st.
	closes := func(r reached, ack int64) reached {
		t.Shutdown(r.fd, syscall.SHUT_WR)
		r.Expect(BeSegment(Flags(wire.FIN|wire.ACK), Seq(1), Ack(ack)))
		t.Expect(r.State()).To(BeInState(st))
		return r
	}
	// finArrives has the peer's FIN (with opts) arrive on r, acknowledged
	// with <SEQ=ISS+seq><ACK=IRS+2>, and r is in st.
	finArrives := func(r reached, seq int64, opts ...injector.SendOption) reached {
		r.Send(wire.FIN|wire.ACK, opts...)
		ackFIN(t, r, seq, 2)
		t.Expect(r.State()).To(BeInState(st))
		return r
	}
	switch st {
	case state.Listen:
		lfd := t.Listen(servicePort)
		return reached{TConn: t.Dial(servicePort), fd: -1, lfd: lfd}
	case state.SynSent:
		r, _ := activeOpen(t, nil, BeSegment(Flags(wire.SYN), Seq(0)))
		return r
	case state.SynReceived:
		r, _ := halfOpen(t, nil, BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1)))
		return r
	case state.Established:
		return open(t)
	case state.FinWait1:
		return closes(reachVia(t, state.Established, open, ackFIN), 1)
	case state.FinWait2:
		r := reachVia(t, state.FinWait1, open, ackFIN)
		r.Send(wire.ACK)
		t.Expect(r.State()).To(BeInState(state.FinWait2))
		return r
	case state.CloseWait:
		return finArrives(reachVia(t, state.Established, open, ackFIN), 1)
	case state.LastAck:
		return closes(reachVia(t, state.CloseWait, open, ackFIN), 2)
	case state.Closing:
		// Simultaneous close (RFC 9293 section 3.6, Figure 13): the
		// peer's FIN does not yet acknowledge ours.
		r := reachVia(t, state.FinWait1, open, ackFIN)
		return finArrives(r, 2, injector.WithAck(r.RcvNxt.Sub(1)))
	case state.TimeWait:
		return finArrives(reachVia(t, state.FinWait2, open, ackFIN), 2)
	}
	panic("suites: cannot reach " + st.String())
}

// established is reach's ESTABLISHED: a passive open (acceptConn), accepted.
func established(t *injector.T) reached {
	c, fd := acceptConn(t)
	t.Expect(c.State()).To(BeInState(state.Established))
	return reached{TConn: c, fd: fd, lfd: -1}
}

// startConnect makes fd non-blocking and starts connect() on it towards a
// new connection of the peer's, which it returns; the SYN is the caller's
// to expect.
func startConnect(t *injector.T, fd int) *injector.TConn {
	t.Expect(t.Sockets().SetNonblock(fd, true)).To(gm.Succeed())
	c := t.Await()
	t.Expect(t.Sockets().Connect(t.Context(), fd, c.PeerAddrPort())).To(gm.MatchError(syscall.EINPROGRESS))
	return c
}

// activeOpen starts an active open on a fresh socket, set up by setup (when
// not nil) first: the target's SYN must match syn, and the connection is in
// SYN-SENT. It returns the connection and the SYN.
func activeOpen(t *injector.T, setup func(fd int), syn *SegmentMatcher) (reached, Observed) {
	fd := t.Socket()
	if setup != nil {
		setup(fd)
	}
	c := startConnect(t, fd)
	o := c.Expect(syn)
	t.Expect(c.State()).To(BeInState(state.SynSent))
	return reached{TConn: c, fd: fd, lfd: -1}, o
}

// halfOpen listens, the listener set up by setup (when not nil), and sends
// the peer's SYN: the target's SYN,ACK must match synack, and the passive
// child is in SYN-RECEIVED. It returns the child and the SYN,ACK.
func halfOpen(t *injector.T, setup func(lfd int), synack *SegmentMatcher) (reached, Observed) {
	lfd := t.Listen(servicePort)
	if setup != nil {
		setup(lfd)
	}
	c := t.Dial(servicePort)
	c.Send(wire.SYN)
	o := c.Expect(synack)
	t.Expect(c.State()).To(BeInState(state.SynReceived))
	return reached{TConn: c, fd: -1, lfd: lfd}, o
}

// simultaneousOpen reaches SYN-RECEIVED by simultaneous open (RFC 9293
// section 3.5, Figure 7): the target's connect() sent its SYN, the peer's
// SYN without ACK crosses it, and the target answers with a SYN,ACK that
// must match synack. Unlike a passive child, the connection has a socket the
// user can call on (r.fd). The peer's side has not acknowledged the target's
// SYN yet: SND.UNA=ISS, SND.NXT=ISS+1, RCV.NXT=IRS+1.
func simultaneousOpen(t *injector.T, synack *SegmentMatcher) reached {
	r := reach(t, state.SynSent)
	r.Send(wire.SYN)
	r.Expect(synack)
	t.Expect(r.State()).To(BeInState(state.SynReceived))
	return r
}

// passiveOpen opens a connection to the listener lfd from a new port of the
// peer's, which advertises window, and accepts it. The peer's SYN is sent
// with syn (WithOptions, say). It returns the connection, the accepted socket
// and the target's SYN,ACK.
func passiveOpen(t *injector.T, lfd int, window uint16, syn ...injector.SendOption) (*injector.TConn, int, Observed) {
	c := t.Dial(servicePort)
	c.Window = window
	c.Send(wire.SYN, syn...)
	synack := c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1)))
	c.Send(wire.ACK)
	return c, t.Accept(lfd), synack
}

// synchronized are the states after the handshake (RFC 9293 section 3.10.7.4
// treats them alike for most checks).
var synchronized = []state.State{
	state.Established, state.FinWait1, state.FinWait2, state.CloseWait,
	state.Closing, state.LastAck, state.TimeWait,
}

// challengeACK is <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> as the peer sees it:
// the target's next sequence number is what the peer expects next, and the
// target expects what the peer would send next.
func challengeACK(c *injector.TConn) *SegmentMatcher {
	return BeSegment(Flags(wire.ACK), SeqNum(c.RcvNxt), AckNum(c.SndNxt), PayloadLen(0))
}

// check declares a spec of RFC 9293 requirement labels ("MUST-3") that no
// single row of the transition table describes, run over IPv4 and IPv6. Its
// ID is the first label; section is the RFC 9293 section that states the
// requirement, and the spec's group.
func check(reqs []string, section, name string, needs injector.Needs, run func(t *injector.T), extra ...string) bool {
	_, file, line, _ := runtime.Caller(1)
	return declareCheck(fmt.Sprintf("suites/%s:%d", filepath.Base(file), line), reqs[0], reqs, section, name, needs, run, extra)
}

// checkAs is check with an ID of its own, reqs[0] then "." and aspect
// ("MUST-19.initial-window"), for a requirement that several specs in
// several files check: each keeps its ID whichever of the others are
// declared, and before it or after.
func checkAs(aspect string, reqs []string, section, name string, needs injector.Needs, run func(t *injector.T), extra ...string) bool {
	_, file, line, _ := runtime.Caller(1)
	return declareCheck(fmt.Sprintf("suites/%s:%d", filepath.Base(file), line), reqs[0]+"."+aspect, reqs, section, name, needs, run, extra)
}

func declareCheck(loc, id string, reqs []string, section, name string, needs injector.Needs, run func(t *injector.T), extra []string) bool {
	labels := append(append([]string(nil), reqs...), "rfc9293:"+section)
	labels = append(labels, extra...)
	caseID := uniqueID(id)
	for _, f := range []injector.Family{injector.IPv4, injector.IPv6} {
		ls := append(append([]string(nil), labels...), fmt.Sprintf("ipv%d", int(f)))
		registered = append(registered, &injector.Case{
			Name: fmt.Sprintf("%s: %s", strings.Join(reqs, " "), name), ID: caseID, Group: "RFC 9293 section " + section,
			Labels: ls, Family: f, Needs: needs, Run: run, Location: loc,
		})
	}
	return true
}

// quiet checks that the target sends nothing on r for d, except
// retransmissions of its own unacknowledged SYN,ACK or FIN: their timers run
// whatever the peer sends (on Linux a tail loss probe can resend the FIN
// 10 ms after it left, RFC 8985 section 7).
func (r reached) quiet(t *injector.T, d time.Duration) {
	t.Sleep(d)
	r.skipRetransmissions(t)
	r.ExpectNothing(0)
}

// skipRetransmissions consumes the retransmissions of the target's SYN,ACK
// or FIN waiting at the head of r's capture.
func (r reached) skipRetransmissions(t *injector.T) {
	for {
		var m *SegmentMatcher
		for _, a := range t.Peer().Pending() {
			if !sentOn(t, a, r.TConn) {
				continue
			}
			s := a.Segment
			switch {
			case s.Flags == wire.SYN|wire.ACK && s.Seq == r.TargetISS && len(s.Payload) == 0:
				m = BeSegment(Flags(wire.SYN|wire.ACK), SeqNum(r.TargetISS), PayloadLen(0))
			case s.Flags == wire.FIN|wire.ACK && s.Seq == r.RcvNxt.Sub(1) && len(s.Payload) == 0:
				m = BeSegment(Flags(wire.FIN|wire.ACK), SeqNum(r.RcvNxt.Sub(1)), PayloadLen(0))
			}
			break
		}
		if m == nil {
			return
		}
		r.Expect(m)
	}
}

// expectPast expects m on r, letting retransmissions of the target's own
// SYN,ACK, FIN or data come first (their timers may fire at any moment, on
// a real clock above all); a failure shows m against what arrived.
func (r reached) expectPast(t *injector.T, m *SegmentMatcher) {
	for {
		o := r.Expect(retransmissionOr{want: m, r: r})
		if len(m.Mismatches(o)) == 0 {
			return
		}
	}
}

// retransmissionOr matches what want matches, or a retransmission of the
// target's SYN,ACK, FIN or data on r; it fails with want's own message.
type retransmissionOr struct {
	want *SegmentMatcher
	r    reached
}

func (m retransmissionOr) Match(actual any) (bool, error) {
	if ok, err := m.want.Match(actual); ok || err != nil {
		return ok, err
	}
	o, ok := actual.(Observed)
	if !ok {
		return false, nil
	}
	s := o.Segment
	synAck := s.Flags == wire.SYN|wire.ACK && s.Seq == m.r.TargetISS
	fin := s.Flags == wire.FIN|wire.ACK && s.Seq == m.r.RcvNxt.Sub(1)
	if (synAck || fin) && len(s.Payload) == 0 {
		return true, nil
	}
	// Data the target sent before, again: its retransmission timer runs
	// whatever the peer sends (RFC 6298 section 5), and on a slow real
	// clock it may fire before the peer's segment arrives.
	data := s.Flags&(wire.SYN|wire.RST) == 0 && len(s.Payload) > 0 &&
		s.Seq.GreaterThan(m.r.TargetISS) && s.Seq.Add(s.Len()).LessThanEq(m.r.RcvNxt)
	return data, nil
}

// String describes what is expected as want does: a retransmission is let
// pass, never asked for.
func (m retransmissionOr) String() string { return m.want.String() }

func (m retransmissionOr) FailureMessage(actual any) string { return m.want.FailureMessage(actual) }
func (m retransmissionOr) NegatedFailureMessage(actual any) string {
	return m.want.NegatedFailureMessage(actual)
}
