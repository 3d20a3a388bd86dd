package injector

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"
)

// tsMap relates the target's timestamp values as the script names them to
// the live ones, so that an inbound TS ecr can echo what the target sent.
// Only outbound lines that write a TS option teach it a pair (packetdrill's
// rule); "<...>" lines do not.
type tsMap struct {
	byScript map[uint32]uint32
	// scaled (--tcp_ts_ecr_scaled): a TS ecr the script never named as a
	// TS val counts from the first pair, packetdrill's rule.
	scaled                 bool
	firstScript, firstLive uint32
}

// learn records that the script's TS val names the live one.
func (m *tsMap) learn(scriptVal, live uint32) {
	if m.byScript == nil {
		m.byScript = map[uint32]uint32{}
		m.firstScript, m.firstLive = scriptVal, live
	}
	m.byScript[scriptVal] = live
}

// toLive turns a script TS ecr into the live value to send: the live TSval
// the script named so, or, from the nearest smaller value the script named
// (the first one with scaled), the same distance on. Zero stays zero.
func (m *tsMap) toLive(scriptEcr uint32) (uint32, bool) {
	if scriptEcr == 0 {
		return 0, true
	}
	if v, ok := m.byScript[scriptEcr]; ok {
		return v, true
	}
	if m.scaled && m.byScript != nil {
		return m.firstLive + (scriptEcr - m.firstScript), true
	}
	best, found := uint32(0), false
	for k := range m.byScript {
		if k <= scriptEcr && (!found || k > best) {
			best, found = k, true
		}
	}
	if !found {
		return 0, false
	}
	return m.byScript[best] + (scriptEcr - best), true
}

// flowLabels relates the IPv6 flow labels a script writes on outbound
// packets to the live ones. A label is the stack's choice (RFC 6437), so the
// script's value is a name: the same name must stay the same live label,
// and a new name must be a new label (packetdrill's rule).
type flowLabels struct {
	script, live uint32
}

// check compares an outbound packet's live flow label with the script's,
// when it writes one, and returns what is wrong.
func (m *flowLabels) check(want *uint32, live wire.Segment) string {
	if want == nil || *want == 0 || !live.IP.Is6() {
		return ""
	}
	got := live.IP.FlowLabel
	switch {
	case got == 0:
		return "flow label: the script expects one, and the packet carries none"
	case m.script == 0:
		m.script, m.live = *want, got
	case *want == m.script && got != m.live:
		return fmt.Sprintf("flow label: want the same label as before (%#x), got %#x", m.live, got)
	case *want != m.script && got == m.live:
		return fmt.Sprintf("flow label: want a new label, got the one before (%#x)", got)
	case *want != m.script:
		m.script, m.live = *want, got
	}
	return ""
}

// aceFlags turns an AccECN ACE digit into the three bits it stands for
// (RFC 9768 section 3.2.2: AE, CWR, ECE from most to least significant).
func aceFlags(ace int) wire.Flags {
	if ace < 0 {
		return 0
	}
	var f wire.Flags
	if ace&4 != 0 {
		f |= wire.AE
	}
	if ace&2 != 0 {
		f |= wire.CWR
	}
	if ace&1 != 0 {
		f |= wire.ECE
	}
	return f
}

func (r *scriptRun) packet(ev *script.Event, pkt *script.Packet, start, end, tol time.Duration) {
	for _, u := range pkt.Undefined {
		if !r.cookieSymbol(u) {
			r.skip(u.Pos, "symbol %s is not defined: give its value with -D %s=...", u.Name, u.Name)
		}
	}
	switch {
	case len(pkt.Encaps) > 0:
		r.skip(pkt.Pos, "encapsulated packets (%s) are not supported by tcpconform", pkt.Encaps[0].Kind)
	case pkt.PSPSPI != nil:
		r.skip(pkt.Pos, "PSP encapsulation is not supported by tcpconform")
	case pkt.Proto == script.UDP:
		r.skip(pkt.Pos, "UDP packets are not supported on target %s", r.t.target)
	// nplab's forms (FreeBSD's suite). Its "hlim" and "class" need no case:
	// they set the TTL and TOS fields like "ttl" and "tos".
	case pkt.UDPEncap != nil:
		r.skip(pkt.Pos, `UDP encapsulation of TCP (nplab "/udp(...)") is not supported by tcpconform`)
	case pkt.AbsSeq:
		r.skip(pkt.Pos, `absolute sequence numbers (nplab "start:end(len)!") are not supported by tcpconform`)
	case pkt.AnySeq:
		r.skip(pkt.Pos, `unchecked sequence numbers (nplab "...(len)") are not supported by tcpconform`)
	case pkt.MD5Valid:
		r.skip(pkt.Pos, `computed TCP-MD5 signatures (nplab "md5 valid") are not supported by tcpconform`)
	}
	if pkt.Proto == script.ICMP {
		r.icmp(pkt)
		return
	}
	if pkt.Dir == script.Inbound {
		r.inbound(pkt)
		return
	}
	r.outbound(ev, pkt, start, end, tol)
}

