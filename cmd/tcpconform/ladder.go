package main

// The ladder of a case: what both reports (the HTML page and the terminal
// trace) draw. It is built once from an injector.Result: the packets in
// order with short tcpdump-like labels, the peer's state as inferred from
// what it sent and received, the target's states where the case read them,
// and the failure at the end.

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"
)

// ladder is one case's exchange, ready to draw.
type ladder struct {
	// peerAddr and targetAddr are the two ends, when a packet showed them.
	peerAddr, targetAddr string
	// peerStart is the peer's state before the first packet.
	peerStart string
	rows      []rung
	end       ending
}

// rung is one row of the ladder: a packet (an arrow) or a state the case
// read from the target.
type rung struct {
	at time.Duration // since the case's start
	// A packet: which way it went, its label, and the peer's state when the
	// packet changed it.
	packet    bool
	inbound   bool // from the peer to the target
	label     string
	odd       bool // ICMP, undecodable, or a bad checksum
	mismatch  bool // the segment the failure names as the actual one
	peerState string
	// A state read from the target.
	targetState string
}

// ending is how the case ended: the verdict, when, the headline of the
// message and its indented detail lines (expected, actual, fields, ...).
type ending struct {
	outcome injector.Outcome
	at      time.Duration
	known   bool // at is known (the case got an instance)
	why     string
	details []string
}

// failed reports whether the case ended in anything but a pass or a skip.
func (e ending) failed() bool {
	return e.outcome != injector.Passed && e.outcome != injector.Skipped
}

// buildLadder lays out r's packets and states as rows.
func buildLadder(r injector.Result) ladder {
	pkts := decodePackets(r)
	l := ladder{peerStart: state.Closed.String()}
	for _, p := range pkts {
		if p.tcp {
			l.peerAddr, l.targetAddr = peerAndTarget(p)
			break
		}
	}
	multi := len(connKeys(pkts)) > 1
	labelPackets(pkts, multi)
	inferPeerStates(pkts, multi)
	markMismatch(pkts, r.Message)
	at := func(t time.Time) time.Duration { return since(r, t) }
	placed := placeSamples(pkts, r.States, at)
	for i := 0; i <= len(pkts); i++ {
		l.rows = append(l.rows, stateRows(placed[i], multi, at)...)
		if i < len(pkts) {
			l.rows = append(l.rows, pkts[i].rung)
		}
	}
	l.end = endingOf(r)
	return l
}

// since converts an instance time to time since the case's start; a case
// that never started counts from its first packet.
func since(r injector.Result, at time.Time) time.Duration {
	start := r.Start
	if start.IsZero() && len(r.Packets) > 0 {
		start = r.Packets[0].At
	}
	return at.Sub(start)
}

// connKey names a connection by the peer's port and the target's.
type connKey struct{ peer, target uint16 }

// packet is one recorded datagram, decoded.
type packet struct {
	rung
	seg wire.Segment
	tcp bool // seg holds a decoded TCP segment
	key connKey
}

// decodePackets decodes r's packets; ICMP and undecodable datagrams keep a
// label that says what they are.
func decodePackets(r injector.Result) []packet {
	out := make([]packet, len(r.Packets))
	for i, p := range r.Packets {
		out[i] = decodePacket(p, since(r, p.At))
	}
	return out
}

func decodePacket(p injector.Packet, at time.Duration) packet {
	d := packet{rung: rung{at: at, packet: true, inbound: p.Inbound}}
	s, err := wire.Decode(p.Data)
	var bad *wire.ChecksumError
	if err != nil && !errors.As(err, &bad) {
		d.odd = true
		if icmp, ok := icmpSummary(p.Data); ok {
			d.label = icmp
		} else {
			d.label = "undecodable: " + err.Error()
		}
		return d
	}
	d.seg, d.tcp, d.odd = s, true, bad != nil
	d.key = connKey{peer: s.SrcPort, target: s.DstPort}
	if !p.Inbound {
		d.key = connKey{peer: s.DstPort, target: s.SrcPort}
	}
	return d
}

