package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// ICMP error types and codes (RFC 792, RFC 4443) that RFC 9293 section
// 3.9.2.2 tells TCP how to treat.
const (
	ICMPv4Unreachable   = 3  // codes: 0 net, 1 host, 2 protocol, 3 port, 4 fragmentation needed, 5 source route failed
	ICMPv4SourceQuench  = 4  // deprecated (RFC 6633): to be discarded
	ICMPv4TimeExceeded  = 11 // code 0: TTL exceeded in transit
	ICMPv6Unreachable   = 1  // codes: 0 no route, 1 prohibited, 3 address, 4 port
	ICMPv6PacketTooBig  = 2  // RFC 4443 section 3.2: the MTU in the second word
	ICMPv6TimeExceeded  = 3
	ICMPv6ParamProblem  = 4
	icmpv6NextHeader    = 58
	icmpv4Protocol      = 1
	icmpErrorHeaderSize = 8
)

// ICMP is one ICMP (IPv4) or ICMPv6 message and the IP header it travels
// in. The family is IP.Src's.
type ICMP struct {
	// IP gives the addresses, TTL (hop limit), TOS (traffic class), and
	// for IPv4 the ID and DF bit; the rest of the header is derived.
	IP         IP
	Type, Code uint8
	// Rest is the header's second word: zero in most errors; the
	// next-hop MTU in its low 16 bits for IPv4's fragmentation needed
	// (RFC 1191 section 4); the MTU for ICMPv6's packet too big (RFC 4443
	// section 3.2); identifier and sequence number for an echo.
	Rest uint32
	// Body follows the header: for an error, the start of the datagram it
	// is about.
	Body []byte
}

// EncodeICMP builds the whole IP datagram carrying m, with its checksums.
func EncodeICMP(m ICMP) ([]byte, error) {
	src, dst := m.IP.Src, m.IP.Dst
	if src.Is4() != dst.Is4() || !src.IsValid() || !dst.IsValid() {
		return nil, fmt.Errorf("ICMP message from %v to %v: addresses of one family wanted", src, dst)
	}
	msg := make([]byte, icmpErrorHeaderSize+len(m.Body))
	msg[0], msg[1] = m.Type, m.Code
	binary.BigEndian.PutUint32(msg[4:], m.Rest)
	copy(msg[icmpErrorHeaderSize:], m.Body)
	if src.Is4() {
		if 20+len(msg) > 0xffff {
			return nil, fmt.Errorf("ICMP message of %d bytes does not fit an IPv4 datagram", len(msg))
		}
		binary.BigEndian.PutUint16(msg[2:], ^onesSum(0, msg))
		ip := make([]byte, 20, 20+len(msg))
		ip[0], ip[1], ip[8], ip[9] = 0x45, m.IP.TOS, m.IP.TTL, icmpv4Protocol
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(msg)))
		binary.BigEndian.PutUint16(ip[4:], m.IP.ID)
		if m.IP.DF {
			ip[6] = 0x40
		}
		s, d := src.As4(), dst.As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		binary.BigEndian.PutUint16(ip[10:], ^onesSum(0, ip))
		return append(ip, msg...), nil
	}
	if len(msg) > 0xffff {
		return nil, fmt.Errorf("ICMPv6 message of %d bytes does not fit an IPv6 datagram", len(msg))
	}
	ip := make([]byte, 40, 40+len(msg))
	binary.BigEndian.PutUint32(ip[0:], 6<<28|uint32(m.IP.TOS)<<20|m.IP.FlowLabel&0xfffff)
	ip[6], ip[7] = icmpv6NextHeader, m.IP.TTL
	binary.BigEndian.PutUint16(ip[4:], uint16(len(msg)))
	s, d := src.As16(), dst.As16()
	copy(ip[8:], s[:])
	copy(ip[24:], d[:])
	// RFC 4443 section 2.3: the checksum covers an IPv6 pseudo-header.
	n := len(msg)
	pseudo := onesSum(onesSum(0, ip[8:40]), []byte{0, 0, byte(n >> 8), byte(n), 0, 0, 0, icmpv6NextHeader})
	binary.BigEndian.PutUint16(msg[2:], ^onesSum(pseudo, msg))
	return append(ip, msg...), nil
}

// EncodeICMPError builds a whole IP datagram from src to dst carrying an
// ICMP (IPv4) or ICMPv6 error message of type typ and code, quoting quoted:
// the start of the datagram the error is about, as RFC 792 and RFC 4443
// section 2.4 have it (at least its IP header and 8 octets of TCP header).
// The family is the addresses'.
func EncodeICMPError(src, dst netip.Addr, typ, code uint8, quoted []byte) ([]byte, error) {
	return EncodeICMP(ICMP{IP: IP{Src: src, Dst: dst, TTL: 64}, Type: typ, Code: code, Body: quoted})
}
