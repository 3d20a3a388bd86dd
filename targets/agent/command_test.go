package agent

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/targets"
)

// fakeCommand is an agent that says hello with the given features, then
// the word its last argument became, and waits for stdin to close.
func fakeCommand(features string) Command {
	return Command{Name: "fake", Net: DocumentationNet, Argv: []string{"/bin/sh", "-c",
		`echo "hello tcpconform-agent 1 fake 0 ` + features + ` $1"; cat >/dev/null`, "sh", "at-{addr4}-{seed}"}}
}

func TestCommandCapabilitiesFromHello(t *testing.T) {
	for _, tc := range []struct {
		features string
		want     targets.Capabilities
		tcpinfo  bool
	}{
		{"ipv4", targets.Capabilities{IPv4: true}, false},
		{"ipv4 state", targets.Capabilities{IPv4: true, State: true}, false},
		{"ipv6 syn-received", targets.Capabilities{IPv6: true}, false},
		{"ipv4 ipv6 state syn-received tcpinfo", targets.Capabilities{IPv4: true, IPv6: true, State: true, SynReceivedState: true}, true},
	} {
		in, err := fakeCommand(tc.features).New(context.Background(), targets.Config{Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		if got := in.Capabilities(); got != tc.want {
			t.Errorf("%q: capabilities %+v, want %+v", tc.features, got, tc.want)
		}
		if _, ok := in.(targets.TCPInfo); ok != tc.tcpinfo {
			t.Errorf("%q: TCP_INFO %v, want %v", tc.features, ok, tc.tcpinfo)
		}
		var a *Agent
		switch x := in.(type) {
		case *Instance:
			a = x.A
		case TCPInfoInstance:
			a = x.A
		}
		if !slices.Contains(a.Hello().Features, "at-192.0.2.1-9") {
			t.Errorf("%q: the placeholders were not filled in: hello %q", tc.features, a.Hello().Features)
		}
		in.Close()
	}
}

func TestCommandRefusesWhatTheProtocolCannotSet(t *testing.T) {
	c := fakeCommand("ipv4")
	for _, cfg := range []targets.Config{{TimeWait: time.Second}, {MTU: 9000}, {GROSize: 1000}} {
		if in, err := c.New(context.Background(), cfg); !errors.Is(err, targets.ErrUnsupported) {
			if in != nil {
				in.Close()
			}
			t.Errorf("%+v: %v, want ErrUnsupported", cfg, err)
		}
	}
	c.Argv = append(c.Argv, "{nope}")
	if _, err := c.New(context.Background(), targets.Config{}); err == nil {
		t.Error("an unknown placeholder was accepted")
	}
}
