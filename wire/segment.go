package wire

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/tcpconform/tcpconform/seq"
)

// IP is the network-layer part of a segment.
type IP struct {
	Src, Dst netip.Addr
	// TTL is the IPv4 time to live or the IPv6 hop limit.
	TTL uint8
	// TOS is the IPv4 type of service or the IPv6 traffic class; its low
	// two bits are the ECN field (RFC 3168 section 5).
	TOS uint8
	// ID and DF exist only in IPv4.
	ID uint16
	DF bool
	// FlowLabel exists only in IPv6.
	FlowLabel uint32
}

// Is6 reports whether the datagram is IPv6.
func (ip IP) Is6() bool { return ip.Src.Is6() && !ip.Src.Is4In6() }

// ECN is the two-bit ECN codepoint of TOS: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE.
func (ip IP) ECN() uint8 { return ip.TOS & 3 }

// Segment is one TCP segment in its IP datagram: what the harness sends, and
// what it decodes from what the target sent.
type Segment struct {
	IP      IP
	SrcPort uint16
	DstPort uint16
	Seq     seq.Value
	Ack     seq.Value
	Flags   Flags
	Window  uint16
	Urgent  uint16
	Options []Option
	Payload []byte
}

// Len is the segment's length in sequence space, SEG.LEN of RFC 9293 section
// 3.3.1: the payload plus one for SYN and one for FIN.
func (s Segment) Len() seq.Size {
	n := seq.Size(len(s.Payload))
	if s.Flags&SYN != 0 {
		n++
	}
	if s.Flags&FIN != 0 {
		n++
	}
	return n
}

// Src and Dst are the endpoints of the segment.
func (s Segment) Src() netip.AddrPort { return netip.AddrPortFrom(s.IP.Src, s.SrcPort) }
func (s Segment) Dst() netip.AddrPort { return netip.AddrPortFrom(s.IP.Dst, s.DstPort) }

// Option returns the first option of kind k.
func (s Segment) Option(k OptionKind) (Option, bool) { return FindOption(s.Options, k) }

// String prints the segment on one line, as tcpdump does:
//
//	192.0.2.1.8080 > 192.0.2.2.40000: Flags [S.], seq 1, ack 2, win 29184, options [mss 1460], length 0
func (s Segment) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s > %s: Flags [%v]", endpoint(s.IP.Src, s.SrcPort), endpoint(s.IP.Dst, s.DstPort), s.Flags)
	if n := len(s.Payload); n > 0 || s.Flags&(SYN|FIN|RST) != 0 {
		if n > 0 {
			fmt.Fprintf(&b, ", seq %d:%d", uint32(s.Seq), uint32(s.Seq.Add(seq.Size(n))))
		} else {
			fmt.Fprintf(&b, ", seq %d", uint32(s.Seq))
		}
	}
	if s.Flags&ACK != 0 {
		fmt.Fprintf(&b, ", ack %d", uint32(s.Ack))
	}
	fmt.Fprintf(&b, ", win %d", s.Window)
	if s.Flags&URG != 0 || s.Urgent != 0 {
		fmt.Fprintf(&b, ", urg %d", s.Urgent)
	}
	if len(s.Options) > 0 {
		fmt.Fprintf(&b, ", options %s", OptionsString(s.Options))
	}
	fmt.Fprintf(&b, ", length %d", len(s.Payload))
	return b.String()
}

// endpoint prints addr.port the way tcpdump does, without IPv6 brackets.
func endpoint(a netip.Addr, port uint16) string {
	if !a.IsValid() {
		return fmt.Sprintf("?.%d", port)
	}
	return fmt.Sprintf("%s.%d", a, port)
}
