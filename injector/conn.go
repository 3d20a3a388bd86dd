package injector

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/onsi/gomega/types"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"
)

// DefaultWindow is the window the peer advertises unless told otherwise.
const DefaultWindow = 65535

// DefaultSYNOptions are the options the peer puts on its SYN or SYN,ACK
// unless told otherwise: what a Linux host offers.
func DefaultSYNOptions() []wire.Option {
	return []wire.Option{wire.MSS(1460), wire.SACKPermitted{}, wire.Timestamps{}, wire.NOP{}, wire.WindowScale(7)}
}

// Conn is one connection as the peer plays it. It tracks the peer's own
// send sequence (SND.NXT), what it has received from the target (its ISS and
// RCV.NXT), and the timestamp to echo, so that specs name segments by their
// flags and let the numbers follow.
type Conn struct {
	p *Peer

	// PeerPort is the peer's port; TargetPort the target's (zero until the
	// target's first segment names it, for connections the target opens).
	PeerPort   uint16
	TargetPort uint16

	// ISN is the peer's initial sequence number; SndNxt its next one.
	ISN    seq.Value
	SndNxt seq.Value

	// TargetISS is the target's initial sequence number, once seen;
	// RcvNxt is the next sequence number the peer expects from it.
	TargetISS seq.Value
	KnownISS  bool
	RcvNxt    seq.Value

	// Window is the window the peer advertises.
	Window uint16

	tsOffered bool   // the peer sent TS on its SYN or SYN,ACK
	tsRecent  uint32 // the last TSval from the target, to echo

	// offered holds the option kinds of the target's SYN or SYN,ACK.
	offered map[wire.OptionKind]bool
}

// Dial makes a connection the peer will open to the target's port.
func (p *Peer) Dial(targetPort uint16) *Conn {
	isn := seq.Value(p.allocISN())
	return &Conn{p: p, PeerPort: p.allocPort(), TargetPort: targetPort, ISN: isn, SndNxt: isn, Window: DefaultWindow}
}

// Await makes a connection the target will open to the peer: connect the
// target's socket to c.PeerAddrPort(); the target's port is learned from its
// SYN.
func (p *Peer) Await() *Conn {
	isn := seq.Value(p.allocISN())
	return &Conn{p: p, PeerPort: p.allocPort(), ISN: isn, SndNxt: isn, Window: DefaultWindow}
}

// PeerAddrPort is the peer's end of the connection.
func (c *Conn) PeerAddrPort() netip.AddrPort { return netip.AddrPortFrom(c.p.LocalAddr(), c.PeerPort) }

// TargetAddrPort is the target's end of the connection.
func (c *Conn) TargetAddrPort() netip.AddrPort {
	return netip.AddrPortFrom(c.p.TargetAddr(), c.TargetPort)
}

// Tuple is the connection as the target names it.
func (c *Conn) Tuple() targets.Tuple {
	return targets.Tuple{Local: c.TargetAddrPort(), Remote: c.PeerAddrPort()}
}

// Timestamps reports whether both ends offered the timestamps option
// (RFC 7323 section 3.2), so that every later segment carries it.
func (c *Conn) Timestamps() bool { return c.tsOffered && c.offered[wire.KindTimestamps] }

// State returns the target's state for the connection, or state.Unknown when
// the target cannot tell.
func (c *Conn) State() state.State { return c.p.state(c.Tuple()) }

// Base returns the numbers relative fields are read against.
func (c *Conn) Base() expectations.Base {
	return expectations.Base{ISS: c.TargetISS, KnownISS: c.KnownISS, IRS: c.ISN, KnownIRS: true}
}

// SendOption changes one thing about a segment Send builds.
type SendOption func(*sendConfig)

type sendConfig struct {
	seg     wire.Segment
	seqSet  bool
	ackSet  bool
	optsSet bool
	noTS    bool
	faults  wire.Faults
}