// peerAndTarget returns the peer's and the target's addresses from p.
func peerAndTarget(p packet) (string, string) {
	src, dst := p.seg.IP.Src.String(), p.seg.IP.Dst.String()
	if p.inbound {
		return src, dst
	}
	return dst, src
}

// connKeys lists the connections the packets belong to, in order of their
// first packet.
func connKeys(pkts []packet) []connKey {
	var keys []connKey
	seen := map[connKey]bool{}
	for _, p := range pkts {
		if p.tcp && !seen[p.key] {
			seen[p.key] = true
			keys = append(keys, p.key)
		}
	}
	return keys
}

// icmpSummary names an ICMP or ICMPv6 datagram by its type and code.
func icmpSummary(b []byte) (string, bool) {
	if len(b) == 0 {
		return "", false
	}
	switch b[0] >> 4 {
	case 4:
		ihl := int(b[0]&0xf) * 4
		if ihl < 20 || len(b) < ihl+2 || b[9] != 1 {
			return "", false
		}
		return icmpLabel("ICMP", icmpv4Names, b[ihl], b[ihl+1]), true
	case 6:
		if len(b) < 42 || b[6] != 58 {
			return "", false
		}
		return icmpLabel("ICMPv6", icmpv6Names, b[40], b[41]), true
	}
	return "", false
}

var (
	icmpv4Names = map[byte]string{3: "unreachable", 4: "source quench", 11: "time exceeded", 12: "parameter problem"}
	icmpv6Names = map[byte]string{1: "unreachable", 2: "packet too big", 3: "time exceeded", 4: "parameter problem"}
)

func icmpLabel(proto string, names map[byte]string, typ, code byte) string {
	name := names[typ]
	if name == "" {
		name = "message"
	}
	return fmt.Sprintf("%s %s (type %d code %d)", proto, name, typ, code)
}

// labelPackets writes each segment's short form, with sequence numbers
// relative to the first one each side of each connection sent, as tcpdump
// prints them without -S; with several connections the label starts with
// the peer's port.
func labelPackets(pkts []packet, multi bool) {
	type isns struct{ peer, target *seq.Value }
	bases := map[connKey]*isns{}
	for i := range pkts {
		p := &pkts[i]
		if !p.tcp {
			continue
		}
		b := bases[p.key]
		if b == nil {
			b = &isns{}
			bases[p.key] = b
		}
		own, other := &b.target, &b.peer
		if p.inbound {
			own, other = other, own
		}
		if *own == nil {
			v := p.seg.Seq
			*own = &v
		}
		p.label = shortSegment(p.seg, *own, *other)
		if multi {
			p.label = fmt.Sprintf(":%d %s", p.key.peer, p.label)
		}
		if p.odd {
			p.label += " [bad checksum]"
		}
	}
}

// shortSegment prints s the way tcpdump's classic format does:
// "S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 7>". own and other are the
// bases of the sender's and the receiver's numbers; nil prints them as they
// are.
func shortSegment(s wire.Segment, own, other *seq.Value) string {
	var b strings.Builder
	first := relative(s.Seq, own)
	fmt.Fprintf(&b, "%v %d:%d(%d)", s.Flags, first, first+uint32(len(s.Payload)), len(s.Payload))
	if s.Flags&wire.ACK != 0 {
		fmt.Fprintf(&b, " ack %d", relative(s.Ack, other))
	}
	fmt.Fprintf(&b, " win %d", s.Window)
	if s.Flags&wire.URG != 0 || s.Urgent != 0 {
		fmt.Fprintf(&b, " urg %d", s.Urgent)
	}
	if len(s.Options) > 0 {
		fmt.Fprintf(&b, " <%s>", strings.Trim(wire.OptionsString(s.Options), "[]"))
	}
	if ecn := s.IP.ECN(); ecn != 0 {
		b.WriteString(" " + [...]string{"", "ECT(1)", "ECT(0)", "CE"}[ecn])
	}
	return b.String()
}

