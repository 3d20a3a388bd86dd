package agent

import (
	"context"
	"errors"
	"reflect"
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

func TestExpand(t *testing.T) {
	got, err := DocumentationNet.Expand([]string{"agent", "{addr4}/{prefix4}", "{peer4}", "{addr6}", "{prefix6}", "{peer6}", "{seed}", "{x"}, 1<<32+7)
	want := []string{"agent", "192.0.2.1/24", "192.0.2.2", "2001:db8::1", "64", "2001:db8::2", "7", "{x"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Expand = %q, %v; want %q", got, err, want)
	}
	if got, _ := DocumentationNet.Expand([]string{"{seed}"}, 0); got[0] != "1" {
		t.Errorf("seed 0 expands to %q, want 1", got[0])
	}
	if _, err := DocumentationNet.Expand([]string{"{adr4}"}, 1); err == nil {
		t.Error("a misspelt placeholder was accepted")
	}
}

func TestNetSet(t *testing.T) {
	n := DocumentationNet
	if err := n.Set(4, "10.0.0.5/16", "10.0.9.9"); err != nil {
		t.Fatal(err)
	}
	if n.Local4.String() != "10.0.0.5" || n.Peer4.String() != "10.0.9.9" || n.Prefix4 != 16 || n.Local6 != DocumentationNet.Local6 {
		t.Errorf("parsed %+v", n)
	}
	if err := n.Set(4, "10.0.0.7", ""); err != nil || n.Prefix4 != 16 || n.Peer4.String() != "10.0.9.9" {
		t.Errorf("parsed %+v, %v", n, err)
	}
	if err := n.Set(6, "fd00::1/64", "fd00::2"); err != nil || n.Prefix6 != 64 || n.Peer6.String() != "fd00::2" {
		t.Errorf("parsed %+v, %v", n, err)
	}
	if err := n.Set(6, "none", ""); err != nil || n.Local6.IsValid() {
		t.Errorf("parsed %+v, %v", n, err)
	}
	if got, err := n.Expand([]string{"{addr6}", "{prefix6}", "{peer6}"}, 1); err != nil || !reflect.DeepEqual(got, []string{"-", "-", "-"}) {
		t.Errorf("without IPv6: %q, %v", got, err)
	}
	for _, bad := range []struct {
		family      int
		stack, peer string
	}{
		{4, "10.0.0.1/24", ""}, {4, "10.0.0.1/33", "10.0.0.2"}, {4, "10.0.0.1/24", "10.0.1.2"},
		{4, "10.0.0.1/24", "10.0.0.1"}, {4, "fd00::1/64", "fd00::2"}, {6, "10.0.0.1/24", "10.0.0.2"}, {6, "fd00::1/64", "x"},
	} {
		if err := n.Set(bad.family, bad.stack, bad.peer); err == nil {
			t.Errorf("Set(%d, %q, %q) accepted", bad.family, bad.stack, bad.peer)
		}
	}
}