// WithSeq sends sequence number v instead of SND.NXT.
func WithSeq(v seq.Value) SendOption {
	return func(c *sendConfig) { c.seg.Seq, c.seqSet = v, true }
}

// WithAck sends acknowledgment number v instead of RCV.NXT.
func WithAck(v seq.Value) SendOption {
	return func(c *sendConfig) { c.seg.Ack, c.ackSet = v, true }
}

// WithWindow advertises window w.
func WithWindow(w uint16) SendOption { return func(c *sendConfig) { c.seg.Window = w } }

// WithPayload sends b as data.
func WithPayload(b []byte) SendOption {
	return func(c *sendConfig) { c.seg.Payload = append([]byte(nil), b...) }
}

// WithOptions sends exactly opts, instead of what the peer would choose. A
// Timestamps option in the list gets its values filled in when they are zero.
func WithOptions(opts ...wire.Option) SendOption {
	return func(c *sendConfig) { c.seg.Options, c.optsSet = opts, true }
}

// WithoutTimestamp leaves the timestamps option off a segment that would
// otherwise carry it.
func WithoutTimestamp() SendOption { return func(c *sendConfig) { c.noTS = true } }

// WithFaults encodes the segment with deliberate faults.
func WithFaults(f wire.Faults) SendOption { return func(c *sendConfig) { c.faults = f } }

// TrySend builds a segment with the given flags from the connection's state,
// applies opts, injects it, and moves SND.NXT past it. The acknowledgment
// number is RCV.NXT when ACK is set; a SYN carries DefaultSYNOptions.
func (c *Conn) TrySend(flags wire.Flags, opts ...SendOption) (wire.Segment, error) {
	cfg := sendConfig{seg: wire.Segment{
		IP:      wire.IP{Src: c.p.LocalAddr(), Dst: c.p.TargetAddr(), TTL: 64, DF: c.p.family == IPv4},
		SrcPort: c.PeerPort,
		DstPort: c.TargetPort,
		Flags:   flags,
		Window:  c.Window,
	}}
	for _, o := range opts {
		o(&cfg)
	}
	s := cfg.seg
	if !cfg.seqSet {
		s.Seq = c.SndNxt
	}
	if !cfg.ackSet && flags&wire.ACK != 0 {
		s.Ack = c.RcvNxt
	}
	if !cfg.optsSet && flags&wire.SYN != 0 {
		s.Options = c.synOptions(flags)
	}
	if !cfg.optsSet && flags&wire.SYN == 0 && c.Timestamps() {
		s.Options = []wire.Option{wire.NOP{}, wire.NOP{}, wire.Timestamps{}}
	}
	if cfg.noTS {
		s.Options = withoutKind(s.Options, wire.KindTimestamps)
	}
	s.Options = c.fillTimestamps(s.Options)
	if s.DstPort == 0 {
		return s, errors.New("the target's port is not known yet: expect its SYN first")
	}
	if err := c.p.Inject(s, cfg.faults); err != nil {
		return s, err
	}
	if flags&wire.SYN != 0 {
		if _, ok := wire.FindOption(s.Options, wire.KindTimestamps); ok {
			c.tsOffered = true
		}
	}
	if end := s.Seq.Add(s.Len()); end.GreaterThan(c.SndNxt) {
		c.SndNxt = end
	}
	return s, nil
}

// synOptions returns the options for the peer's SYN: DefaultSYNOptions. On a
// SYN,ACK that answers the target's SYN, window scaling, SACK-permitted and
// timestamps appear only if that SYN offered them (RFC 7323 sections 2.2 and
// 3.2, RFC 2018 section 2).
func (c *Conn) synOptions(flags wire.Flags) []wire.Option {
	opts := DefaultSYNOptions()
	if flags&wire.ACK == 0 || !c.KnownISS {
		return opts
	}
	var out []wire.Option
	for _, o := range opts {
		if k := o.Kind(); k == wire.KindMSS || k == wire.KindNOP || c.offered[k] {
			out = append(out, o)
		}
	}
	return out
}

