// Package injector is the engine that plays the remote end of TCP
// connections against a target instance: it builds and injects segments,
// captures what the target sends into a stream with a cursor, matches it
// against expectations, drives the instance clock, and records a pcap of
// everything.
//
// The package does not depend on Ginkgo: specs reach it through T, which a
// thin adapter wires to Ginkgo, and the CLI wires to its own runner.
package injector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"
)

// Family selects IPv4 or IPv6 for a peer's connections.
type Family int

const (
	IPv4 Family = 4
	IPv6 Family = 6
)

func (f Family) String() string { return fmt.Sprintf("IPv%d", int(f)) }

// DefaultExpectTimeout is how long, in instance time, Expect waits for a
// segment before it reports that nothing arrived.
const DefaultExpectTimeout = 3 * time.Second

// DefaultTolerance is how far from its due time a segment may leave and still
// count as on time on a virtual clock; RealClockTolerance on a real one,
// where the harness shares the CPU with everything else the machine runs and
// a kernel may delay an ACK by its delayed-ACK timer (about 40 ms on Linux,
// RFC 9293 section 3.8.6.3 allows 0.5 s) plus its scheduling.
const (
	DefaultTolerance   = 10 * time.Millisecond
	RealClockTolerance = 100 * time.Millisecond
)

// Peer is the harness's side of the wire for one instance: it owns the
// capture stream and the pcap, and makes connections.
type Peer struct {
	inst   targets.Instance
	link   targets.Link
	clock  targets.Clock
	family Family
	start  time.Time
	rec    *Recorder

	statesMu sync.Mutex
	states   []StateSample

	// pending holds captured packets not yet consumed by an Expect, in
	// order of arrival: the cursor of the capture stream is its head.
	pending []Arrival

	nextPort uint16
	nextISN  uint32

	// ExpectTimeout bounds each Expect in instance time. It is longer than
	// Tolerance so that a late segment is shown, not just missed.
	ExpectTimeout time.Duration
	// Tolerance is how far from its due time a segment may leave.
	Tolerance time.Duration
	// Late is how much later still a segment may leave: the target's
	// timer granularity and latency (expectations.Profile).
	Late time.Duration
	// Log, when set, receives one line per packet injected or captured.
	Log io.Writer
}

// Arrival is one packet the target sent, decoded. Err is set when it did not
// decode or its checksums were wrong; Segment is then as much as was read.
type Arrival struct {
	At      time.Time
	Segment wire.Segment
	Raw     []byte
	Err     error
}

// NewPeer starts a peer on inst that speaks the given family.
func NewPeer(inst targets.Instance, family Family) *Peer {
	p := &Peer{
		inst:          inst,
		link:          inst.Link(),
		clock:         inst.Clock(),
		family:        family,
		start:         inst.Clock().Now(),
		rec:           &Recorder{},
		nextPort:      firstPeerPort,
		nextISN:       1000000,
		ExpectTimeout: DefaultExpectTimeout,
		Tolerance:     DefaultTolerance,
	}
	if !p.clock.Virtual() {
		p.Tolerance = RealClockTolerance
	}
	return p
}

// Instance returns the target instance the peer talks to.
func (p *Peer) Instance() targets.Instance { return p.inst }

// Sockets returns the application side of the target.
func (p *Peer) Sockets() targets.Sockets { return p.inst.Sockets() }

// Family returns the peer's address family.
func (p *Peer) Family() Family { return p.family }

// Recorder returns the pcap recorder of the run.
func (p *Peer) Recorder() *Recorder { return p.rec }

// Elapsed returns the instance time since the peer started.
func (p *Peer) Elapsed() time.Duration { return p.clock.Now().Sub(p.start) }

// Since converts an instance timestamp to time since the peer started.
func (p *Peer) Since(t time.Time) time.Duration { return t.Sub(p.start) }

// LocalAddr is the peer's own address; TargetAddr is the target's.
func (p *Peer) LocalAddr() netip.Addr {
	a := p.inst.Addrs()
	if p.family == IPv6 {
		return a.Peer6
	}
	return a.Peer4
}

// TargetAddr is the address the target answers on, in the peer's family.
func (p *Peer) TargetAddr() netip.Addr {
	a := p.inst.Addrs()
	if p.family == IPv6 {
		return a.Local6
	}
	return a.Local4
}

// Inject encodes s with the given faults, records it and hands it to the
// target.
func (p *Peer) Inject(s wire.Segment, f wire.Faults) error {
	b, err := wire.EncodeWith(s, f)
	if err != nil {
		return err
	}
	p.rec.Add(p.clock.Now(), true, b)
	p.log("<", p.clock.Now(), s)
	return p.link.Inject(b)
}