// flowFor returns the connection an inbound packet belongs to: a new one when
// there is none or the socket under test is listening (packetdrill's rule).
func (r *scriptRun) flowFor(pkt *script.Packet) *flow {
	if r.cur == nil || r.listening {
		f := &flow{peerPort: r.p.allocPort(), targetPort: r.bindPort, fd: -1}
		if pkt.Ports != nil {
			f.peerPort, f.targetPort = pkt.Ports.Src, pkt.Ports.Dst
		}
		r.cur, r.listening = f, false
	}
	return r.cur
}

func (r *scriptRun) ipHeader(info script.IPInfo, inbound bool) wire.IP {
	ip := wire.IP{TTL: 64}
	if inbound {
		ip.Src, ip.Dst = r.p.LocalAddr(), r.p.TargetAddr()
		ip.DF = r.p.family == IPv4
	}
	switch info.ECN {
	case script.ECT0:
		ip.TOS = 2
	case script.ECT1:
		ip.TOS = 1
	case script.CE:
		ip.TOS = 3
	}
	if info.TOS != nil {
		ip.TOS = *info.TOS
	}
	if info.TTL != nil {
		ip.TTL = *info.TTL
	}
	if info.FlowLabel != nil {
		ip.FlowLabel = *info.FlowLabel
	}
	return ip
}

// inbound builds the segment the script describes, in live numbers, and
// injects it.
func (r *scriptRun) inbound(pkt *script.Packet) {
	f := r.flowFor(pkt)
	if f.targetPort == 0 {
		r.scriptError(pkt.Pos, "inbound packet before the target's port is known: expect its SYN first")
	}
	syn := pkt.Flags&wire.SYN != 0
	s := wire.Segment{
		IP:      r.ipHeader(pkt.IP, true),
		SrcPort: f.peerPort, DstPort: f.targetPort,
		Flags:   pkt.Flags | aceFlags(pkt.ACE),
		Payload: make([]byte, pkt.Len),
	}
	if pkt.Ports != nil {
		s.SrcPort, s.DstPort = pkt.Ports.Src, pkt.Ports.Dst
	}
	if pkt.Win != nil {
		s.Window = *pkt.Win
	}
	if pkt.Urg != nil {
		s.Urgent = *pkt.Urg
	}
	// The peer's ISN is the script's own number: the SYN carries it as
	// written, later segments count from it.
	// The peer's ISN is set once per connection: by the packet that makes
	// it, or by the SYN,ACK answering the target's SYN. A later SYN (into an
	// established connection, say) is a segment like any other.
	// Segments sent before that SYN,ACK (to draw a reset or a challenge
	// ACK while the target is in SYN-SENT) count from 0, as packetdrill
	// counts them, and the SYN,ACK then sets it.
	if !f.remoteKnown || syn && pkt.Flags&wire.ACK != 0 && !f.remoteFromSyn {
		f.remoteISN, f.remoteKnown = 0, true
		if syn {
			f.remoteISN, f.remoteFromSyn = pkt.SeqStart, true
		}
	}
	if syn {
		s.Seq = seq.Value(pkt.SeqStart)
	} else {
		s.Seq = seq.Value(f.remoteISN + pkt.SeqStart)
	}
	if pkt.Ack != nil {
		// Until the target's ISN is known (a segment sent to a listener
		// to draw a reset) the number goes out as written, as in
		// packetdrill.
		s.Ack = seq.Value(*pkt.Ack)
		if pkt.Flags&wire.ACK != 0 && f.localKnown {
			s.Ack = seq.Value(r.localToLive(f, *pkt.Ack, syn))
		}
	}
	s.Options = r.inboundOptions(pkt, f)
	if err := r.p.Inject(s, wire.Faults{}); err != nil {
		r.t.ErrorAt(r.where(pkt.Pos), err)
	}
	r.p.clock.Settle()
}

