package injector_test

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// The pcap holds both directions as raw IP, stamped with the instance clock:
// a SYN,ACK that is never acknowledged is retransmitted one virtual second
// later, and the file says so.
func TestPcapHasBothDirectionsOnTheInstanceClock(t *testing.T) {
	inst, err := netstack(t).New(context.Background(), targets.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	fd, err := inst.Sockets().Socket(syscall.AF_INET, syscall.SOCK_STREAM, syscall.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	p := injector.NewPeer(inst, injector.IPv4)
	if err := inst.Sockets().Bind(fd, netipPort(p, 8080)); err != nil {
		t.Fatal(err)
	}
	if err := inst.Sockets().Listen(fd, 4); err != nil {
		t.Fatal(err)
	}
	c := p.Dial(8080)
	ctx := context.Background()
	if _, err := c.TrySend(wire.SYN); err != nil {
		t.Fatal(err)
	}
	first, err := c.TryExpect(ctx, BeSegment(Flags(wire.SYN|wire.ACK)))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.TryExpectAfter(ctx, time.Second, BeSegment(Flags(wire.SYN|wire.ACK)))
	if err != nil {
		t.Fatal(err)
	}
	if d := again.At - first.At; d != time.Second {
		t.Errorf("retransmission after %v of instance time, want 1s", d)
	}

	b, err := p.Recorder().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeRaw {
		t.Errorf("link type %v, want raw IP", r.LinkType())
	}
	var stamps []time.Time
	var flags []wire.Flags
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		s, err := wire.Decode(data)
		if err != nil {
			t.Fatalf("packet %d: %v", len(flags), err)
		}
		stamps = append(stamps, ci.Timestamp)
		flags = append(flags, s.Flags)
	}
	if len(flags) != 3 || flags[0] != wire.SYN || flags[1] != wire.SYN|wire.ACK || flags[2] != wire.SYN|wire.ACK {
		t.Fatalf("pcap holds %v, want S, S., S.", flags)
	}
	if d := stamps[2].Sub(stamps[1]); d != time.Second {
		t.Errorf("pcap timestamps %v apart, want 1s", d)
	}
	if !stamps[0].Equal(stamps[1]) {
		t.Errorf("the SYN,ACK is stamped %v after the SYN on a virtual clock; want 0", stamps[1].Sub(stamps[0]))
	}
}
