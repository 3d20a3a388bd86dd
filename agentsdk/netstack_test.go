package agentsdk_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/tcpconform/tcpconform/agentsdk"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent"
	"github.com/tcpconform/tcpconform/targets/agent/agenttest"
	"github.com/tcpconform/tcpconform/targets/netstack"
)

// childEnv makes the test binary an agent: gVisor's stack (the netstack
// target) served by agentsdk on stdin, stdout and fd 3.
const childEnv = "TCPCONFORM_AGENTSDK_TEST_AGENT"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "netstack" {
		os.Exit(serveNetstack())
	}
	os.Exit(m.Run())
}

// netstackBackend is a targets.Instance seen as an agentsdk backend: its
// sockets and link, its states, and its clock's Settle.
type netstackBackend struct {
	targets.Sockets
	targets.Link
	in targets.Instance
}

func (b netstackBackend) State(t targets.Tuple) (state.State, bool) { return b.in.State(t) }
func (b netstackBackend) Settle()                                   { b.in.Clock().Settle() }

func serveNetstack() int {
	in, err := netstack.Target{}.New(context.Background(), targets.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer in.Close()
	b := netstackBackend{Sockets: in.Sockets(), Link: in.Link(), in: in}
	err = agentsdk.Serve(os.Stdin, os.Stdout, b, agentsdk.Options{
		Stack: "netstack", Version: "test", IPv4: true, IPv6: true, Packets: os.NewFile(3, "packets"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// The harness's own agent client drives gVisor through agentsdk: packets
// on the packet channel, settle, states and a blocking accept, as it drives
// the lwIP and UML agents.
func TestNetstackThroughTheSDK(t *testing.T) {
	agenttest.SynGetsSynAck(t, func(t *testing.T) targets.Instance {
		t.Setenv(childEnv, "netstack")
		a, err := agent.Start(context.Background(), agent.Spec{Name: "netstack through agentsdk", Path: os.Args[0]})
		if err != nil {
			t.Fatal(err)
		}
		if h := a.Hello(); !h.Has("settle") || !h.Has("state") {
			t.Errorf("hello %+v lacks settle or state", h)
		}
		in := agent.NewInstance(a, netstackAddrs(t), targets.Capabilities{IPv4: true, IPv6: true, State: true, SynReceivedState: true})
		t.Cleanup(func() { in.Close() })
		return in
	})
}

// netstackAddrs are the addresses of a netstack instance.
func netstackAddrs(t *testing.T) targets.Addrs {
	in, err := netstack.Target{}.New(context.Background(), targets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	return in.Addrs()
}