// InjectRaw records a datagram the peer built itself (an ICMP error, say)
// and hands it to the target.
func (p *Peer) InjectRaw(b []byte) error {
	p.rec.Add(p.clock.Now(), true, b)
	return p.link.Inject(b)
}

// log writes one packet line: direction, time since the start, segment.
func (p *Peer) log(dir string, at time.Time, s wire.Segment) {
	if p.Log != nil {
		fmt.Fprintf(p.Log, "%s +%.6f %v\n", dir, p.Since(at).Seconds(), s)
	}
}

// Sleep lets d of instance time pass: the virtual clock is advanced (timers
// fire, and what they send is captured), a real clock is waited on.
func (p *Peer) Sleep(ctx context.Context, d time.Duration) error {
	if err := p.clock.Advance(ctx, d); err != nil {
		return err
	}
	p.drain()
	return nil
}

// drain moves everything the target has sent so far into pending.
func (p *Peer) drain() {
	p.clock.Settle()
	for {
		pkt, ok := p.link.Poll()
		if !ok {
			return
		}
		p.capture(pkt)
	}
}

func (p *Peer) capture(pkt targets.Packet) {
	p.rec.Add(pkt.At, false, pkt.Data)
	s, err := wire.Decode(pkt.Data)
	p.log(">", pkt.At, s)
	p.pending = append(p.pending, Arrival{At: pkt.At, Segment: s, Raw: pkt.Data, Err: err})
}

// Pending returns the captured packets no Expect has consumed yet.
func (p *Peer) Pending() []Arrival {
	p.drain()
	return append([]Arrival(nil), p.pending...)
}

// next returns the first pending packet that filter accepts, waiting up to
// within (instance time) for one. On a virtual clock it jumps from timer to
// timer, so waiting costs no wall time; on a real clock it blocks on the link.
// Packets the filter rejects stay pending for other connections.
func (p *Peer) next(ctx context.Context, filter func(Arrival) bool, within time.Duration) (Arrival, bool, error) {
	deadline := p.clock.Now().Add(within)
	for {
		p.drain()
		for i, a := range p.pending {
			if filter(a) {
				p.pending = append(p.pending[:i:i], p.pending[i+1:]...)
				return a, true, nil
			}
		}
		now := p.clock.Now()
		if !now.Before(deadline) {
			return Arrival{}, false, nil
		}
		if err := ctx.Err(); err != nil {
			return Arrival{}, false, err
		}
		if p.clock.Virtual() {
			step := deadline
			if t, ok := p.clock.NextTimer(); ok && t.Before(deadline) {
				step = t
			}
			d := step.Sub(now)
			if d <= 0 {
				d = time.Nanosecond
			}
			if err := p.clock.Advance(ctx, d); err != nil {
				return Arrival{}, false, err
			}
			continue
		}
		wctx, cancel := context.WithDeadline(ctx, time.Now().Add(deadline.Sub(now)))
		pkt, err := p.link.Next(wctx)
		cancel()
		if err == nil {
			p.capture(pkt)
		} else if !errors.Is(err, context.DeadlineExceeded) {
			return Arrival{}, false, err
		}
	}
}

// state returns the target's state for t, or state.Unknown when the target
// cannot tell.
func (p *Peer) state(t targets.Tuple) state.State {
	p.clock.Settle()
	s, ok := p.inst.State(t)
	if !ok {
		s = state.Unknown
	}
	p.statesMu.Lock()
	p.states = append(p.states, StateSample{At: p.clock.Now(), Tuple: t, State: s})
	p.statesMu.Unlock()
	return s
}

// StateSample is the target's state for a connection, as read at At.
type StateSample struct {
	At    time.Time
	Tuple targets.Tuple
	State state.State
}

// States returns every state the case read from the target, in order.
func (p *Peer) States() []StateSample {
	p.statesMu.Lock()
	defer p.statesMu.Unlock()
	return append([]StateSample(nil), p.states...)
}

// Start is when the peer's time began (Since measures from it).
func (p *Peer) Start() time.Time { return p.start }

// First and last port the peer uses for its side of connections.
const (
	firstPeerPort = 40000
	lastPeerPort  = 65535
)

// restart makes now the start of the run's time, for what comes next.
func (p *Peer) restart() { p.start = p.clock.Now() }

// unread puts a packet taken by next back at the head of the capture.
func (p *Peer) unread(a Arrival) { p.pending = append([]Arrival{a}, p.pending...) }

// allocPort returns the next port for the peer's side of a connection,
// wrapping round within firstPeerPort..lastPeerPort.
func (p *Peer) allocPort() uint16 {
	port := p.nextPort
	if port == lastPeerPort {
		p.nextPort = firstPeerPort
	} else {
		p.nextPort++
	}
	return port
}

// allocISN returns a fresh initial sequence number for the peer.
func (p *Peer) allocISN() uint32 {
	isn := p.nextISN
	p.nextISN += 1000000
	return isn
}