func relative(v seq.Value, base *seq.Value) uint32 {
	if base == nil {
		return uint32(v)
	}
	return uint32(v - *base)
}

// side is what the inference knows of one end of a connection: its state
// and the sequence numbers that decide which segments move it.
type side struct {
	state          state.State
	sndNxt, rcvNxt seq.Value
	hasSnd, hasRcv bool
	finEnd         seq.Value // just past the FIN it sent
	finSent        bool
	// passed lists the states the side went through since it was last
	// cleared: one segment can move it twice (SYN,ACK,FIN).
	passed []state.State
}

func (e *side) set(s state.State) {
	e.state = s
	e.passed = append(e.passed, s)
}

func newSide() *side { return &side{state: state.Closed} }

// send moves the side through a segment it sent: SYN opens, FIN closes, a
// RST at SND.NXT (or before synchronizing) aborts. Segments that only probe
// the other end (a RST elsewhere in the window) leave it as it is.
func (e *side) send(s wire.Segment) {
	f := s.Flags
	if f&wire.RST != 0 {
		if !e.state.Synchronized() || (e.hasSnd && s.Seq == e.sndNxt) {
			e.set(state.Closed)
		}
		return
	}
	switch {
	case f&(wire.SYN|wire.ACK) == wire.SYN && (e.state == state.Closed || e.state == state.Listen):
		e.set(state.SynSent)
	case f&(wire.SYN|wire.ACK) == wire.SYN|wire.ACK && !e.state.Synchronized():
		e.set(state.SynReceived)
	}
	if f&wire.FIN != 0 {
		e.finEnd, e.finSent = s.Seq.Add(s.Len()), true
		e.moveOn(map[state.State]state.State{
			state.SynReceived: state.FinWait1, state.Established: state.FinWait1, state.CloseWait: state.LastAck,
		})
	}
	if end := s.Seq.Add(s.Len()); !e.hasSnd || end.GreaterThan(e.sndNxt) {
		e.sndNxt, e.hasSnd = end, true
	}
}

// receive moves the side through a segment it received, in RFC 9293's
// order: RST, SYN, ACK, then the text and FIN when they come in order.
func (e *side) receive(s wire.Segment) {
	f := s.Flags
	if f&wire.RST != 0 {
		if e.resetAcceptable(s) {
			e.set(state.Closed)
		}
		return
	}
	if f&wire.SYN != 0 && !e.state.Synchronized() {
		e.rcvNxt, e.hasRcv = s.Seq.Add(1), true
		switch {
		case f&wire.ACK == 0:
			e.set(state.SynReceived)
		case e.state == state.SynSent && e.hasSnd && s.Ack == e.sndNxt:
			e.set(state.Established)
		}
	}
	if f&wire.ACK != 0 {
		e.ackArrived(s.Ack)
	}
	if end := s.Seq.Add(s.Len()); e.hasRcv && s.Seq.LessThanEq(e.rcvNxt) && end.GreaterThan(e.rcvNxt) {
		e.rcvNxt = end
		if f&wire.FIN != 0 {
			e.moveOn(map[state.State]state.State{
				state.SynReceived: state.CloseWait, state.Established: state.CloseWait,
				state.FinWait1: state.Closing, state.FinWait2: state.TimeWait,
			})
		}
	}
}

// ackArrived completes the handshake or the side's close when ack covers
// its SYN or its FIN.
func (e *side) ackArrived(ack seq.Value) {
	if e.state == state.SynReceived && e.hasSnd && ack == e.sndNxt {
		e.set(state.Established)
	}
	if e.finSent && ack.GreaterThanEq(e.finEnd) {
		e.moveOn(map[state.State]state.State{
			state.FinWait1: state.FinWait2, state.Closing: state.TimeWait, state.LastAck: state.Closed,
		})
	}
}

