// Package seqs is the seqs target: github.com/soypat/seqs, a small Go
// TCP/IP stack for microcontrollers, run in process. Each instance is a
// fresh seqs PortStack at 192.0.2.1 (IPv4 only: seqs has no IPv6) behind a
// Stack, which frames the harness's raw IP packets as Ethernet for it and
// implements the socket calls over seqs' TCPConn and TCPListener. seqs is
// polled, not driven by timers: the Stack drains it after every packet and
// call, and polls it every millisecond in real time.
package seqs

import (
	"context"
	"fmt"
	"time"

	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
)

func init() { targets.Register(Target{}) }

// Target is the seqs target.
type Target struct{}

// Name implements targets.Target.
func (Target) Name() string { return "seqs" }

// Describe implements targets.Target.
func (Target) Describe() string {
	return "github.com/soypat/seqs (Go TCP/IP for microcontrollers), in process, IPv4 only, real time"
}

// Available implements targets.Target: the stack is compiled in.
func (Target) Available() error { return nil }

// New implements targets.Target.
func (Target) New(ctx context.Context, cfg targets.Config) (targets.Instance, error) {
	if err := cfg.LinkUnsupported("seqs", false); err != nil {
		return nil, err
	}
	if cfg.TimeWait != 0 {
		return nil, fmt.Errorf("seqs target: %w: seqs has no TIME-WAIT to set (a connection is dropped on entering it)", targets.ErrUnsupported)
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = 1
	}
	return &instance{s: NewStack(seed)}, nil
}

// instance is a targets.Instance on one Stack.
type instance struct{ s *Stack }

var (
	_ targets.Instance = (*instance)(nil)
	_ targets.TCPInfo  = (*instance)(nil)
)

func (in *instance) Link() targets.Link       { return in.s }
func (in *instance) Sockets() targets.Sockets { return in.s }
func (in *instance) Clock() targets.Clock     { return clock{s: in.s} }
func (in *instance) Addrs() targets.Addrs {
	a := targets.DocumentationAddrs
	return targets.Addrs{Local4: a.Local4, Peer4: a.Peer4}
}
func (in *instance) Close() error { return in.s.Stop() }

// TCPInfo implements targets.TCPInfo: the state only.
func (in *instance) TCPInfo(fd int) (map[string]int64, error) { return in.s.TCPInfo(fd) }

// State implements targets.Instance from seqs' control blocks.
func (in *instance) State(t targets.Tuple) (state.State, bool) { return in.s.State(t) }

// Capabilities implements targets.Instance. Children of a listener are
// seen from the SYN on, so SYN-RECEIVED is observable.
func (in *instance) Capabilities() targets.Capabilities {
	return targets.Capabilities{IPv4: true, State: true, SynReceivedState: true}
}

// clock is the wall clock; Settle drains the stack.
type clock struct {
	targets.RealClock
	s *Stack
}

// Settle implements targets.Clock.
func (c clock) Settle() { c.s.Settle() }

// Advance implements targets.Clock: it settles, then waits.
func (c clock) Advance(ctx context.Context, d time.Duration) error {
	c.Settle()
	return c.RealClock.Advance(ctx, d)
}
