package ether

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// arp answers a request for an address the harness claims, and learns the
// stack's MAC from anything the stack says in ARP (RFC 826: a station
// merges the sender's pair from every packet).
func (l *Link) arp(dst net.HardwareAddr, b []byte) {
	p := gopacket.NewPacket(b, layers.LayerTypeARP, gopacket.NoCopy)
	arp, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP)
	if !ok || len(arp.DstProtAddress) != 4 || len(arp.SourceProtAddress) != 4 || len(arp.SourceHwAddress) != 6 {
		return
	}
	if from, _ := netip.AddrFromSlice(arp.SourceProtAddress); l.isStack(from) {
		l.learn(arp.SourceHwAddress)
	}
	target, _ := netip.AddrFromSlice(arp.DstProtAddress)
	if arp.Operation != layers.ARPRequest || !l.cfg.Claim(target) ||
		(string(dst) != string(broadcast) && string(dst) != string(l.cfg.MAC)) {
		return
	}
	reply := &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPReply,
		SourceHwAddress: l.cfg.MAC, SourceProtAddress: arp.DstProtAddress,
		DstHwAddress: arp.SourceHwAddress, DstProtAddress: arp.SourceProtAddress,
	}
	l.serialize(net.HardwareAddr(arp.SourceHwAddress), typeARP, reply)
}

// ndp answers a neighbour solicitation for an address the harness claims,
// learns the stack's MAC from its solicitations and advertisements, and
// reports whether b was neighbour discovery at all (which the harness
// never passes on).
func (l *Link) ndp(src net.HardwareAddr, b []byte) bool {
	p := gopacket.NewPacket(b, layers.LayerTypeIPv6, gopacket.NoCopy)
	icmp, ok := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
	if !ok {
		return false
	}
	if t := icmp.TypeCode.Type(); t < layers.ICMPv6TypeRouterSolicitation || t > layers.ICMPv6TypeRedirect {
		return false
	}
	ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	from, _ := netip.AddrFromSlice(ip.SrcIP)
	if l.isStack(from) {
		l.learn(src)
	}
	if na, ok := p.Layer(layers.LayerTypeICMPv6NeighborAdvertisement).(*layers.ICMPv6NeighborAdvertisement); ok {
		if target, _ := netip.AddrFromSlice(na.TargetAddress); l.isStack(target) {
			l.learn(src)
		}
		return true
	}
	ns, ok := p.Layer(layers.LayerTypeICMPv6NeighborSolicitation).(*layers.ICMPv6NeighborSolicitation)
	if !ok {
		return true
	}
	target, _ := netip.AddrFromSlice(ns.TargetAddress)
	if !l.cfg.Claim(target) || from.IsUnspecified() {
		return true // not ours, or a station checking its own address (RFC 4862)
	}
	ip6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolICMPv6, HopLimit: 255, SrcIP: ns.TargetAddress, DstIP: ip.SrcIP}
	reply := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)}
	reply.SetNetworkLayerForChecksum(ip6)
	na := &layers.ICMPv6NeighborAdvertisement{
		Flags:         0x60, // solicited, override
		TargetAddress: ns.TargetAddress,
		Options:       layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: l.cfg.MAC}},
	}
	l.serialize(src, typeIPv6, ip6, reply, na)
	return true
}

// Resolve learns the stack's MAC address, asking by ARP (or, for a stack
// with no IPv4 address, by neighbour solicitation) until it answers or ctx
// ends.
func (l *Link) Resolve(ctx context.Context) (net.HardwareAddr, error) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := l.solicit(); err != nil {
			return nil, err
		}
		select {
		case <-l.learned:
			return l.StackMAC(), nil
		case <-ctx.Done():
			who := l.cfg.Stack4
			if !who.IsValid() {
				who = l.cfg.Stack6
			}
			return nil, fmt.Errorf("%s: no answer from %s to address resolution: %w", l.cfg.Name, who, ctx.Err())
		case <-tick.C:
		}
	}
}

// solicit asks once for the stack's MAC address.
func (l *Link) solicit() error {
	if l.cfg.Stack4.IsValid() && l.cfg.Own4.IsValid() {
		req := &layers.ARP{
			AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
			SourceHwAddress: l.cfg.MAC, SourceProtAddress: l.cfg.Own4.AsSlice(),
			DstHwAddress: make([]byte, 6), DstProtAddress: l.cfg.Stack4.AsSlice(),
		}
		return l.serialize(broadcast, typeARP, req)
	}
	if !l.cfg.Stack6.IsValid() || !l.cfg.Own6.IsValid() {
		return fmt.Errorf("%s: no address pair to resolve the stack's MAC address by", l.cfg.Name)
	}
	// The solicited-node multicast group of the target (RFC 4291 section
	// 2.7.1) and its Ethernet mapping (RFC 2464 section 7).
	t := l.cfg.Stack6.As16()
	group := netip.AddrFrom16([16]byte{0xff, 0x02, 11: 1, 12: 0xff, 13: t[13], 14: t[14], 15: t[15]})
	ip6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolICMPv6, HopLimit: 255, SrcIP: l.cfg.Own6.AsSlice(), DstIP: group.AsSlice()}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
	icmp.SetNetworkLayerForChecksum(ip6)
	ns := &layers.ICMPv6NeighborSolicitation{
		TargetAddress: l.cfg.Stack6.AsSlice(),
		Options:       layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: l.cfg.MAC}},
	}
	to := net.HardwareAddr{0x33, 0x33, 0xff, t[13], t[14], t[15]}
	return l.serialize(to, typeIPv6, ip6, icmp, ns)
}

// serialize writes the layers, behind an Ethernet header to the given
// station, with lengths and checksums filled in.
func (l *Link) serialize(to net.HardwareAddr, typ uint16, ls ...gopacket.SerializableLayer) error {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		return err
	}
	return l.send(to, typ, buf.Bytes())
}