// resetAcceptable is a simple form of RFC 9293 section 3.10.7.3's check
// (with RFC 5961's exact match): in SYN-SENT the RST must acknowledge the
// SYN, elsewhere its sequence number must be RCV.NXT.
func (e *side) resetAcceptable(s wire.Segment) bool {
	if e.state == state.SynSent {
		return s.Flags&wire.ACK != 0 && e.hasSnd && s.Ack == e.sndNxt
	}
	return e.hasRcv && s.Seq == e.rcvNxt
}

func (e *side) moveOn(next map[state.State]state.State) {
	if n, ok := next[e.state]; ok {
		e.set(n)
	}
}

// step moves the side through p, which it sent when sent is true.
func (e *side) step(p packet, sent bool) {
	e.passed = nil
	if sent {
		e.send(p.seg)
	} else {
		e.receive(p.seg)
	}
}

// inferPeerStates sets peerState on each packet that changes the peer's
// inferred state; with several connections, the state names its port.
func inferPeerStates(pkts []packet, multi bool) {
	sides := map[connKey]*side{}
	for i := range pkts {
		p := &pkts[i]
		if !p.tcp {
			continue
		}
		e := sides[p.key]
		if e == nil {
			e = newSide()
			sides[p.key] = e
		}
		before := e.state
		e.step(*p, p.inbound)
		if e.state != before {
			p.peerState = qualify(e.state.String(), p.key.peer, multi)
		}
	}
}

// qualify adds the peer's port to a state when the case has several
// connections.
func qualify(s string, port uint16, multi bool) string {
	if !multi {
		return s
	}
	return fmt.Sprintf("%s (:%d)", s, port)
}

// inferred is the target's state on a connection after some packets, and
// the states the last packet moved it through on the way.
type inferred struct {
	state  state.State
	passed []state.State
}

// has reports whether the target was in s there, if only briefly.
func (in inferred) has(s state.State) bool {
	return in.state == s || slices.Contains(in.passed, s)
}

// targetStates infers the target's state on connection k after each
// packet: element i is the state after the first i packets. overrides pins
// the state at some positions to what the target said there.
func targetStates(pkts []packet, k connKey, overrides map[int]state.State) []inferred {
	out := make([]inferred, len(pkts)+1)
	e := newSide()
	for i := 0; ; i++ {
		if s, ok := overrides[i]; ok {
			e.state = s
		}
		out[i] = inferred{state: e.state, passed: e.passed}
		if i == len(pkts) {
			return out
		}
		if pkts[i].tcp && pkts[i].key == k {
			e.step(pkts[i], !pkts[i].inbound)
		}
	}
}

// placeSamples decides after how many packets each state sample was read:
// element i of the result holds the samples read after the first i
// packets. The clock tells most of it, but on a virtual clock many packets
// and reads share one instant. Then a read of a connection goes where the
// packets would have put the target in the state it read, as late as the
// connection's own packets keep it there, or as early as it may when they
// would not (and the inference takes the state from there on).
func placeSamples(pkts []packet, samples []injector.StateSample, at func(time.Time) time.Duration) [][]injector.StateSample {
	placed := make([][]injector.StateSample, len(pkts)+1)
	overrides := map[connKey]map[int]state.State{}
	prev := 0
	for _, s := range samples {
		lo, hi := window(pkts, at(s.At))
		lo = max(lo, prev)
		hi = max(hi, lo)
		pos := lo
		if k, first, ok := sampleConn(pkts, s.Tuple); ok {
			if overrides[k] == nil {
				overrides[k] = map[int]state.State{}
			}
			pos = matchState(pkts, k, targetStates(pkts, k, overrides[k]), s.State, max(lo, min(first+1, hi)), hi)
			if pos < 0 {
				pos = lo
			}
			if s.State != state.Unknown {
				overrides[k][pos] = s.State
			}
		}
		placed[pos] = append(placed[pos], s)
		prev = pos
	}
	return placed
}

