package lwip

import (
	"syscall"
	"testing"

	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent"
	"github.com/tcpconform/tcpconform/targets/agent/agenttest"
)

// An agent killed in the middle of a case (SIGKILL) fails that case with
// the reason, its process group is gone, and the next case gets a fresh
// agent and passes.
func TestKilledAgentFailsOnlyItsCase(t *testing.T) {
	newInstance(t) // skips where lwIP is missing, builds the agent
	agenttest.KilledStackFailsOnlyItsCase(t, Target{}, func(in targets.Instance) (int, error) {
		pid := in.(*agent.Instance).A.Pid()
		return pid, syscall.Kill(pid, syscall.SIGKILL)
	}, "the target failed: lwip")
}