// fillTimestamps puts the peer's clock and the echo into a Timestamps option
// whose values are zero.
func (c *Conn) fillTimestamps(opts []wire.Option) []wire.Option {
	out := make([]wire.Option, len(opts))
	for i, o := range opts {
		if ts, ok := o.(wire.Timestamps); ok && ts == (wire.Timestamps{}) {
			ts.Val = c.tsVal()
			ts.Ecr = c.tsRecent
			o = ts
		}
		out[i] = o
	}
	return out
}

// tsVal is the peer's timestamp clock: a tick a millisecond of the case's
// time (virtual or real), from 1000 so that it is never zero. It is one
// clock for every connection of the case, so it never goes back, and it
// advances across each Sleep or wait, so a target's TS.Recent moves with it
// (RFC 7323 sections 4.3 and 5.3).
func (c *Conn) tsVal() uint32 { return 1000 + uint32(c.p.Elapsed()/time.Millisecond) }

func withoutKind(opts []wire.Option, k wire.OptionKind) []wire.Option {
	var out []wire.Option
	for _, o := range opts {
		if o.Kind() != k {
			out = append(out, o)
		}
	}
	return out
}

// Nonconformance is a target behaving otherwise than expected. Its message
// says what was expected, what arrived, and which fields differ.
type Nonconformance struct {
	Message string
}

func (e *Nonconformance) Error() string { return e.Message }

// belongs reports whether a captured packet is on this connection. Packets
// that did not decode belong to every connection, so they are reported.
func (c *Conn) belongs(a Arrival) bool {
	s := a.Segment
	if a.Err != nil && !s.IP.Src.IsValid() {
		return true
	}
	return s.IP.Src == c.p.TargetAddr() && s.IP.Dst == c.p.LocalAddr() &&
		s.DstPort == c.PeerPort && (c.TargetPort == 0 || s.SrcPort == c.TargetPort)
}

// TryExpect waits for the next segment the target sends on this connection
// and matches it against m. The segment is due now: it must leave within the
// peer's Tolerance (one already waiting in the capture is on time). It
// returns a *Nonconformance when nothing arrives within the peer's
// ExpectTimeout, when the segment is malformed, late, or does not match; the
// segment is consumed either way.
func (c *Conn) TryExpect(ctx context.Context, m types.GomegaMatcher) (expectations.Observed, error) {
	return c.expect(ctx, 0, false, m)
}

// TryExpectAfter is TryExpect for a segment due d from now, such as a
// retransmission when a timer expires: it must leave within the peer's
// Tolerance of that time, neither earlier nor later.
func (c *Conn) TryExpectAfter(ctx context.Context, d time.Duration, m types.GomegaMatcher) (expectations.Observed, error) {
	return c.expect(ctx, d, true, m)
}