// window returns the positions a read at t may take: after every packet
// before t, and no later than after the last packet at t.
func window(pkts []packet, t time.Duration) (lo, hi int) {
	for _, p := range pkts {
		if p.at < t {
			lo++
		}
		if p.at <= t {
			hi++
		}
	}
	return lo, hi
}

// matchState returns the first position in [lo, hi] where connection k
// is inferred to be in s (or to have passed through it), moved on over the
// connection's packets that keep it there; or -1. A target that cannot
// tell (UNKNOWN) has no connection, as in CLOSED.
func matchState(pkts []packet, k connKey, states []inferred, s state.State, lo, hi int) int {
	if s == state.Unknown {
		s = state.Closed
	}
	for p := lo; p <= hi; p++ {
		if !states[p].has(s) {
			continue
		}
		for p < hi && pkts[p].key == k && states[p+1].state == s {
			p++
		}
		return p
	}
	return -1
}

// sampleConn finds the connection a state sample is about and the index of
// its first packet; a listener's tuple has no remote end and belongs to
// none.
func sampleConn(pkts []packet, t targets.Tuple) (connKey, int, bool) {
	k := connKey{peer: t.Remote.Port(), target: t.Local.Port()}
	for i, p := range pkts {
		if t.Remote.IsValid() && p.tcp && p.key == k {
			return k, i, true
		}
	}
	return k, 0, false
}

// stateRows turns the samples read at one place into rows, naming the
// listener or the connection where that helps.
func stateRows(samples []injector.StateSample, multi bool, at func(time.Time) time.Duration) []rung {
	var rows []rung
	for _, s := range samples {
		label := s.State.String()
		if !s.Tuple.Remote.IsValid() {
			label += fmt.Sprintf(" (listener :%d)", s.Tuple.Local.Port())
		} else {
			label = qualify(label, s.Tuple.Remote.Port(), multi)
		}
		if n := len(rows); n > 0 && rows[n-1].targetState == label {
			continue
		}
		rows = append(rows, rung{at: at(s.At), targetState: label})
	}
	return rows
}

// endingOf reads how r ended from its outcome and message.
func endingOf(r injector.Result) ending {
	e := ending{outcome: r.Outcome, known: !r.End.IsZero()}
	if e.known {
		e.at = since(r, r.End)
	}
	e.why, e.details = splitMessage(r.Message)
	return e
}

// splitMessage separates a message into its headline (the first line:
// where and why, or the known deviation and its reason) and the detail
// lines after it ("expected  ...", "actual    ...", "fields    ..." and
// their continuations) without their common indent, at most maxDetails of
// them.
func splitMessage(msg string) (string, []string) {
	lines := strings.Split(strings.TrimRight(msg, "\n"), "\n")
	details := lines[1:]
	if n := len(details); n > maxDetails {
		details = append(details[:maxDetails-1:maxDetails-1], fmt.Sprintf("... (%d more lines)", n-maxDetails+1))
	}
	for i, d := range details {
		details[i] = strings.TrimPrefix(d, "  ")
	}
	return lines[0], details
}

// maxDetails bounds the detail lines a ladder shows: a panic's stack runs
// long, and the message is shown in full with the case's verdict anyway.
const maxDetails = 40

// detailKind names the kind of a detail line ("expected", "actual",
// "fields", ...), or "" for a continuation.
func detailKind(d string) string {
	kind, _, _ := strings.Cut(d, " ")
	return kind
}

var actualAt = regexp.MustCompile(`^\s*actual\s+(.*) \(at ([+-][0-9.]+) s\)`)

// markMismatch flags the packet a failure message gives as the actual
// segment: the one the target sent at that time that prints the same.
func markMismatch(pkts []packet, msg string) {
	for _, l := range strings.Split(msg, "\n") {
		m := actualAt.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		secs, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		for i := range pkts {
			p := &pkts[i]
			d := p.at.Seconds() - secs
			if p.tcp && !p.inbound && d < 1e-6 && d > -1e-6 && strings.HasPrefix(m[1], p.seg.String()) {
				p.mismatch = true
				return
			}
		}
	}
}
