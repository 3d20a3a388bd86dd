// Package agentcmd is the target "agent": any program that speaks the
// stack-agent protocol (docs/agent-protocol.md), given on the command line
// with -agent-cmd 'PROG ARGS'. Each instance is a fresh process started from
// that command line, its placeholders ({addr4}, {seed}, ...; see
// agent.Net.Expand) filled in; its capabilities are what its hello
// announces. The lwIP target starts its agent the same way (agent.Command).
//
// The target has no built-in profile: it is judged by the reference one
// (expectations.Reference) unless the run is given a profile file
// (-profile), since a stack the harness knows nothing about is held to
// what RFC 9293 says until its user declares otherwise.
package agentcmd

import (
	"context"
	"fmt"
	"os/exec"

	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent"
)

func init() { targets.Register(Target{}) }

// Option names (cmd/tcpconform's target option flags); the address
// options are the remote target's too.
const (
	OptCommand  = "agent-cmd"
	OptStack4   = "device-ip4"
	OptStack6   = "device-ip6"
	OptHarness4 = "harness-ip4"
	OptHarness6 = "harness-ip6"
)

// Target is the agent target; its zero value is the unconfigured one of
// the registry, which cannot run.
type Target struct {
	cmd agent.Command
}

var (
	_ targets.Configurable = Target{}
	_ agent.Commander      = Target{}
)

// Name implements targets.Target.
func (Target) Name() string { return "agent" }

// Describe implements targets.Target.
func (t Target) Describe() string {
	d := "a stack agent of your own (docs/agent-protocol.md), one process per case, real time: -agent-cmd 'PROG ARGS'"
	if len(t.cmd.Argv) > 0 {
		d += "; here: " + t.cmd.String()
	}
	return d
}

// Configure implements targets.Configurable: -agent-cmd is required;
// -device-ip4 and -device-ip6 (ADDR or ADDR/LEN) and -harness-ip4 and
// -harness-ip6 (ADDR) replace the documentation addresses
// (agent.DocumentationNet) of the stack and of the peer.
func (Target) Configure(opts targets.Options) (targets.Target, error) {
	if err := opts.Unknown("agent", OptCommand, OptStack4, OptStack6, OptHarness4, OptHarness6); err != nil {
		return nil, err
	}
	line := opts[OptCommand]
	if line == "" {
		return nil, fmt.Errorf("target agent needs -%s 'PROG ARGS': the agent's command line (docs/bring-your-own-stack.md)", OptCommand)
	}
	argv, err := agent.SplitCommand(line)
	if err == nil && len(argv) == 0 {
		err = fmt.Errorf("no program")
	}
	if err != nil {
		return nil, fmt.Errorf("-%s: %v", OptCommand, err)
	}
	net := agent.DocumentationNet
	for _, f := range []struct {
		family         int
		stack, harness string
	}{{4, OptStack4, OptHarness4}, {6, OptStack6, OptHarness6}} {
		if err := net.Set(f.family, opts[f.stack], opts[f.harness]); err != nil {
			return nil, fmt.Errorf("-%s, -%s: %v", f.stack, f.harness, err)
		}
	}
	if _, err := net.Expand(argv, 1); err != nil {
		return nil, fmt.Errorf("-%s: %v", OptCommand, err)
	}
	return Target{cmd: agent.Command{Name: "agent", Argv: argv, Net: net}}, nil
}

// Available implements targets.Target: the program must exist.
func (t Target) Available() error {
	if len(t.cmd.Argv) == 0 {
		return fmt.Errorf("%w: give the agent's command line with -%s", targets.ErrUnavailable, OptCommand)
	}
	if _, err := exec.LookPath(t.cmd.Argv[0]); err != nil {
		return fmt.Errorf("%w: %v", targets.ErrUnavailable, err)
	}
	return nil
}

// Command implements agent.Commander.
func (t Target) Command() (agent.Command, error) { return t.cmd, t.Available() }

// New implements targets.Target: it starts a fresh agent.
func (t Target) New(ctx context.Context, cfg targets.Config) (targets.Instance, error) {
	if err := t.Available(); err != nil {
		return nil, err
	}
	return t.cmd.New(ctx, cfg)
}
