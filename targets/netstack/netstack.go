// Package netstack is the "netstack" target: gVisor's userspace TCP/IP stack
// (gvisor.dev/gvisor/pkg/tcpip), embedded in the harness process and driven on
// a virtual clock.
//
// Each instance is a fresh stack with IPv4, IPv6 and TCP (Reno) on one NIC
// (ID 1) backed by a raw-IP channel link: MTU 1500 unless Config.MTU says, no link-layer header, no
// neighbour resolution, no GSO, and no checksum offload, so the stack verifies
// the checksums of what is injected (a bad one is dropped silently) and
// computes them on what it sends. The stack owns 192.0.2.1/24 and
// 2001:db8::1/64, with default routes for both families; the harness's peer
// is 192.0.2.2 and 2001:db8::2.
//
// Time is a faketime.ManualClock: it moves only through Clock.Advance, which
// runs every due timer synchronously (SYN-ACK and data retransmission, TLP,
// keepalive, zero-window probes, FIN-WAIT-2, TIME-WAIT). Randomness (ISN and
// timestamp secrets, ephemeral ports, IP IDs) comes from a ChaCha8 stream
// seeded from Config.Seed, so with the virtual clock a given seed reproduces
// the same ISNs and TSvals.
//
// Known netstack behaviours that specs should treat as the target's, not as
// harness bugs (measured on the pinned gVisor version):
//   - It never delays ACKs: every segment that needs one is acknowledged at
//     once. tcpip.TCPDelayEnabled is Nagle, not delayed ACK.
//   - Once timestamps were negotiated, an ACK without a TS option (including
//     the handshake's final ACK) is dropped.
//   - A retransmitted SYN-ACK carries the TSval of the first one.
//   - An in-window SYN in ESTABLISHED is dropped without a challenge ACK.
//   - An RST in TIME-WAIT is ignored (RFC 1337); the connection stays in
//     TIME-WAIT.
//   - RACK/TLP is on: the first retransmission of lost data is a tail loss
//     probe before the RTO. The initial RTO is 1 s, the minimum 200 ms.
//   - SYN-ACK retransmits are at 1, 3, 7, 15, 31, 63 s; after the sixth the
//     half-open connection is dropped silently, with no RST.
//   - After TCPMaxRetries (15) a connection ends in an error state without
//     sending a RST.
//   - Segments with DF set carry IPv4 ID 0; only DF-clear packets (RSTs to
//     unknown tuples) draw a hashed ID.
//   - The ISN cannot be chosen; read it from the SYN-ACK or rely on the seed.
package netstack

import (
	"context"
	"fmt"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/tcpconform/tcpconform/targets"
)

func init() { targets.Register(Target{}) }

// nicID is the stack's only NIC.
const nicID tcpip.NICID = 1

var addrs = targets.DocumentationAddrs

// Target makes netstack instances. It needs no privilege and is always
// available.
type Target struct{}

var _ targets.Target = Target{}

// Name implements targets.Target.
func (Target) Name() string { return "netstack" }

// Describe implements targets.Target.
func (Target) Describe() string { return "gVisor netstack, embedded in-process, virtual time" }

// Available implements targets.Target.
func (Target) Available() error { return nil }

