package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/tcpconform/tcpconform/seq"
)

// Faults leave parts of an encoded segment wrong on purpose, for tests of how
// a stack treats malformed input. The zero value encodes a correct datagram.
type Faults struct {
	// IPLength, when non-zero, is written as the IPv4 total length or the
	// IPv6 payload length instead of the true one.
	IPLength int
	// DataOffset, when non-zero, is written as the TCP data offset (in 32-bit
	// words) instead of the true one.
	DataOffset int
	// BadIPChecksum writes a wrong IPv4 header checksum.
	BadIPChecksum bool
	// BadTCPChecksum writes a wrong TCP checksum.
	BadTCPChecksum bool
}

// Encode returns the IP datagram for s, with correct lengths and checksums.
func Encode(s Segment) ([]byte, error) { return EncodeWith(s, Faults{}) }

// EncodeWith returns the IP datagram for s with the given faults.
func EncodeWith(s Segment, f Faults) ([]byte, error) {
	v6 := s.IP.Src.Is6() && !s.IP.Src.Is4In6()
	if !s.IP.Src.IsValid() || !s.IP.Dst.IsValid() {
		return nil, errors.New("wire: segment needs valid source and destination addresses")
	}
	if v6 != (s.IP.Dst.Is6() && !s.IP.Dst.Is4In6()) {
		return nil, fmt.Errorf("wire: source %v and destination %v are of different families", s.IP.Src, s.IP.Dst)
	}
	optLen := OptionsLen(s.Options)
	pad := (4 - optLen%4) % 4
	if 20+optLen+pad > 60 {
		return nil, fmt.Errorf("wire: %d bytes of options exceed the 40 a TCP header can hold", optLen)
	}
	// A fresh layer per packet: gopacket keeps padding from an earlier
	// serialization of the same value.
	tcp := &layers.TCP{
		SrcPort:    layers.TCPPort(s.SrcPort),
		DstPort:    layers.TCPPort(s.DstPort),
		Seq:        uint32(s.Seq),
		Ack:        uint32(s.Ack),
		DataOffset: uint8((20 + optLen + pad) / 4),
		FIN:        s.Flags&FIN != 0,
		SYN:        s.Flags&SYN != 0,
		RST:        s.Flags&RST != 0,
		PSH:        s.Flags&PSH != 0,
		ACK:        s.Flags&ACK != 0,
		URG:        s.Flags&URG != 0,
		ECE:        s.Flags&ECE != 0,
		CWR:        s.Flags&CWR != 0,
		NS:         s.Flags&AE != 0,
		Window:     s.Window,
		Urgent:     s.Urgent,
		Padding:    make([]byte, pad),
	}
	if f.DataOffset != 0 {
		tcp.DataOffset = uint8(f.DataOffset)
	}
	for _, o := range s.Options {
		raw := o.appendTo(nil)
		opt := layers.TCPOption{OptionType: layers.TCPOptionKind(raw[0])}
		if len(raw) > 1 {
			opt.OptionLength = raw[1]
			opt.OptionData = raw[2:]
		}
		tcp.Options = append(tcp.Options, opt)
	}

	var netLayer gopacket.SerializableLayer
	var ip4 *layers.IPv4
	var ip6 *layers.IPv6
	if v6 {
		ip6 = &layers.IPv6{
			Version:      6,
			TrafficClass: s.IP.TOS,
			FlowLabel:    s.IP.FlowLabel & 0xfffff,
			NextHeader:   layers.IPProtocolTCP,
			HopLimit:     s.IP.TTL,
			SrcIP:        net.IP(s.IP.Src.AsSlice()),
			DstIP:        net.IP(s.IP.Dst.AsSlice()),
		}
		netLayer = ip6
		if err := tcp.SetNetworkLayerForChecksum(ip6); err != nil {
			return nil, err
		}
	} else {
		ip4 = &layers.IPv4{
			Version:  4,
			IHL:      5,
			TOS:      s.IP.TOS,
			Id:       s.IP.ID,
			TTL:      s.IP.TTL,
			Protocol: layers.IPProtocolTCP,
			SrcIP:    net.IP(s.IP.Src.Unmap().AsSlice()),
			DstIP:    net.IP(s.IP.Dst.Unmap().AsSlice()),
		}
		if s.IP.DF {
			ip4.Flags = layers.IPv4DontFragment
		}
		netLayer = ip4
		if err := tcp.SetNetworkLayerForChecksum(ip4); err != nil {
			return nil, err
		}
	}

	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.Payload(s.Payload).SerializeTo(buf, gopacket.SerializeOptions{}); err != nil {
		return nil, err
	}
	// Lengths in the TCP header are ours (FixLengths would rewrite option
	// lengths); the checksum covers whatever we wrote.
	if err := tcp.SerializeTo(buf, gopacket.SerializeOptions{ComputeChecksums: true}); err != nil {
		return nil, fmt.Errorf("wire: encode TCP: %w", err)
	}
	if err := netLayer.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}); err != nil {
		return nil, fmt.Errorf("wire: encode IP: %w", err)
	}
	out := append([]byte(nil), buf.Bytes()...)

	hdr := 20
	if v6 {
		hdr = 40
	}
	if f.IPLength != 0 {
		if v6 {
			binary.BigEndian.PutUint16(out[4:], uint16(f.IPLength))
		} else {
			binary.BigEndian.PutUint16(out[2:], uint16(f.IPLength))
			binary.BigEndian.PutUint16(out[10:], 0)
			binary.BigEndian.PutUint16(out[10:], ^onesSum(0, out[:20]))
		}
	}
	if f.BadIPChecksum && !v6 {
		out[10] ^= 0x01
		out[11] ^= 0x01
	}
	if f.BadTCPChecksum {
		// XOR with 0x0101 never yields the other ones'-complement zero.
		out[hdr+16] ^= 0x01
		out[hdr+17] ^= 0x01
	}
	return out, nil
}

