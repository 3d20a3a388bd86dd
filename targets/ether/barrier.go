package ether

import (
	"time"

	"github.com/google/gopacket/layers"
)

// echoID marks the harness's echo requests.
const echoID = 0x7463 // "tc"

// Barrier returns once the stack has processed every packet written to it
// so far: it sends an ICMP echo request (RFC 792) behind them and waits for
// the reply. A NIC hands frames to the stack in order, and a TCP segment is
// processed, and anything it draws sent, before the next frame is taken; so
// the reply comes after every answer to what went before. Packets and socket
// calls reach the stack on separate channels (a NIC and a serial line or a
// control connection), and without this a call could overtake segments
// injected before it. A stack that does not answer within a second is left
// to fail the case otherwise.
func (l *Link) Barrier() {
	l.bmu.Lock()
	defer l.bmu.Unlock()
	n := l.written.Load()
	if n == l.fenced.Load() || !l.cfg.Stack4.IsValid() || !l.cfg.Own4.IsValid() {
		return
	}
	to := l.StackMAC()
	if to == nil {
		return
	}
	l.echoSeq++
	seq := l.echoSeq
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4,
		SrcIP: l.cfg.Own4.AsSlice(), DstIP: l.cfg.Stack4.AsSlice()}
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: echoID, Seq: seq}
	if l.serialize(to, typeIPv4, ip, icmp) != nil {
		return
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case got := <-l.echoed:
			if got == seq {
				l.fenced.Store(n)
				return
			}
		case <-t.C:
			return
		case <-l.done:
			return
		}
	}
}

// echoReply passes on the sequence number of a reply to the barrier's echo
// request; it reports whether b was one.
func (l *Link) echoReply(b []byte) bool {
	if len(b) < 28 || b[9] != 1 || b[0]&0x0f != 5 || b[20] != 0 || uint16(b[24])<<8|uint16(b[25]) != echoID {
		return false
	}
	select {
	case l.echoed <- uint16(b[26])<<8 | uint16(b[27]):
	default:
	}
	return true
}
