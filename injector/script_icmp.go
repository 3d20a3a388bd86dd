package injector

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/wire"
)

// icmpType is one ICMP message type a script may name, with the names of
// its codes (none: only "code_N" and no code, which is 0).
type icmpType struct {
	number uint8
	codes  map[string]uint8
}

// icmpTypes are the names scripts use for ICMP (RFC 792, RFC 1812 section
// 5.2.7.1) and ICMPv6 (RFC 4443) types and codes, packetdrill's spellings.
var icmpTypes = map[Family]map[string]icmpType{
	IPv4: {
		"echo_reply": {number: 0},
		"unreachable": {number: wire.ICMPv4Unreachable, codes: map[string]uint8{
			"net_unreachable": 0, "host_unreachable": 1, "protocol_unreachable": 2,
			"port_unreachable": 3, "frag_needed": 4, "source_route_failed": 5,
			"net_unknown": 6, "host_unknown": 7, "source_host_isolated": 8,
			"net_prohibited": 9, "host_prohibited": 10, "net_unreachable_for_tos": 11,
			"host_unreachable_for_tos": 12, "packet_filtered": 13,
			"precedence_violation": 14, "precedence_cutoff": 15,
		}},
		"source_quench":        {number: wire.ICMPv4SourceQuench},
		"redirect":             {number: 5},
		"echo_request":         {number: 8},
		"time_exceeded":        {number: wire.ICMPv4TimeExceeded},
		"parameter_problem":    {number: 12},
		"timestamp_request":    {number: 13},
		"timestamp_reply":      {number: 14},
		"information_request":  {number: 15},
		"information_reply":    {number: 16},
		"address_mask_request": {number: 17},
		"address_mask_reply":   {number: 18},
	},
	IPv6: {
		"unreachable": {number: wire.ICMPv6Unreachable, codes: map[string]uint8{
			"net_unreachable": 0, "no_route": 0, "admin_prohibited": 1, "not_neighbour": 2,
			"address_unreachable": 3, "port_unreachable": 4,
		}},
		"packet_too_big": {number: wire.ICMPv6PacketTooBig},
		"time_exceeded": {number: wire.ICMPv6TimeExceeded, codes: map[string]uint8{
			"exceeded_hop_limit": 0, "exceeded_frag_time": 1,
		}},
		"parameter_problem": {number: wire.ICMPv6ParamProblem, codes: map[string]uint8{
			"header_field": 0, "unknown_next_header": 1, "unknown_option": 2,
		}},
		"echo_request": {number: 128},
		"echo_reply":   {number: 129},
	},
}

// icmpTypeCode reads a script's type and code words in the family's
// numbering: a name from the table, or "type_N" / "code_N"; no code is 0.
func icmpTypeCode(fam Family, typ, code string) (uint8, uint8, error) {
	var t icmpType
	if n, ok := numbered(typ, "type_"); ok {
		t.number = n
	} else if t, ok = icmpTypes[fam][typ]; !ok {
		return 0, 0, fmt.Errorf("bad ICMP type %s for %v", typ, fam)
	}
	if code == "" {
		return t.number, 0, nil
	}
	if n, ok := numbered(code, "code_"); ok {
		return t.number, n, nil
	}
	c, ok := t.codes[code]
	if !ok {
		return 0, 0, fmt.Errorf("bad ICMP code %s for %v type %s", code, fam, typ)
	}
	return t.number, c, nil
}

// numbered reads "prefixN" with N in 0..255.
func numbered(word, prefix string) (uint8, bool) {
	s, ok := strings.CutPrefix(word, prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 8)
	return uint8(n), err == nil
}

