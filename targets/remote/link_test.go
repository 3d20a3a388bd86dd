package remote

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/ether"
	"github.com/tcpconform/tcpconform/targets/remote/vethlab"
	"github.com/tcpconform/tcpconform/wire"
)

// newLab gives a test a veth lab, closed (and checked gone) at its end; it
// skips where namespaces cannot be made.
func newLab(t testing.TB) *vethlab.Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a veth lab needs root (network namespaces)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("a veth lab needs iproute2's ip command")
	}
	lab, err := vethlab.Up()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		lab.Close()
		if !lab.Gone() {
			t.Errorf("namespaces %s, %s left after Close", lab.Harness, lab.Device)
		}
	})
	return lab
}

// The link over a veth: the device's own kernel, with a listener in its
// namespace, answers a SYN in each family once the harness has learned its
// MAC by ARP and answered its neighbour solicitation; an echo fence
// returns well within its second; and data the device sends arrives as a
// wire carries it (no segment over the MTU, every checksum right).
func TestLinkOverVeth(t *testing.T) {
	lab := newLab(t)
	if err := lab.AddressDevice(); err != nil {
		t.Fatal(err)
	}
	ad := targets.DocumentationAddrs
	var lns []net.Listener
	err := lab.InDevice(func() error {
		for _, a := range []netip.Addr{ad.Local4, ad.Local6} {
			ln, err := net.Listen("tcp", netip.AddrPortFrom(a, 8080).String())
			if err != nil {
				return err
			}
			lns = append(lns, ln)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ps *packetSocket
	if err := lab.InHarness(func() (err error) { ps, err = openPacketSocket(vethlab.HarnessIface); return }); err != nil {
		t.Fatal(err)
	}
	l := ether.New(ps, ether.Config{Name: "test", MAC: DefaultMAC, Stack4: ad.Local4, Stack6: ad.Local6, Own4: ad.Peer4, Own6: ad.Peer6,
		Claim: func(a netip.Addr) bool { return a == ad.Peer4 || a == ad.Peer6 }})
	defer l.Close()
	got := make(chan []byte, 256)
	go func() {
		b := make([]byte, 65536)
		for {
			n, err := l.ReadPacket(b)
			if err != nil {
				return
			}
			got <- append([]byte(nil), b[:n]...)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	mac, err := l.Resolve(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("device at %v", mac)

	// nextSeg waits for the next TCP segment from the device.
	nextSeg := func() (wire.Segment, bool) {
		t.Helper()
		for {
			select {
			case b := <-got:
				seg, err := wire.Decode(b)
				if err != nil {
					t.Errorf("from the device: %v (%d bytes)", err, len(b))
					continue
				}
				return seg, true
			case <-time.After(2 * time.Second):
				return wire.Segment{}, false
			}
		}
	}
	for i, pair := range [][2]netip.Addr{{ad.Peer4, ad.Local4}, {ad.Peer6, ad.Local6}} {
		peer, local := pair[0], pair[1]
		port := uint16(40000 + i)
		send := func(s wire.Segment) {
			t.Helper()
			s.IP = wire.IP{Src: peer, Dst: local, TTL: 64}
			s.SrcPort, s.DstPort, s.Window = port, 8080, 65535
			b, err := wire.Encode(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.WritePacket(b); err != nil {
				t.Fatal(err)
			}
		}
		send(wire.Segment{Seq: 1000, Flags: wire.SYN, Options: []wire.Option{wire.MSS(1460)}})
		synack, ok := nextSeg()
		if !ok || synack.Flags != wire.SYN|wire.ACK || synack.Ack != 1001 || synack.SrcPort != 8080 || synack.DstPort != port {
			t.Fatalf("%v: got %v (%v), want a SYN-ACK acking 1001", local, synack, ok)
		}
		begin := time.Now()
		l.Barrier()
		if d := time.Since(begin); d > 500*time.Millisecond {
			t.Errorf("%v: the echo fence took %v: no echo reply", local, d)
		}
		send(wire.Segment{Seq: 1001, Ack: synack.Seq + 1, Flags: wire.ACK})
		c, err := lns[i].Accept()
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, 20000)
		if _, err := c.Write(data); err != nil {
			t.Fatal(err)
		}
		var n int
		for {
			seg, ok := nextSeg()
			if !ok {
				break
			}
			if len(seg.Payload) > 1500-40 {
				t.Errorf("%v: a segment of %d bytes: the link offloads segmentation", local, len(seg.Payload))
			}
			n += len(seg.Payload)
			if n >= 10*1400 { // the initial window's worth
				break
			}
		}
		if n < 10*1400 {
			t.Errorf("%v: %d bytes of data arrived, want the initial window's", local, n)
		}
		c.Close()
		send(wire.Segment{Seq: 1001, Flags: wire.RST})
	}
}
