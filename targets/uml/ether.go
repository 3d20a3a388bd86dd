package uml

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/tcpconform/tcpconform/targets"
)

// The guest's NIC and the harness's side of the virtual wire. Both are
// locally administered unicast addresses (IEEE 802: bit 1 of the first
// octet), so they can clash with no real card.
var (
	guestMAC   = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	harnessMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
)

// ethernet is the guest's Ethernet segment as the harness sees it: UML's vector
// driver ("bess" transport) connects to a unix SOCK_SEQPACKET socket the
// harness listens on and sends one Ethernet frame per message. ethernet turns
// that into the agent package's packet channel of raw IP datagrams. It
// answers the guest's ARP requests and IPv6 neighbour solicitations for every
// address but the guest's own, as the one neighbour on the segment (RFC 826,
// RFC 4861 section 7.2.4), so that any peer address the harness picks is
// reachable.
type ethernet struct {
	ln    *net.UnixListener
	path  string
	guest [2]netip.Addr // the guest's own IPv4 and IPv6 address

	ready  chan struct{} // closed once the guest has connected
	conn   *net.UnixConn
	done   chan struct{}
	once   sync.Once
	cmu    sync.Mutex // guards conn's arrival against closed
	closed bool
	wmu    sync.Mutex

	// The barrier: written counts the packets the harness wrote; fenced
	// is how many of them an echo reply has since shown processed.
	written, fenced atomic.Uint64
	bmu             sync.Mutex // one barrier at a time
	echoSeq         uint16
	echoed          chan uint16 // echo replies' sequence numbers
}

func listenEthernet(path string, guest4, guest6 netip.Addr) (*ethernet, error) {
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, err
	}
	w := &ethernet{ln: ln, path: path, guest: [2]netip.Addr{guest4, guest6}, ready: make(chan struct{}), done: make(chan struct{}), echoed: make(chan uint16, 16)}
	go func() {
		c, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		w.cmu.Lock()
		defer w.cmu.Unlock()
		if w.closed {
			c.Close()
			return
		}
		w.conn = c
		close(w.ready)
	}()
	return w, nil
}

var errWireClosed = errors.New("uml: the guest's network is closed")

// ReadPacket implements agent.PacketConn.
func (w *ethernet) ReadPacket(b []byte) (int, error) {
	select {
	case <-w.ready:
	case <-w.done:
		return 0, errWireClosed
	}
	frame := make([]byte, 65536)
	for {
		n, err := w.conn.Read(frame)
		if err != nil {
			return 0, err
		}
		f := frame[:n]
		if len(f) < 14 {
			continue
		}
		payload := f[14:]
		switch layers.EthernetType(uint16(f[12])<<8 | uint16(f[13])) {
		case layers.EthernetTypeARP:
			w.answerARP(payload)
		case layers.EthernetTypeIPv4:
			if w.echoReply(payload) {
				continue
			}
			if len(payload) >= 20 {
				return copy(b, payload), nil
			}
		case layers.EthernetTypeIPv6:
			if w.answerNDP(payload) {
				continue
			}
			if len(payload) >= 40 {
				return copy(b, payload), nil
			}
		}
	}
}

// WritePacket implements agent.PacketConn: the datagram goes to the guest in
// an Ethernet frame.
func (w *ethernet) WritePacket(pkt []byte) error {
	select {
	case <-w.ready:
	case <-w.done:
		return errWireClosed
	default:
		return errors.New("uml: the guest has not connected its network yet")
	}
	if len(pkt) == 0 {
		return errors.New("uml: empty packet")
	}
	typ := layers.EthernetTypeIPv4
	if pkt[0]>>4 == 6 {
		typ = layers.EthernetTypeIPv6
	}
	w.written.Add(1)
	frame := make([]byte, 14+len(pkt))
	copy(frame, guestMAC)
	copy(frame[6:], harnessMAC)
	frame[12], frame[13] = byte(typ>>8), byte(typ)
	copy(frame[14:], pkt)
	return w.send(frame)
}

func (w *ethernet) send(frame []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_, err := w.conn.Write(frame)
	return err
}

// echoID marks the harness's echo requests.
const echoID = 0x7463 // "tc"