// localToLive maps a number in the target's sequence space from the script's
// values to live ones.
func (r *scriptRun) localToLive(f *flow, v uint32, syn bool) uint32 {
	live := v + f.liveLocalISN
	if syn {
		live -= f.scriptLocalISN
	}
	return live
}

// inboundOptions maps SACK blocks (which name the target's data) and the TS
// echo to live numbers.
func (r *scriptRun) inboundOptions(pkt *script.Packet, f *flow) []wire.Option {
	var out []wire.Option
	for _, o := range r.liveOptions(pkt) {
		switch v := o.(type) {
		case wire.SACK:
			blocks := make(wire.SACK, len(v))
			for i, b := range v {
				blocks[i] = wire.SACKBlock{Left: b.Left + f.liveLocalISN, Right: b.Right + f.liveLocalISN}
			}
			o = blocks
		case wire.Timestamps:
			if pkt.Flags&wire.ACK != 0 {
				ecr, ok := r.ts.toLive(v.Ecr)
				if !ok {
					r.scriptError(pkt.Pos, "unable to infer the live TS ecr for script TS ecr %d: no outbound line named a TS val at or below it", v.Ecr)
				}
				v.Ecr = ecr
			}
			o = v
		}
		out = append(out, o)
	}
	return out
}

// pktScriptSeg is the segment as the script wrote it, for logs.
func pktScriptSeg(pkt *script.Packet, live wire.Segment) wire.Segment {
	s := live
	s.Seq = seq.Value(pkt.SeqStart)
	if pkt.Ack != nil {
		s.Ack = seq.Value(*pkt.Ack)
	}
	s.Options = pkt.Options
	return s
}

// belongs reports whether a captured packet is on the flow.
func (r *scriptRun) belongs(f *flow, pkt *script.Packet) func(Arrival) bool {
	return func(a Arrival) bool {
		s := a.Segment
		if a.Err != nil && !s.IP.Src.IsValid() {
			return true
		}
		peer, target := f.peerPort, f.targetPort
		if pkt.Ports != nil {
			target, peer = pkt.Ports.Src, pkt.Ports.Dst
		}
		// Until the target's port is known (an active open), only its SYN
		// can be this connection's: a segment of an earlier connection to
		// the same peer port is not, nor is a SYN such a connection still
		// retransmits, as packetdrill ignores what is not from the socket
		// under test.
		return s.IP.Src == r.p.TargetAddr() && s.IP.Dst == r.p.LocalAddr() &&
			s.DstPort == peer && (s.SrcPort == target || target == 0 && s.Flags&wire.SYN != 0 && !r.targetPorts[s.SrcPort])
	}
}

// maxStarWait bounds how long a "*" packet is waited for, in instance time.
const maxStarWait = 10 * time.Minute

// lateGrace is how long past its window an outbound packet is still waited
// for, so that a late one is reported as late rather than missing
// (packetdrill waits 2 s).
const lateGrace = 2 * time.Second