// New implements targets.Target: it builds a fresh, isolated stack.
func (Target) New(ctx context.Context, cfg targets.Config) (targets.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := cfg.LinkUnsupported("netstack", true); err != nil {
		return nil, err
	}
	mtu := cfg.MTU
	if mtu == 0 {
		mtu = targets.DefaultMTU
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = defaultSeed
	}
	in := &instance{
		vc:     newVClock(),
		fds:    make(map[int]*socket),
		known:  make(map[*tcp.Endpoint]struct{}),
		probed: make(map[targets.Tuple]probeRecord),
	}
	in.link = newStampedLink(in.vc, mtu)

	in.s = stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocolProbe(in.probe)},
		Clock:              in.vc,
		SecureRNG:          newSeededReader(seed),
		RandSource:         newSeededSource(seed),
	})
	fail := func(what string, err tcpip.Error) (targets.Instance, error) {
		in.Close()
		return nil, fmt.Errorf("netstack: %s: %s", what, err)
	}
	if err := in.s.CreateNIC(nicID, in.link); err != nil {
		return fail("create NIC", err)
	}
	for _, pa := range []tcpip.ProtocolAddress{
		{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(addrs.Local4.As4()), PrefixLen: 24}},
		{Protocol: ipv6.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom16(addrs.Local6.As16()), PrefixLen: 64}},
	} {
		if err := in.s.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); err != nil {
			return fail("add address", err)
		}
	}
	in.s.SetRouteTable([]tcpip.Route{
		{Destination: header.IPv4EmptySubnet, NIC: nicID},
		{Destination: header.IPv6EmptySubnet, NIC: nicID},
	})
	if cfg.TimeWait > 0 {
		opt := tcpip.TCPTimeWaitTimeoutOption(cfg.TimeWait)
		if err := in.s.SetTransportProtocolOption(tcp.ProtocolNumber, &opt); err != nil {
			return fail("set TIME-WAIT timeout", err)
		}
	}
	return in, nil
}

// instance is one running stack.
type instance struct {
	s    *stack.Stack
	vc   *vclock
	link *stampedLink

	settleMu  sync.Mutex
	closeOnce sync.Once
	closedMu  sync.RWMutex
	closed    bool

	// mu guards the fd table and the endpoint records used by State.
	mu  sync.Mutex
	fds map[int]*socket
	// known holds every TCP endpoint this instance has met: created or
	// accepted by Sockets, or found registered with the stack by Settle or
	// State. Keeping them lets State read the state of a closed or orphaned
	// endpoint. (The probe keeps its own records, in probed.)
	known map[*tcp.Endpoint]struct{}

	// probeMu guards probed; the probe runs on stack goroutines with the
	// endpoint's lock held, so it takes only this lock.
	probeMu sync.Mutex
	probed  map[targets.Tuple]probeRecord
}

var _ targets.Instance = (*instance)(nil)

func (in *instance) Link() targets.Link       { return link{in} }
func (in *instance) Sockets() targets.Sockets { return sockets{in} }
func (in *instance) Clock() targets.Clock     { return clock{in} }

// Addrs implements targets.Instance.
func (in *instance) Addrs() targets.Addrs { return addrs }

// Capabilities implements targets.Instance.
func (in *instance) Capabilities() targets.Capabilities {
	return targets.Capabilities{
		IPv4:             true,
		IPv6:             true,
		VirtualTime:      true,
		State:            true,
		SynReceivedState: true,
	}
}

func (in *instance) isClosed() bool {
	in.closedMu.RLock()
	defer in.closedMu.RUnlock()
	return in.closed
}

// settle is Clock.Settle; see there.
func (in *instance) settle() {
	// Pause and Resume must not interleave: a blocking socket call on
	// another goroutine settles too.
	in.settleMu.Lock()
	defer in.settleMu.Unlock()
	in.closedMu.RLock()
	defer in.closedMu.RUnlock()
	if in.closed {
		return
	}
	p := in.s.TransportProtocolInstance(tcp.ProtocolNumber)
	p.Pause()
	p.Resume()
	// Zero-delay timer callbacks run on their own goroutines; Advance(0)
	// waits for them (and runs nothing else: every earlier deadline has
	// already fired).
	in.vc.mc.Advance(0)
	p.Pause()
	p.Resume()
	in.remember(in.s.RegisteredEndpoints())
}

// Close implements targets.Instance: it closes every socket, aborts what is
// left, waits for the stack's goroutines, and closes the link. It is safe to
// call more than once.
func (in *instance) Close() error {
	in.closeOnce.Do(func() {
		in.closedMu.Lock()
		in.closed = true
		in.closedMu.Unlock()

		in.mu.Lock()
		fds := in.fds
		in.fds = make(map[int]*socket)
		in.mu.Unlock()
		for _, so := range fds {
			so.ep.Close()
		}
		if in.s != nil {
			in.s.Close()
			in.s.Wait()
		}
		in.link.Close()
	})
	return nil
}
