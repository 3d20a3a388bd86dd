// Package ether puts a stack's raw IP packets on an Ethernet segment and
// takes them off it: the harness is one station on the segment, the stack
// under test another. It adds and strips Ethernet headers (RFC 894, RFC
// 2464), answers ARP (RFC 826) and IPv6 neighbour solicitations (RFC 4861
// section 7.2.4) for the addresses the harness claims, learns the stack's
// MAC address when it is not told it, and fences socket calls behind the
// packets written before them with an ICMP echo (Barrier).
//
// The frames themselves travel on a Frames carrier: User-mode Linux's
// unix socket (targets/uml) or an AF_PACKET socket on a real or virtual
// interface (targets/remote).
package ether

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Frames carries whole Ethernet frames, one per call.
type Frames interface {
	// ReadFrame waits for the next frame; it fails once the carrier is
	// closed.
	ReadFrame(b []byte) (int, error)
	WriteFrame(f []byte) error
	Close() error
}

// Config says who is who on the segment.
type Config struct {
	// Name labels errors ("uml", "remote").
	Name string
	// MAC is the harness's own address on the segment.
	MAC net.HardwareAddr
	// StackMAC is the stack's address; nil has it learned, from Resolve
	// or from the stack's own ARP and neighbour discovery.
	StackMAC net.HardwareAddr
	// Stack4 and Stack6 are the stack's addresses (either may be the zero
	// Addr when the stack has none in that family).
	Stack4, Stack6 netip.Addr
	// Claim reports whether the harness answers ARP and neighbour
	// solicitations for addr: on a segment of its own, every address but
	// the stack's, so that any peer address a script picks is reachable; on
	// a shared segment, only the harness's own.
	Claim func(addr netip.Addr) bool
	// Own4 and Own6 are addresses the harness claims, the sources of its
	// echo requests (Barrier) and address resolution (Resolve).
	Own4, Own6 netip.Addr
}

// Link is the stack's segment as raw IP packets: it implements the agent
// package's PacketConn.
type Link struct {
	cfg    Config
	frames Frames

	wmu sync.Mutex // one frame written at a time

	mmu      sync.Mutex
	stackMAC net.HardwareAddr
	learned  chan struct{} // closed once stackMAC is known

	// The barrier: written counts the packets the harness wrote; fenced
	// is how many of them an echo reply has since shown processed.
	written, fenced atomic.Uint64
	bmu             sync.Mutex // one barrier at a time
	echoSeq         uint16
	echoed          chan uint16 // echo replies' sequence numbers

	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

// New returns the link over frames.
func New(frames Frames, cfg Config) *Link {
	l := &Link{cfg: cfg, frames: frames, learned: make(chan struct{}), echoed: make(chan uint16, 16), done: make(chan struct{})}
	if cfg.StackMAC != nil {
		l.learn(cfg.StackMAC)
	}
	return l
}

// Ethernet types (IEEE 802 numbers).
const (
	typeIPv4 = 0x0800
	typeARP  = 0x0806
	typeIPv6 = 0x86dd
)

// header is the length of an Ethernet header without a VLAN tag.
const header = 14

// ReadPacket returns the next IP datagram sent to the harness's MAC,
// answering and dropping ARP, neighbour discovery and the barrier's echo
// replies on the way.
func (l *Link) ReadPacket(b []byte) (int, error) {
	frame := make([]byte, 65536)
	for {
		n, err := l.frames.ReadFrame(frame)
		if err != nil {
			return 0, err
		}
		f := frame[:n]
		if len(f) < header {
			continue
		}
		dst, src, payload := net.HardwareAddr(f[0:6]), net.HardwareAddr(f[6:12]), f[header:]
		// The harness takes what is sent to its MAC address, and what the
		// stack sends to a group address (broadcast, multicast: IEEE
		// 802, bit 0 of the first octet), as any station on the segment
		// would hear it: a segment the stack sends there is one the
		// cases must see.
		toUs := string(dst) == string(l.cfg.MAC) || dst[0]&1 != 0 && string(src) == string(l.StackMAC())
		switch uint16(f[12])<<8 | uint16(f[13]) {
		case typeARP:
			l.arp(dst, payload)
		case typeIPv4:
			if !toUs || len(payload) < 20 {
				continue
			}
			payload = trim(payload, int(payload[2])<<8|int(payload[3]))
			l.learnFrom(src, payload)
			if l.echoReply(payload) {
				continue
			}
			return copy(b, payload), nil
		case typeIPv6:
			if l.ndp(src, payload) || !toUs || len(payload) < 40 {
				continue
			}
			if plen := int(payload[4])<<8 | int(payload[5]); plen > 0 { // 0: a jumbogram (RFC 2675)
				payload = trim(payload, 40+plen)
			}
			l.learnFrom(src, payload)
			return copy(b, payload), nil
		}
	}
}

// trim cuts a datagram to its IP length: a frame shorter than Ethernet's
// 60 bytes is padded (IEEE 802.3 clause 3.2.8), and the padding is no part
// of it.
func trim(p []byte, n int) []byte {
	if n >= 20 && n < len(p) {
		return p[:n]
	}
	return p
}

// WritePacket sends one IP datagram to the stack in an Ethernet frame.
func (l *Link) WritePacket(pkt []byte) error {
	if len(pkt) == 0 {
		return fmt.Errorf("%s: empty packet", l.cfg.Name)
	}
	to := l.StackMAC()
	if to == nil {
		return fmt.Errorf("%s: the stack's MAC address is not known yet (no ARP or neighbour advertisement from it)", l.cfg.Name)
	}
	typ := uint16(typeIPv4)
	if pkt[0]>>4 == 6 {
		typ = typeIPv6
	}
	l.written.Add(1)
	return l.send(to, typ, pkt)
}

// send writes one frame from the harness's MAC.
func (l *Link) send(to net.HardwareAddr, typ uint16, payload []byte) error {
	frame := make([]byte, header+len(payload))
	copy(frame, to)
	copy(frame[6:], l.cfg.MAC)
	frame[12], frame[13] = byte(typ>>8), byte(typ)
	copy(frame[header:], payload)
	l.wmu.Lock()
	defer l.wmu.Unlock()
	return l.frames.WriteFrame(frame)
}

// StackMAC returns the stack's MAC address, or nil while it is unknown.
func (l *Link) StackMAC() net.HardwareAddr {
	l.mmu.Lock()
	defer l.mmu.Unlock()
	return l.stackMAC
}

// learn records the stack's MAC address; the first one found stays.
func (l *Link) learn(mac net.HardwareAddr) {
	l.mmu.Lock()
	defer l.mmu.Unlock()
	if l.stackMAC != nil {
		return
	}
	l.stackMAC = append(net.HardwareAddr(nil), mac...)
	close(l.learned)
}

// learnFrom learns the stack's MAC from an IP datagram sent from one of
// the stack's addresses.
func (l *Link) learnFrom(src net.HardwareAddr, ip []byte) {
	if l.StackMAC() != nil {
		return
	}
	var from netip.Addr
	switch ip[0] >> 4 {
	case 4:
		from, _ = netip.AddrFromSlice(ip[12:16])
	case 6:
		if len(ip) >= 40 {
			from, _ = netip.AddrFromSlice(ip[8:24])
		}
	}
	if l.isStack(from) {
		l.learn(src)
	}
}

func (l *Link) isStack(a netip.Addr) bool {
	return a.IsValid() && (a == l.cfg.Stack4 || a == l.cfg.Stack6)
}

// Close closes the carrier.
func (l *Link) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.frames.Close()
	})
	return err
}
