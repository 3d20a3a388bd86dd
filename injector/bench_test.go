package injector_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/suites"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// BenchmarkRoundTrip measures one inject→reply exchange through the peer: a
// SYN to a closed port, encoded, injected, answered, captured, decoded and
// matched.
func BenchmarkRoundTrip(b *testing.B) {
	inst, err := netstack(b).New(context.Background(), targets.Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer inst.Close()
	p := injector.NewPeer(inst, injector.IPv4)
	m := BeSegment(Flags(wire.RST | wire.ACK))
	ctx := context.Background()
	for b.Loop() {
		c := p.Dial(9)
		if _, err := c.TrySend(wire.SYN); err != nil {
			b.Fatal(err)
		}
		if _, err := c.TryExpect(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTimeWaitCase runs the whole active-close case, whose TIME-WAIT
// lasts 60 s of virtual time, on a fresh instance each time.
func BenchmarkTimeWaitCase(b *testing.B) {
	var c *injector.Case
	for _, k := range suites.Cases() {
		if k.Family == injector.IPv4 && strings.Contains(strings.Join(k.Labels, " "), "T106") {
			c = k
		}
	}
	if c == nil {
		b.Fatal("no TIME-WAIT case (label T106)")
	}
	tgt := netstack(b)
	for b.Loop() {
		if r := injector.Run(context.Background(), tgt, c, injector.RunOptions{Seed: 1}); r.Outcome != injector.Passed {
			b.Fatalf("%v: %s", r.Outcome, r.Message)
		}
	}
}