// ChecksumError reports a datagram whose IPv4 header or TCP checksum does not
// verify.
type ChecksumError struct {
	Layer string // "IPv4" or "TCP"
	Got   uint16 // the checksum in the packet
	Want  uint16 // the checksum the contents call for
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("wire: bad %s checksum 0x%04x (want 0x%04x)", e.Layer, e.Got, e.Want)
}

// Decode parses one raw IP datagram (the version nibble tells IPv4 from IPv6)
// carrying TCP. It verifies the IPv4 header checksum and the TCP checksum
// itself, since gopacket does not; on a bad checksum it returns the decoded
// segment together with a *ChecksumError. Other errors mean the bytes are not
// a TCP segment this package can read, and the segment is then zero.
func Decode(b []byte) (Segment, error) {
	var s Segment
	if len(b) == 0 {
		return s, errors.New("wire: empty packet")
	}
	var tcpBytes []byte
	var pseudo uint16
	var ipErr error
	switch b[0] >> 4 {
	case 4:
		var ip layers.IPv4
		if err := ip.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
			return Segment{}, fmt.Errorf("wire: decode IPv4: %w", err)
		}
		if ip.Protocol != layers.IPProtocolTCP {
			return Segment{}, fmt.Errorf("wire: IPv4 protocol %d is not TCP", ip.Protocol)
		}
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			return Segment{}, errors.New("wire: IPv4 fragments are not supported")
		}
		src, _ := netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ := netip.AddrFromSlice(ip.DstIP.To4())
		s.IP = IP{Src: src, Dst: dst, TTL: ip.TTL, TOS: ip.TOS, ID: ip.Id, DF: ip.Flags&layers.IPv4DontFragment != 0}
		tcpBytes = ip.Payload
		pseudo = onesSum(onesSum(0, b[12:20]), []byte{0, byte(layers.IPProtocolTCP), byte(len(tcpBytes) >> 8), byte(len(tcpBytes))})
		hl := int(ip.IHL) * 4
		if sum := onesSum(0, b[:hl]); sum != 0xffff {
			hdr := append([]byte(nil), b[:hl]...)
			hdr[10], hdr[11] = 0, 0
			ipErr = &ChecksumError{Layer: "IPv4", Got: ip.Checksum, Want: ^onesSum(0, hdr)}
		}
	case 6:
		var ip layers.IPv6
		if err := ip.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
			return Segment{}, fmt.Errorf("wire: decode IPv6: %w", err)
		}
		if ip.NextHeader != layers.IPProtocolTCP {
			return Segment{}, fmt.Errorf("wire: IPv6 next header %d is not TCP", ip.NextHeader)
		}
		src, _ := netip.AddrFromSlice(ip.SrcIP.To16())
		dst, _ := netip.AddrFromSlice(ip.DstIP.To16())
		s.IP = IP{Src: src, Dst: dst, TTL: ip.HopLimit, TOS: ip.TrafficClass, FlowLabel: ip.FlowLabel}
		tcpBytes = ip.Payload
		n := len(tcpBytes)
		pseudo = onesSum(onesSum(0, b[8:40]), []byte{0, 0, byte(n >> 8), byte(n), 0, 0, 0, byte(layers.IPProtocolTCP)})
	default:
		return Segment{}, fmt.Errorf("wire: IP version %d", b[0]>>4)
	}

	var tcp layers.TCP
	if err := tcp.DecodeFromBytes(tcpBytes, gopacket.NilDecodeFeedback); err != nil {
		return Segment{}, fmt.Errorf("wire: decode TCP: %w", err)
	}
	opts, err := parseOptions(tcpBytes[20 : int(tcp.DataOffset)*4])
	if err != nil {
		return Segment{}, err
	}
	s.SrcPort = uint16(tcp.SrcPort)
	s.DstPort = uint16(tcp.DstPort)
	s.Seq = seq.Value(tcp.Seq)
	s.Ack = seq.Value(tcp.Ack)
	s.Window = tcp.Window
	s.Urgent = tcp.Urgent
	s.Options = opts
	s.Flags = Flags(binary.BigEndian.Uint16(tcpBytes[12:]) & 0x1ff)
	if len(tcp.Payload) > 0 {
		s.Payload = append([]byte(nil), tcp.Payload...)
	}
	if sum := onesSum(pseudo, tcpBytes); sum != 0xffff {
		hdr := append([]byte(nil), tcpBytes...)
		hdr[16], hdr[17] = 0, 0
		return s, &ChecksumError{Layer: "TCP", Got: tcp.Checksum, Want: ^onesSum(pseudo, hdr)}
	}
	return s, ipErr
}

