// Package seqs is the seqs target: github.com/soypat/seqs, a small Go
// TCP/IP stack for microcontrollers. Each instance is a fresh seqs
// PortStack at 192.0.2.1 (IPv4 only: seqs has no IPv6) behind a Stack,
// which frames the harness's raw IP packets as Ethernet for it and
// implements the socket calls over seqs' TCPConn and TCPListener. seqs is
// polled, not driven by timers: the Stack drains it after every packet and
// call, and polls it every millisecond in real time. The Stack is served
// through agentsdk by a copy of the harness's own binary, one per case, and
// driven with the agent client, so that the SDK is proven by a real stack
// (agent.go).
package seqs

import (
	"context"
	"fmt"

	"github.com/tcpconform/tcpconform/targets"
)

func init() { targets.Register(Target{}) }

// Target is the seqs target.
type Target struct{}

// Name implements targets.Target.
func (Target) Name() string { return "seqs" }

// Describe implements targets.Target.
func (Target) Describe() string {
	return "github.com/soypat/seqs (Go TCP/IP for microcontrollers) served through agentsdk, an agent process per case, IPv4 only, real time"
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
	return startAgent(ctx, seed)
}
