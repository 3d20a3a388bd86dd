package injector_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/script"
)

// ipv6SYN is an active open over IPv6 whose SYN must offer an MSS of 1460:
// what an MTU of 1520 gives (1520 - 40 - 20).
const ipv6SYN = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <...>
`

func runV6(t *testing.T, src string, o injector.ScriptOptions) (injector.Result, error) {
	t.Helper()
	f, err := script.Parse("t.pkt", []byte(src), script.ParseOptions{})
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	mode := injector.IPModeV6
	o.IP = &mode
	c, err := injector.ScriptCase(f, o)
	if err != nil {
		return injector.Result{}, err
	}
	return injector.Run(context.Background(), netstack(t), c, injector.RunOptions{Verbose: true}), nil
}

// The header's --mtu, or the command line's MTU over it, is the netstack
// link's MTU, which the SYN's MSS follows; an MTU out of range is the
// script's error.
func TestScriptMTU(t *testing.T) {
	syn := strings.Replace(ipv6SYN, "<...>", "<mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 7>", 1)
	mtu1500 := []*script.Option{{Name: "mtu", Value: "1500", HasValue: true}}
	for _, c := range []struct {
		name, src string
		o         injector.ScriptOptions
		outcome   injector.Outcome
	}{
		{"header", "--mtu=1520\n" + syn, injector.ScriptOptions{}, injector.Passed},
		{"none", syn, injector.ScriptOptions{}, injector.Failed},
		{"command line wins", "--mtu=1520\n" + syn, injector.ScriptOptions{CommandLine: mtu1500}, injector.Failed},
	} {
		r, err := runV6(t, c.src, c.o)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if r.Outcome != c.outcome {
			t.Errorf("%s: %v, want %v: %s\n%s", c.name, r.Outcome, c.outcome, r.Message, r.Log)
		}
	}
	if _, err := runV6(t, "--mtu=70000\n"+ipv6SYN, injector.ScriptOptions{}); err == nil || !strings.Contains(err.Error(), "t.pkt:1") {
		t.Errorf("--mtu=70000: %v", err)
	}
}

// netstack cannot merge injected segments as a receive offload: --mss skips.
func TestScriptMSSSkipsOnNetstack(t *testing.T) {
	r, err := runV6(t, "--mss=1000\n"+ipv6SYN, injector.ScriptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != injector.Skipped || !strings.Contains(r.Message, "receive offload") {
		t.Errorf("%v: %s", r.Outcome, r.Message)
	}
}