func (c *Conn) expect(ctx context.Context, after time.Duration, early bool, m types.GomegaMatcher) (expectations.Observed, error) {
	due := c.p.Elapsed() + after
	tol, late := c.p.Tolerance, c.p.Tolerance+c.p.Late
	wait := max(after+late, c.p.ExpectTimeout)
	when := fmt.Sprintf("by +%.6f s", (due + late).Seconds())
	if early {
		when = fmt.Sprintf("at +%.6f s ± %v", due.Seconds(), tol)
		if late != tol {
			when = fmt.Sprintf("from +%.6f s to +%.6f s", (due - tol).Seconds(), (due + late).Seconds())
		}
	}
	a, ok, err := c.p.next(ctx, c.belongs, wait)
	if err != nil {
		return expectations.Observed{}, err
	}
	if !ok {
		return expectations.Observed{}, &Nonconformance{Message: fmt.Sprintf(
			"no segment arrived within %v\n  expected  %s, %s%s", wait, describe(m), when, c.context())}
	}
	if a.Err != nil {
		return expectations.Observed{}, &Nonconformance{Message: fmt.Sprintf(
			"the target sent a malformed packet: %v\n  expected  %s\n  actual    %s (at +%.6f s)\n  bytes     %x%s",
			a.Err, describe(m), a.Segment, c.p.Since(a.At).Seconds(), a.Raw, c.context())}
	}
	s := a.Segment
	if c.TargetPort == 0 {
		c.TargetPort = s.SrcPort
	}
	if s.Flags&wire.SYN != 0 && !c.KnownISS {
		c.TargetISS, c.KnownISS = s.Seq, true
		c.RcvNxt = s.Seq.Add(s.Len())
	}
	obs := expectations.Observed{Segment: s, At: c.p.Since(a.At), Base: c.Base()}
	matched, err := m.Match(obs)
	if err != nil {
		return obs, &HarnessError{Err: err}
	}
	if !matched {
		return obs, &Nonconformance{Message: m.FailureMessage(obs) + c.context()}
	}
	if late, soon := obs.At > due+late, early && obs.At < due-tol; late || soon {
		word := "late"
		if soon {
			word = "early"
		}
		return obs, &Nonconformance{Message: fmt.Sprintf("segment arrived %s\n  expected  %s, %s\n  actual    %v%s",
			word, describe(m), when, obs, c.context())}
	}
	c.received(s)
	return obs, nil
}

// received updates RCV.NXT and the timestamp echo from an accepted segment.
func (c *Conn) received(s wire.Segment) {
	if end := s.Seq.Add(s.Len()); s.Len() > 0 && s.Seq.LessThanEq(c.RcvNxt) && end.GreaterThan(c.RcvNxt) {
		c.RcvNxt = end
	}
	if s.Flags&wire.SYN != 0 {
		c.offered = map[wire.OptionKind]bool{}
		for _, o := range s.Options {
			c.offered[o.Kind()] = true
		}
	}
	if o, ok := s.Option(wire.KindTimestamps); ok {
		c.tsRecent = o.(wire.Timestamps).Val
	}
}

// TryExpectNothing lets d of instance time pass and reports a Nonconformance
// if the target sent anything on this connection meanwhile, or had sent
// something earlier that no Expect consumed (shown as "earlier").
func (c *Conn) TryExpectNothing(ctx context.Context, d time.Duration) error {
	start := c.p.Elapsed()
	if err := c.p.Sleep(ctx, d); err != nil {
		return err
	}
	var got []Arrival
	rest := c.p.pending[:0:0]
	for _, a := range c.p.pending {
		if c.belongs(a) {
			got = append(got, a)
		} else {
			rest = append(rest, a)
		}
	}
	c.p.pending = rest
	if len(got) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "expected no segment from +%.6f s for %v, but %d arrived", start.Seconds(), d, len(got))
	for _, a := range got {
		label := "  actual  "
		if c.p.Since(a.At) < start {
			// Sent before the quiet period, and never expected either.
			label = "  earlier "
		}
		fmt.Fprintf(&b, "\n%s  %v (at +%.6f s)", label, a.Segment, c.p.Since(a.At).Seconds())
	}
	b.WriteString(c.context())
	return &Nonconformance{Message: b.String()}
}

// context lists the connection's state and what else is waiting in the
// capture, for failure messages.
func (c *Conn) context() string {
	var b strings.Builder
	if s := c.State(); s != state.Unknown {
		fmt.Fprintf(&b, "\n  state     %v", s)
	}
	for i, a := range c.p.pending {
		label := "          "
		if i == 0 {
			label = "  then    "
		}
		fmt.Fprintf(&b, "\n%s%v (at +%.6f s)", label, a.Segment, c.p.Since(a.At).Seconds())
	}
	return b.String()
}

func describe(m types.GomegaMatcher) string {
	if s, ok := m.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", m)
}
