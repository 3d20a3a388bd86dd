package lwip

import (
	"context"
	"strings"
	"syscall"
	"testing"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/targets/agent"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// An agent killed in the middle of a case (SIGKILL) fails that case with
// the reason, its process group is gone, and the next case gets a fresh
// agent and passes.
func TestKilledAgentFailsOnlyItsCase(t *testing.T) {
	newInstance(t) // skips where lwIP is missing, builds the agent
	var pid int
	killed := &injector.Case{Name: "agent killed mid-case", Family: injector.IPv4, Location: "killed_test.go:1",
		Run: func(tt *injector.T) {
			lfd := tt.Listen(8080)
			c := tt.Dial(8080)
			c.Send(wire.SYN)
			c.Expect(BeSegment(Flags(wire.SYN | wire.ACK)))
			pid = tt.Peer().Instance().(*agent.Instance).A.Pid()
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				tt.Errorf("kill %d: %v", pid, err)
			}
			c.Send(wire.ACK)
			tt.Accept(lfd)
		}}
	res := injector.Run(context.Background(), Target{}, killed, injector.RunOptions{})
	t.Logf("%v: %s", res.Outcome, res.Message)
	// Whichever step meets the dead agent first (the ACK's injection or
	// accept) fails the case, naming the agent's end.
	if res.Outcome != injector.Failed || !strings.Contains(res.Message, "the target failed: lwip") {
		t.Errorf("killed agent: %v %q", res.Outcome, res.Message)
	}
	if err := syscall.Kill(-pid, 0); err != syscall.ESRCH {
		t.Errorf("the agent's process group %d is still there (%v)", pid, err)
	}
	next := &injector.Case{Name: "handshake after", Family: injector.IPv4, Location: "killed_test.go:2",
		Run: func(tt *injector.T) {
			tt.Listen(8080)
			c := tt.Dial(8080)
			c.Send(wire.SYN)
			c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Ack(1)))
		}}
	if res := injector.Run(context.Background(), Target{}, next, injector.RunOptions{}); res.Outcome != injector.Passed {
		t.Errorf("the next case: %v %q", res.Outcome, res.Message)
	}
}