// outbound takes the next packet the target sent on the connection under
// test and checks it against the script line, field by field and in time.
func (r *scriptRun) outbound(ev *script.Event, pkt *script.Packet, start, end, tol time.Duration) {
	f := r.cur
	if f == nil {
		r.scriptError(pkt.Pos, "outbound packet with no connection under test: no socket has connected or been sent a packet")
	}
	// A target with coarse timers or a slow path may send up to its
	// allowance late (timer granularity and latency, expectations.Profile),
	// never earlier.
	lo, hi := start-tol, end+tol+r.p.Late
	wait := hi + lateGrace - r.p.Elapsed()
	if ev.Time.Kind == script.AnyTime {
		wait = maxStarWait
	}
	want := r.scriptLine(script.Outbound, pkt.Flags|aceFlags(pkt.ACE), pktScriptSeg(pkt, wire.Segment{
		Flags: pkt.Flags, Window: deref16(pkt.Win), Urgent: deref16(pkt.Urg), Payload: make([]byte, pkt.Len)}))
	a, ok, err := r.p.next(r.t.ctx, r.belongs(f, pkt), max(wait, 0))
	if err != nil {
		r.ctxErr(pkt.Pos, err)
	}
	if !ok {
		r.failAt(pkt.Pos, "timed out waiting for an outbound packet\n  expected  %s (at +%.6f s)%s",
			want, start.Seconds(), r.pendingContext())
	}
	if a.Err != nil {
		r.failAt(pkt.Pos, "the target sent a malformed packet: %v\n  expected  %s\n  actual    %v\n  bytes     %x",
			a.Err, want, a.Segment, a.Raw)
	}
	live := a.Segment
	if !r.strictSegments {
		live = r.coalesce(f, pkt, live, hi)
	}
	if f.targetPort == 0 {
		f.targetPort = live.SrcPort
		if r.targetPorts == nil {
			r.targetPorts = map[uint16]bool{}
		}
		r.targetPorts[live.SrcPort] = true
	}
	if live.Flags&wire.SYN != 0 && !f.localKnown {
		f.liveLocalISN, f.scriptLocalISN, f.localKnown = uint32(live.Seq), pkt.SeqStart, true
	}
	obs := expectations.Observed{Segment: r.toScript(f, live, pkt, true), At: r.p.Since(a.At)}
	got := r.scriptLine(script.Outbound, live.Flags, obs.Segment)

	m := expectations.BeSegment(r.outboundFields(pkt)...)
	if mm := m.Mismatches(obs); len(mm) > 0 {
		headline := "outbound packet does not match"
		if r.laterMatch(f, pkt, m) {
			headline = "unexpected outbound packet: it came before the expected one"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s\n  expected  %s\n  actual    %s (at +%.6f s)", headline, want, got, obs.At.Seconds())
		for i, x := range mm {
			label := "          "
			if i == 0 {
				label = "  fields  "
			}
			fmt.Fprintf(&b, "\n%s  %v", label, x)
			if x.Field == "TS ecr" {
				b.WriteString(" (stricter than packetdrill, which does not compare the TS ecr; RFC 7323 section 4.3)")
			}
		}
		fmt.Fprintf(&b, "\n  live      %v", live)
		if r.packetFailAt(pkt.Pos, "%s%s", b.String(), r.pendingContext()) {
			return
		}
	}
	r.checkTSVal(pkt, live, start)
	if msg := f.labels.check(pkt.IP.FlowLabel, live); msg != "" {
		r.packetFailAt(pkt.Pos, "%s\n  expected  %s\n  actual    %s\n  live      %v", msg, want, got, live)
	}
	if ev.Time.Kind != script.AnyTime && (obs.At < lo || obs.At > hi) {
		when := fmt.Sprintf("at %.6f s", start.Seconds())
		if end != start {
			when = fmt.Sprintf("in %.6f~%.6f s", start.Seconds(), end.Seconds())
		}
		r.packetFailAt(pkt.Pos, "timing error: expected outbound packet %s but it left at %.6f s; tolerance %.6f s\n  expected  %s\n  actual    %s",
			when, obs.At.Seconds(), tol.Seconds(), want, got)
	}
}

// packetFailAt fails the run for an outbound packet that does not match or
// comes at the wrong time; under --non_fatal=packet it records a warning
// instead and reports true, and the script goes on (packetdrill's rule).
func (r *scriptRun) packetFailAt(p script.Pos, format string, args ...any) bool {
	if r.nonFatalPacket {
		r.t.WarnAt(r.where(p), fmt.Sprintf(format, args...))
		return true
	}
	r.failAt(p, format, args...)
	return false
}

// coalesce merges the segments that follow first on the connection until
// their payload reaches the script line's length, as packetdrill does by
// default: a line may describe in one what a stack sends as several
// MSS-sized segments. Only contiguous segments that agree in ack, window and
// flags (but FIN, PSH and CWR) merge; the first that does not is left in the
// capture for the next line.
func (r *scriptRun) coalesce(f *flow, pkt *script.Packet, first wire.Segment, hi time.Duration) wire.Segment {
	merged := first
	merged.Payload = append([]byte(nil), first.Payload...)
	const loose = wire.FIN | wire.PSH | wire.CWR
	for len(merged.Payload) > 0 && len(merged.Payload) < pkt.Len {
		b, ok, err := r.p.next(r.t.ctx, r.belongs(f, pkt), max(hi+lateGrace-r.p.Elapsed(), 0))
		if err != nil {
			r.ctxErr(pkt.Pos, err)
		}
		if !ok {
			break
		}
		s := b.Segment
		if b.Err != nil || s.Seq != merged.Seq.Add(seq.Size(len(merged.Payload))) || s.Ack != merged.Ack ||
			s.Window != merged.Window || s.Flags&^loose != merged.Flags&^loose || len(s.Payload) == 0 {
			r.p.unread(b)
			break
		}
		merged.Payload = append(merged.Payload, s.Payload...)
		// As GSO splits a segment: CWR stays on the first piece, PSH and
		// FIN go with the last.
		merged.Flags = merged.Flags&^(wire.PSH|wire.FIN) | s.Flags&(wire.PSH|wire.FIN)
	}
	return merged
}

// checkTSVal compares the target's TSval with the script's when
// --tcp_ts_tick_usecs is set: from the first value the script names, the
// live value must have advanced by the script's difference, give or take the
// tolerance of the time since the script started (packetdrill's rule).
func (r *scriptRun) checkTSVal(pkt *script.Packet, live wire.Segment, start time.Duration) {
	if r.tsTick == 0 || pkt.AnyOptions {
		return
	}
	o, ok := wire.FindOption(pkt.Options, wire.KindTimestamps)
	lo, lok := live.Option(wire.KindTimestamps)
	if !ok || !lok {
		return
	}
	want, got := o.(wire.Timestamps).Val, lo.(wire.Timestamps).Val
	if !r.tsBaseKnown {
		r.tsBaseKnown, r.tsScriptFirst, r.tsLiveFirst = true, want, got
		return
	}
	expected := r.tsLiveFirst + (want - r.tsScriptFirst)
	off := time.Duration(int32(got-expected)) * r.tsTick
	if tol := r.tolerance(start); off > tol || off < -tol {
		r.failAt(pkt.Pos, "TS val %d is %v off the script's %d (%d ticks of %v); tolerance %v",
			r.tsScriptFirst+(got-r.tsLiveFirst), off, want, int32(got-expected), r.tsTick, tol)
	}
}

func deref16(p *uint16) uint16 {
	if p == nil {
		return 0
	}
	return *p
}

// laterMatch reports whether a packet still waiting in the capture would
// have matched: then the one that did not is an extra, unexpected packet.
func (r *scriptRun) laterMatch(f *flow, pkt *script.Packet, m *expectations.SegmentMatcher) bool {
	for _, a := range r.p.pending {
		if a.Err != nil || !r.belongs(f, pkt)(a) {
			continue
		}
		o := expectations.Observed{Segment: r.toScript(f, a.Segment, pkt, false)}
		if len(m.Mismatches(o)) == 0 {
			return true
		}
	}
	return false
}

// toScript rewrites a live outbound segment into script space; record keeps
// its timestamp for later echoes.
func (r *scriptRun) toScript(f *flow, live wire.Segment, pkt *script.Packet, record bool) wire.Segment {
	s := live
	syn := live.Flags&wire.SYN != 0
	s.Seq = seq.Value(uint32(live.Seq) - f.liveLocalISN)
	if syn {
		s.Seq = s.Seq.Add(seq.Size(f.scriptLocalISN))
	}
	if live.Flags&wire.ACK != 0 && !syn {
		s.Ack = seq.Value(uint32(live.Ack) - f.remoteISN)
	}
	var scriptTS *wire.Timestamps
	if o, ok := wire.FindOption(pkt.Options, wire.KindTimestamps); ok && !pkt.AnyOptions {
		ts := o.(wire.Timestamps)
		scriptTS = &ts
	}
	s.Options = make([]wire.Option, len(live.Options))
	for i, o := range live.Options {
		switch v := o.(type) {
		case wire.SACK:
			blocks := make(wire.SACK, len(v))
			for j, b := range v {
				blocks[j] = wire.SACKBlock{Left: b.Left - f.remoteISN, Right: b.Right - f.remoteISN}
			}
			o = blocks
		case wire.Timestamps:
			// The TS val is the target's clock: it is checked only under
			// --tcp_ts_tick_usecs (checkTSVal), so show the script's. The
			// TS ecr echoes the peer's TS val, which went out as the script
			// wrote it, so it stays and is compared (TSEcr).
			if scriptTS != nil {
				if record {
					r.ts.learn(scriptTS.Val, v.Val)
				}
				v.Val = scriptTS.Val
			}
			o = v
		}
		s.Options[i] = o
	}
	return s
}

// outboundFields are what an outbound line checks (packetdrill's rules):
// flags, seq and ack always; the window when written; the urgent pointer;
// the payload (zeros); the options in order unless "<...>"; ECN, TOS and TTL
// when written.
func (r *scriptRun) outboundFields(pkt *script.Packet) []expectations.Field {
	fs := []expectations.Field{
		expectations.Flags(pkt.Flags | aceFlags(pkt.ACE)),
		expectations.SeqNum(seq.Value(pkt.SeqStart)),
		expectations.AckField(seq.Value(deref32(pkt.Ack))),
		expectations.Urgent(deref16(pkt.Urg)),
		expectations.Payload(make([]byte, pkt.Len)),
	}
	if pkt.Win != nil {
		fs = append(fs, expectations.Window(*pkt.Win))
	}
	if !pkt.AnyOptions {
		fs = append(fs, expectations.OptionsLike(r.liveOptions(pkt)...))
		// packetdrill does not compare the TS ecr; tcpconform does, since a
		// stack that echoes a stale TS val breaks RTTM and PAWS (RFC 7323
		// section 4.3). The failure says so (ecrNote).
		if o, ok := wire.FindOption(pkt.Options, wire.KindTimestamps); ok {
			fs = append(fs, expectations.TSEcr(o.(wire.Timestamps).Ecr))
		}
	}
	switch pkt.IP.ECN {
	case script.NoECN:
		fs = append(fs, expectations.ECN(0))
	case script.ECT0:
		fs = append(fs, expectations.ECN(2))
	case script.ECT1:
		fs = append(fs, expectations.ECN(1))
	case script.CE:
		fs = append(fs, expectations.ECN(3))
	case script.ECT01:
		fs = append(fs, expectations.ECT())
	}
	if pkt.IP.TOS != nil {
		fs = append(fs, expectations.TOS(*pkt.IP.TOS))
	}
	if pkt.IP.TTL != nil {
		fs = append(fs, expectations.TTL(*pkt.IP.TTL))
	}
	return fs
}

func deref32(p *uint32) uint32 {
	if p == nil {
		return 0
	}
	return *p
}

// scriptLine prints a segment the way a script line reads:
// "S. 0:0(0) ack 1 win 29200 <mss 1460,sackOK>".
func (r *scriptRun) scriptLine(dir script.Direction, flags wire.Flags, s wire.Segment) string {
	var b strings.Builder
	f := "-"
	if flags != 0 {
		f = flags.String()
	}
	n := uint32(len(s.Payload))
	fmt.Fprintf(&b, "%v %s %d:%d(%d)", dir, f, uint32(s.Seq), uint32(s.Seq)+n, n)
	if s.Flags&wire.ACK != 0 || s.Ack != 0 {
		fmt.Fprintf(&b, " ack %d", uint32(s.Ack))
	}
	if dir == script.Inbound || s.Window != 0 {
		fmt.Fprintf(&b, " win %d", s.Window)
	}
	if s.Urgent != 0 {
		fmt.Fprintf(&b, " urg %d", s.Urgent)
	}
	if len(s.Options) > 0 {
		o := wire.OptionsString(s.Options)
		fmt.Fprintf(&b, " <%s>", o[1:len(o)-1])
	}
	return b.String()
}

// pendingContext lists what else the target sent that no line consumed.
func (r *scriptRun) pendingContext() string {
	var b strings.Builder
	for i, a := range r.p.pending {
		label := "          "
		if i == 0 {
			label = "  then    "
		}
		fmt.Fprintf(&b, "\n%s%v (at +%.6f s)", label, a.Segment, r.p.Since(a.At).Seconds())
	}
	if f := r.cur; f != nil && f.targetPort != 0 {
		t := targets.Tuple{
			Local:  netip.AddrPortFrom(r.p.TargetAddr(), f.targetPort),
			Remote: netip.AddrPortFrom(r.p.LocalAddr(), f.peerPort),
		}
		if s := r.p.state(t); s != state.Unknown {
			fmt.Fprintf(&b, "\n  state     %v", s)
		}
	}
	return b.String()
}
