package netstack

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Hand-built raw IPv4/IPv6 + TCP packets for the tests.

const (
	flFIN = 0x01
	flSYN = 0x02
	flRST = 0x04
	flPSH = 0x08
	flACK = 0x10
)

// seg is a TCP segment, to build or as parsed.
type seg struct {
	src, dst     netip.AddrPort
	seq, ack     uint32
	flags        uint8
	win          uint16
	opts         []byte
	payload      []byte
	ipOK, tcpOK  bool // parsed: checksums valid
	ipID         uint16
	df           bool
	ttl          uint8
	tsVal, tsEcr uint32
	hasTS        bool
	mss          uint16
}

func checksum(b []byte, sum uint32) uint16 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func pseudoSum(src, dst netip.Addr, length int) uint32 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
	}
	add(src.AsSlice())
	add(dst.AsSlice())
	sum += 6
	sum += uint32(length)
	return sum
}

func optMSS(v uint16) []byte { return []byte{2, 4, byte(v >> 8), byte(v)} }
func optSACKPerm() []byte    { return []byte{4, 2} }
func optWS(s uint8) []byte   { return []byte{1, 3, 3, s} }
func optTS(val, ecr uint32) []byte {
	b := []byte{1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[4:], val)
	binary.BigEndian.PutUint32(b[8:], ecr)
	return b
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

// build serialises s as an IPv4 or IPv6 datagram, with valid checksums.
func (s seg) build() []byte {
	opts := append([]byte{}, s.opts...)
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	tcpLen := 20 + len(opts) + len(s.payload)
	t := make([]byte, tcpLen)
	binary.BigEndian.PutUint16(t[0:], s.src.Port())
	binary.BigEndian.PutUint16(t[2:], s.dst.Port())
	binary.BigEndian.PutUint32(t[4:], s.seq)
	binary.BigEndian.PutUint32(t[8:], s.ack)
	t[12] = byte((20 + len(opts)) / 4 << 4)
	t[13] = s.flags
	win := s.win
	if win == 0 && s.flags&flRST == 0 {
		win = 65535
	}
	binary.BigEndian.PutUint16(t[14:], win)
	copy(t[20:], opts)
	copy(t[20+len(opts):], s.payload)
	binary.BigEndian.PutUint16(t[16:], checksum(t, pseudoSum(s.src.Addr(), s.dst.Addr(), tcpLen)))

	if s.src.Addr().Is4() {
		ip := make([]byte, 20, 20+tcpLen)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+tcpLen))
		ip[6] = 0x40 // DF
		ip[8] = 64
		ip[9] = 6
		copy(ip[12:], s.src.Addr().AsSlice())
		copy(ip[16:], s.dst.Addr().AsSlice())
		binary.BigEndian.PutUint16(ip[10:], checksum(ip, 0))
		return append(ip, t...)
	}
	ip := make([]byte, 40, 40+tcpLen)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(tcpLen))
	ip[6] = 6
	ip[7] = 64
	copy(ip[8:], s.src.Addr().AsSlice())
	copy(ip[24:], s.dst.Addr().AsSlice())
	return append(ip, t...)
}

// parse decodes an IPv4 or IPv6 TCP datagram and verifies its checksums.
func parse(b []byte) (seg, error) {
	var s seg
	if len(b) < 1 {
		return s, fmt.Errorf("empty packet")
	}
	var src, dst netip.Addr
	var t []byte
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return s, fmt.Errorf("short IPv4 packet")
		}
		ihl := int(b[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(b[2:]))
		if b[9] != 6 || total > len(b) || ihl < 20 {
			return s, fmt.Errorf("not a TCP/IPv4 packet: % x", b)
		}
		s.ipOK = checksum(b[:ihl], 0) == 0
		s.ipID = binary.BigEndian.Uint16(b[4:])
		s.df = b[6]&0x40 != 0
		s.ttl = b[8]
		src, _ = netip.AddrFromSlice(b[12:16])
		dst, _ = netip.AddrFromSlice(b[16:20])
		t = b[ihl:total]
	case 6:
		if len(b) < 40 || b[6] != 6 {
			return s, fmt.Errorf("not a TCP/IPv6 packet")
		}
		s.ipOK = true
		s.ttl = b[7]
		src, _ = netip.AddrFromSlice(b[8:24])
		dst, _ = netip.AddrFromSlice(b[24:40])
		t = b[40 : 40+int(binary.BigEndian.Uint16(b[4:]))]
	default:
		return s, fmt.Errorf("IP version %d", b[0]>>4)
	}
	if len(t) < 20 {
		return s, fmt.Errorf("short TCP header")
	}
	s.tcpOK = checksum(t, pseudoSum(src, dst, len(t))) == 0
	s.src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(t[0:]))
	s.dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(t[2:]))
	s.seq = binary.BigEndian.Uint32(t[4:])
	s.ack = binary.BigEndian.Uint32(t[8:])
	off := int(t[12]>>4) * 4
	s.flags = t[13]
	s.win = binary.BigEndian.Uint16(t[14:])
	s.opts = t[20:off]
	s.payload = t[off:]
	for o := s.opts; len(o) > 0; {
		switch o[0] {
		case 0:
			o = nil
		case 1:
			o = o[1:]
		default:
			if len(o) < 2 || int(o[1]) < 2 || int(o[1]) > len(o) {
				return s, fmt.Errorf("bad options % x", s.opts)
			}
			switch {
			case o[0] == 2 && o[1] == 4:
				s.mss = binary.BigEndian.Uint16(o[2:])
			case o[0] == 8 && o[1] == 10:
				s.hasTS = true
				s.tsVal = binary.BigEndian.Uint32(o[2:])
				s.tsEcr = binary.BigEndian.Uint32(o[6:])
			}
			o = o[o[1]:]
		}
	}
	return s, nil
}

func (s seg) String() string {
	f := ""
	for i, n := range "FSRPA" {
		if s.flags&(1<<i) != 0 {
			f += string(n)
		}
	}
	return fmt.Sprintf("%v > %v [%s] seq %d ack %d win %d len %d", s.src, s.dst, f, s.seq, s.ack, s.win, len(s.payload))
}