// icmpMessage builds the inbound ICMP message a script line describes, in
// live numbers, as packetdrill builds it: an error quotes an IP header from
// the target to the peer (no options, TTL 255, checksum left zero, its length
// counting a 20-byte TCP header and the quoted segment's payload) and the
// first 8 octets of that TCP header: the connection's ports and the quoted
// segment's sequence number in the target's live space. That is all RFC 792
// and RFC 4443 section 2.4 ask an error to carry about the datagram, and all
// a stack needs to find the connection (RFC 9293 section 3.9.2.2, MUST-54).
func icmpMessage(fam Family, pkt *script.Packet, outer wire.IP, targetPort, peerPort uint16, liveSeq uint32) ([]byte, error) {
	typ, code, err := icmpTypeCode(fam, pkt.ICMPType, pkt.ICMPCode)
	if err != nil {
		return nil, err
	}
	m := wire.ICMP{IP: outer, Type: typ, Code: code}
	if pkt.MTU != nil {
		switch {
		case fam == IPv4 && typ == wire.ICMPv4Unreachable && code == 4:
			if *pkt.MTU > 0xffff {
				return nil, fmt.Errorf("ICMP MTU %d out of 16-bit range", *pkt.MTU)
			}
			m.Rest = *pkt.MTU // RFC 1191 section 4: the low half of the word
		case fam == IPv6 && typ == wire.ICMPv6PacketTooBig && code == 0:
			m.Rest = *pkt.MTU
		case fam == IPv4:
			return nil, fmt.Errorf("an ICMP MTU is only valid for unreachable frag_needed")
		default:
			return nil, fmt.Errorf("an ICMPv6 MTU is only valid for packet_too_big")
		}
	}
	if pkt.ID != nil {
		if *pkt.ID > 0xffff {
			return nil, fmt.Errorf("ICMP id %d out of 16-bit range", *pkt.ID)
		}
		m.Rest |= *pkt.ID << 16
	}
	n := 0
	if pkt.Echoed != nil {
		n = pkt.Echoed.Len
	}
	m.Body = quotedTCP(outer.Dst, outer.Src, targetPort, peerPort, liveSeq, n)
	return wire.EncodeICMP(m)
}

// quotedTCP is the start of a TCP datagram from src to dst carrying n bytes
// of payload, as an ICMP error quotes it: the IP header and 8 octets of TCP.
func quotedTCP(src, dst netip.Addr, srcPort, dstPort uint16, seqNum uint32, n int) []byte {
	const tcpHeader, ttl, protoTCP = 20, 255, 6
	var b []byte
	if src.Is4() {
		b = make([]byte, 20, 28)
		b[0], b[8], b[9] = 0x45, ttl, protoTCP
		binary.BigEndian.PutUint16(b[2:], uint16(20+tcpHeader+n))
		s, d := src.As4(), dst.As4()
		copy(b[12:], s[:])
		copy(b[16:], d[:])
	} else {
		b = make([]byte, 40, 48)
		b[0], b[6], b[7] = 0x60, protoTCP, ttl
		binary.BigEndian.PutUint16(b[4:], uint16(tcpHeader+n))
		s, d := src.As16(), dst.As16()
		copy(b[8:], s[:])
		copy(b[24:], d[:])
	}
	b = binary.BigEndian.AppendUint16(b, srcPort)
	b = binary.BigEndian.AppendUint16(b, dstPort)
	return binary.BigEndian.AppendUint32(b, seqNum)
}

// icmp injects the ICMP message of an inbound line about the connection
// under test. Outbound ICMP lines are not checked: the targets' links carry
// only the TCP the stack sends.
func (r *scriptRun) icmp(pkt *script.Packet) {
	if pkt.Dir == script.Outbound {
		r.skip(pkt.Pos, "outbound ICMP packets are not checked by tcpconform")
	}
	if pkt.Echoed != nil && pkt.Echoed.Proto != "tcp" {
		r.skip(pkt.Pos, "ICMP messages quoting %s datagrams are not supported by tcpconform (only TCP)", pkt.Echoed.Proto)
	}
	f := r.cur
	if f == nil || f.targetPort == 0 {
		r.scriptError(pkt.Pos, "inbound ICMP packet before a connection's ports are known")
	}
	var start uint32
	if pkt.Echoed != nil {
		start = pkt.Echoed.SeqStart
	}
	b, err := icmpMessage(r.p.family, pkt, r.ipHeader(pkt.IP, true), f.targetPort, f.peerPort, r.localToLive(f, start, false))
	if err != nil {
		r.scriptError(pkt.Pos, "%v", err)
	}
	if r.p.Log != nil {
		fmt.Fprintf(r.p.Log, "< +%.6f icmp %s %s\n", r.p.Elapsed().Seconds(), pkt.ICMPType, pkt.ICMPCode)
	}
	if err := r.p.InjectRaw(b); err != nil {
		r.t.ErrorAt(r.where(pkt.Pos), err)
	}
	r.p.clock.Settle()
}
