package ether

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// pipe is a Frames carrier whose far end the test plays: frames written by
// the link arrive on out, frames put on in are read by it.
type pipe struct {
	in, out chan []byte
	done    chan struct{}
}

func newPipe() *pipe {
	return &pipe{in: make(chan []byte, 16), out: make(chan []byte, 16), done: make(chan struct{})}
}

func (p *pipe) ReadFrame(b []byte) (int, error) {
	select {
	case f := <-p.in:
		return copy(b, f), nil
	case <-p.done:
		return 0, errors.New("closed")
	}
}

func (p *pipe) WriteFrame(f []byte) error {
	p.out <- append([]byte(nil), f...)
	return nil
}

func (p *pipe) Close() error { close(p.done); return nil }

var (
	usMAC    = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	stackMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
	stack4   = netip.MustParseAddr("192.0.2.1")
	own4     = netip.MustParseAddr("192.0.2.2")
	stack6   = netip.MustParseAddr("2001:db8::1")
	own6     = netip.MustParseAddr("2001:db8::2")
)

// newLink returns a link that claims only the harness's own addresses and
// learns the stack's MAC, with a goroutine reading IP packets into got.
func newLink(t *testing.T) (*Link, *pipe, chan []byte) {
	p := newPipe()
	l := New(p, Config{Name: "test", MAC: usMAC, Stack4: stack4, Stack6: stack6, Own4: own4, Own6: own6,
		Claim: func(a netip.Addr) bool { return a == own4 || a == own6 }})
	got := make(chan []byte, 16)
	go func() {
		b := make([]byte, 2048)
		for {
			n, err := l.ReadPacket(b)
			if err != nil {
				return
			}
			got <- append([]byte(nil), b[:n]...)
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l, p, got
}

func frame(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func next(t *testing.T, c chan []byte) gopacket.Packet {
	t.Helper()
	select {
	case f := <-c:
		return gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	case <-time.After(time.Second):
		t.Fatal("nothing arrived")
		return nil
	}
}

func arpRequest(t *testing.T, target netip.Addr) []byte {
	return frame(t, &layers.Ethernet{SrcMAC: stackMAC, DstMAC: broadcast, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: stackMAC, SourceProtAddress: stack4.AsSlice(),
			DstHwAddress: make([]byte, 6), DstProtAddress: target.AsSlice()})
}

// The harness answers ARP for its own address only, from its MAC, and
// learns the stack's MAC from the request.
func TestARP(t *testing.T) {
	l, p, _ := newLink(t)
	p.in <- arpRequest(t, netip.MustParseAddr("192.0.2.9")) // someone else's
	p.in <- arpRequest(t, own4)
	pk := next(t, p.out)
	eth := pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	arp, ok := pk.Layer(layers.LayerTypeARP).(*layers.ARP)
	if !ok || arp.Operation != layers.ARPReply || eth.DstMAC.String() != stackMAC.String() ||
		net.HardwareAddr(arp.SourceHwAddress).String() != usMAC.String() || net.IP(arp.SourceProtAddress).String() != own4.String() {
		t.Fatalf("reply %v, want %v is-at %v to %v", pk, own4, usMAC, stackMAC)
	}
	select {
	case f := <-p.out:
		t.Errorf("an answer for another station's address: %x", f)
	default:
	}
	if got := l.StackMAC(); got.String() != stackMAC.String() {
		t.Errorf("learned %v, want %v", got, stackMAC)
	}
}

// A neighbour solicitation for the harness's IPv6 address is answered;
// neighbour discovery never reaches the stack's packet channel, other IPv6
// to the harness does, and IP to another MAC does not.
func TestNDPAndIP(t *testing.T) {
	_, p, got := newLink(t)
	ip6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolICMPv6, HopLimit: 255, SrcIP: stack6.AsSlice(), DstIP: net.ParseIP("ff02::1:ff00:2")}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
	icmp.SetNetworkLayerForChecksum(ip6)
	p.in <- frame(t, &layers.Ethernet{SrcMAC: stackMAC, DstMAC: net.HardwareAddr{0x33, 0x33, 0xff, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv6},
		ip6, icmp, &layers.ICMPv6NeighborSolicitation{TargetAddress: own6.AsSlice()})
	pk := next(t, p.out)
	na, ok := pk.Layer(layers.LayerTypeICMPv6NeighborAdvertisement).(*layers.ICMPv6NeighborAdvertisement)
	if !ok || net.IP(na.TargetAddress).String() != own6.String() || len(na.Options) != 1 || net.HardwareAddr(na.Options[0].Data).String() != usMAC.String() {
		t.Fatalf("got %v, want a neighbour advertisement of %v at %v", pk, own6, usMAC)
	}
	tcp := func(dst net.HardwareAddr) []byte {
		ip := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64, SrcIP: stack6.AsSlice(), DstIP: own6.AsSlice()}
		seg := &layers.TCP{SrcPort: 80, DstPort: 40000, SYN: true, ACK: true}
		seg.SetNetworkLayerForChecksum(ip)
		return frame(t, &layers.Ethernet{SrcMAC: stackMAC, DstMAC: dst, EthernetType: layers.EthernetTypeIPv6}, ip, seg)
	}
	p.in <- tcp(net.HardwareAddr{0x02, 0, 0, 0, 0, 0x09})
	p.in <- tcp(usMAC)
	passedOnceOnly(t, got, "the 60-byte IPv6 TCP datagram to the harness's MAC", func(b []byte) bool {
		return len(b) == 60 && b[0]>>4 == 6 && b[6] == 6
	})
}

// Resolve asks by ARP and returns the MAC the stack answers with; packets
// then go to it.
func TestResolveAndWrite(t *testing.T) {
	l, p, _ := newLink(t)
	if err := l.WritePacket([]byte{0x45}); err == nil {
		t.Error("a packet was written before the stack's MAC was known")
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := l.Resolve(ctx)
		done <- err
	}()
	req := next(t, p.out).Layer(layers.LayerTypeARP).(*layers.ARP)
	if req.Operation != layers.ARPRequest || net.IP(req.DstProtAddress).String() != stack4.String() {
		t.Fatalf("got %v, want a request for %v", req, stack4)
	}
	p.in <- frame(t, &layers.Ethernet{SrcMAC: stackMAC, DstMAC: usMAC, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPReply, SourceHwAddress: stackMAC, SourceProtAddress: stack4.AsSlice(),
			DstHwAddress: usMAC, DstProtAddress: own4.AsSlice()})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for len(p.out) > 0 { // further requests sent while waiting
		<-p.out
	}
	pkt := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1}
	if err := l.WritePacket(pkt); err != nil {
		t.Fatal(err)
	}
	f := <-p.out
	if net.HardwareAddr(f[0:6]).String() != stackMAC.String() || net.HardwareAddr(f[6:12]).String() != usMAC.String() || f[12] != 0x08 || f[13] != 0 || string(f[14:]) != string(pkt) {
		t.Errorf("frame %x, want %v <- %v, IPv4, the packet", f, stackMAC, usMAC)
	}
}

// A datagram the stack sends to the broadcast address reaches the harness,
// as it reaches every station on the segment; another station's does not.
func TestBroadcastFromStack(t *testing.T) {
	_, p, got := newLink(t)
	p.in <- arpRequest(t, own4) // learn the stack's MAC
	<-p.out
	tcp := func(src net.HardwareAddr) []byte {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: stack4.AsSlice(), DstIP: net.IPv4(192, 0, 2, 255)}
		seg := &layers.TCP{SrcPort: 80, DstPort: 40000, SYN: true, ACK: true}
		seg.SetNetworkLayerForChecksum(ip)
		return frame(t, &layers.Ethernet{SrcMAC: src, DstMAC: broadcast, EthernetType: layers.EthernetTypeIPv4}, ip, seg)
	}
	p.in <- tcp(net.HardwareAddr{0x02, 0, 0, 0, 0, 0x09})
	p.in <- tcp(stackMAC)
	passedOnceOnly(t, got, "the stack's datagram to 192.0.2.255", func(b []byte) bool {
		return len(b) == 40 && b[19] == 255
	})
}

// passedOnceOnly checks that the one datagram passed on is want's, and
// that nothing else follows it.
func passedOnceOnly(t *testing.T, got <-chan []byte, what string, want func([]byte) bool) {
	t.Helper()
	select {
	case b := <-got:
		if !want(b) {
			t.Errorf("passed on %x, want %s", b, what)
		}
	case <-time.After(time.Second):
		t.Fatalf("%s was not passed on", what)
	}
	select {
	case b := <-got:
		t.Errorf("also passed on %x", b)
	case <-time.After(50 * time.Millisecond):
	}
}
