// Package agentcmd is the target "agent": any program that speaks the
// stack-agent protocol (docs/agent-protocol.md), given on the command line
// with -agent-cmd 'PROG ARGS'. Each instance is a fresh process started from
// that command line, its placeholders ({addr4}, {seed}, ...; see
// agent.Net.Expand) filled in; its capabilities are what its hello
// announces. The lwIP target starts its agent the same way (agent.Command).
package agentcmd

import (
	"context"
	"fmt"
	"os/exec"

	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent"
)

func init() { targets.Register(Target{}) }

// Option names (cmd/tcpconform's target option flags).
const (
	OptCommand = "agent-cmd"
	OptAddr4   = "addr4"
	OptAddr6   = "addr6"
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
// -addr4 and -addr6 ("ADDR/LEN,PEER") replace the documentation addresses.
func (Target) Configure(opts targets.Options) (targets.Target, error) {
	if err := opts.Unknown("agent", OptCommand, OptAddr4, OptAddr6); err != nil {
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
	for _, o := range []struct {
		name   string
		family int
	}{{OptAddr4, 4}, {OptAddr6, 6}} {
		if v := opts[o.name]; v != "" {
			if err := net.Parse(o.family, v); err != nil {
				return nil, fmt.Errorf("-%s: %v", o.name, err)
			}
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