// barrier returns once the guest has processed every packet written to it
// so far: it sends an ICMP echo request behind them and waits for the reply.
// The guest's NIC hands frames to the stack in order, and a TCP segment is
// processed, and anything it draws sent, before the next frame is taken; so
// the reply comes after every answer to what went before. Packets and socket
// calls reach the guest on separate lines (the NIC, the serial line), and
// without this a call could overtake segments injected before it. A guest
// that does not answer within a second is left to fail the case otherwise.
func (w *ethernet) barrier() {
	w.bmu.Lock()
	defer w.bmu.Unlock()
	n := w.written.Load()
	if n == w.fenced.Load() {
		return
	}
	w.echoSeq++
	seq := w.echoSeq
	eth := &layers.Ethernet{SrcMAC: harnessMAC, DstMAC: guestMAC, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4,
		SrcIP: targets.DocumentationAddrs.Peer4.AsSlice(), DstIP: w.guest[0].AsSlice()}
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: echoID, Seq: seq}
	if w.serialize(eth, ip, icmp) != nil {
		return
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case got := <-w.echoed:
			if got == seq {
				w.fenced.Store(n)
				return
			}
		case <-t.C:
			return
		case <-w.done:
			return
		}
	}
}

// echoReply passes on the sequence number of a reply to the barrier's echo
// request; it reports whether b was one.
func (w *ethernet) echoReply(b []byte) bool {
	if len(b) < 28 || b[9] != 1 || b[0]&0x0f != 5 || b[20] != 0 || uint16(b[24])<<8|uint16(b[25]) != echoID {
		return false
	}
	select {
	case w.echoed <- uint16(b[26])<<8 | uint16(b[27]):
	default:
	}
	return true
}

// answerARP replies to a request for any IPv4 address but the guest's.
func (w *ethernet) answerARP(b []byte) {
	p := gopacket.NewPacket(b, layers.LayerTypeARP, gopacket.NoCopy)
	arp, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP)
	if !ok || arp.Operation != layers.ARPRequest || len(arp.DstProtAddress) != 4 {
		return
	}
	if a, _ := netip.AddrFromSlice(arp.DstProtAddress); a == w.guest[0] {
		return
	}
	eth := &layers.Ethernet{SrcMAC: harnessMAC, DstMAC: net.HardwareAddr(arp.SourceHwAddress), EthernetType: layers.EthernetTypeARP}
	reply := &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPReply,
		SourceHwAddress: harnessMAC, SourceProtAddress: arp.DstProtAddress,
		DstHwAddress: arp.SourceHwAddress, DstProtAddress: arp.SourceProtAddress,
	}
	w.serialize(eth, reply)
}

// answerNDP replies to a neighbour solicitation for any address but the
// guest's own; it reports whether b was neighbour discovery at all.
func (w *ethernet) answerNDP(b []byte) bool {
	p := gopacket.NewPacket(b, layers.LayerTypeIPv6, gopacket.NoCopy)
	ns, ok := p.Layer(layers.LayerTypeICMPv6NeighborSolicitation).(*layers.ICMPv6NeighborSolicitation)
	if !ok {
		_, other := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
		return other && isNDP(p)
	}
	ip := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	target, _ := netip.AddrFromSlice(ns.TargetAddress)
	src, _ := netip.AddrFromSlice(ip.SrcIP)
	if target == w.guest[1] || src.IsUnspecified() {
		return true // the guest checking its own address (RFC 4862)
	}
	eth := &layers.Ethernet{SrcMAC: harnessMAC, DstMAC: guestMAC, EthernetType: layers.EthernetTypeIPv6}
	ip6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolICMPv6, HopLimit: 255, SrcIP: ns.TargetAddress, DstIP: ip.SrcIP}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)}
	icmp.SetNetworkLayerForChecksum(ip6)
	na := &layers.ICMPv6NeighborAdvertisement{
		Flags:         0x60, // solicited, override
		TargetAddress: ns.TargetAddress,
		Options:       layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: harnessMAC}},
	}
	w.serialize(eth, ip6, icmp, na)
	return true
}

func isNDP(p gopacket.Packet) bool {
	icmp := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
	t := icmp.TypeCode.Type()
	return t >= layers.ICMPv6TypeRouterSolicitation && t <= layers.ICMPv6TypeRedirect
}

func (w *ethernet) serialize(ls ...gopacket.SerializableLayer) error {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		return err
	}
	return w.send(buf.Bytes())
}

// Close implements agent.PacketConn; it removes the socket file.
func (w *ethernet) Close() error {
	w.once.Do(func() {
		w.cmu.Lock()
		w.closed = true
		if w.conn != nil {
			w.conn.Close()
		}
		w.cmu.Unlock()
		close(w.done)
		w.ln.Close()
		os.Remove(w.path)
	})
	return nil
}