// parseOptions walks the option bytes strictly (RFC 9293 section 3.1): every
// option but EOL and NOP must have a length of at least two that fits. Known
// kinds must have their fixed lengths. Zero bytes after the last option that
// only pad to the 32-bit boundary are padding, not an EOL option.
func parseOptions(b []byte) ([]Option, error) {
	var opts []Option
	for i := 0; i < len(b); {
		kind := OptionKind(b[i])
		switch kind {
		case KindEOL:
			if rest := b[i:]; len(rest) >= 4 || !allZero(rest) {
				opts = append(opts, EOL{})
			}
			return opts, nil
		case KindNOP:
			opts = append(opts, NOP{})
			i++
			continue
		}
		if i+1 >= len(b) {
			return nil, fmt.Errorf("wire: option %v at offset %d has no length byte", kind, i)
		}
		l := int(b[i+1])
		if l < 2 || i+l > len(b) {
			return nil, fmt.Errorf("wire: option %v at offset %d has length %d, %d bytes remain", kind, i, l, len(b)-i)
		}
		data := b[i+2 : i+l]
		var o Option
		bad := false
		switch kind {
		case KindMSS:
			bad = l != 4
			if !bad {
				o = MSS(binary.BigEndian.Uint16(data))
			}
		case KindWindowScale:
			bad = l != 3
			if !bad {
				o = WindowScale(data[0])
			}
		case KindSACKPermitted:
			bad = l != 2
			o = SACKPermitted{}
		case KindTimestamps:
			bad = l != 10
			if !bad {
				o = Timestamps{Val: binary.BigEndian.Uint32(data), Ecr: binary.BigEndian.Uint32(data[4:])}
			}
		case KindSACK:
			bad = (l-2)%8 != 0 || l == 2
			if !bad {
				blocks := make(SACK, 0, (l-2)/8)
				for j := 0; j < len(data); j += 8 {
					blocks = append(blocks, SACKBlock{Left: binary.BigEndian.Uint32(data[j:]), Right: binary.BigEndian.Uint32(data[j+4:])})
				}
				o = blocks
			}
		default:
			o = Unknown{Type: kind, Data: append([]byte(nil), data...)}
		}
		if bad {
			return nil, fmt.Errorf("wire: option %v at offset %d has length %d", kind, i, l)
		}
		opts = append(opts, o)
		i += l
	}
	return opts, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// onesSum adds b to sum in 16-bit ones'-complement arithmetic (RFC 1071).
func onesSum(initial uint16, b []byte) uint16 {
	sum := uint32(initial)
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}
