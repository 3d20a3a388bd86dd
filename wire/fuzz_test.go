package wire

import (
	"encoding/binary"
	"net/netip"
	"reflect"
	"testing"

	"github.com/tcpconform/tcpconform/seq"
)

// segmentFromBytes builds a valid segment from fuzzer input, covering both
// families, every flag, every option type and payloads of any length.
func segmentFromBytes(b []byte) Segment {
	next := func(n int) []byte {
		out := make([]byte, n)
		k := copy(out, b)
		b = b[k:]
		return out
	}
	u8 := func() uint8 { return next(1)[0] }
	u16 := func() uint16 { return binary.BigEndian.Uint16(next(2)) }
	u32 := func() uint32 { return binary.BigEndian.Uint32(next(4)) }

	var s Segment
	if u8()&1 == 0 {
		s.IP = IP{Src: netip.AddrFrom4([4]byte(next(4))), Dst: netip.AddrFrom4([4]byte(next(4))), ID: u16(), DF: u8()&1 == 1}
	} else {
		s.IP = IP{Src: netip.AddrFrom16([16]byte(next(16))), Dst: netip.AddrFrom16([16]byte(next(16))), FlowLabel: u32() & 0xfffff}
		if s.IP.Src.Is4In6() || s.IP.Dst.Is4In6() {
			s.IP.Src, s.IP.Dst = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
		}
	}
	s.IP.TTL, s.IP.TOS = u8(), u8()
	s.SrcPort, s.DstPort = u16(), u16()
	s.Seq, s.Ack = seq.Value(u32()), seq.Value(u32())
	s.Flags = Flags(u16() & 0x1ff)
	s.Window, s.Urgent = u16(), u16()
	room := 40
	for n := int(u8() % 8); n > 0; n-- {
		var o Option
		switch u8() % 8 {
		case 0:
			o = MSS(u16())
		case 1:
			o = WindowScale(u8())
		case 2:
			o = SACKPermitted{}
		case 3:
			o = Timestamps{Val: u32(), Ecr: u32()}
		case 4:
			o = NOP{}
		case 5:
			blocks := make(SACK, 1+u8()%3)
			for i := range blocks {
				blocks[i] = SACKBlock{u32(), u32()}
			}
			o = blocks
		case 6:
			kind := OptionKind(u8())
			if kind < 9 {
				kind += 9
			}
			var data []byte
			if l := int(u8() % 6); l > 0 {
				data = next(l)
			}
			o = Unknown{Type: kind, Data: data}
		default:
			o = EOL{}
		}
		if o.wireLen() > room {
			break
		}
		room -= o.wireLen()
		s.Options = append(s.Options, o)
		if _, end := o.(EOL); end {
			break
		}
	}
	if n := int(u8()); n > 0 {
		s.Payload = next(n)
	}
	return canonical(s)
}

// canonical drops a final EOL that the encoding cannot tell from padding: one
// that sits in the last word with nothing but zeros after it.
func canonical(s Segment) Segment {
	if n := len(s.Options); n > 0 {
		if _, end := s.Options[n-1].(EOL); end && (OptionsLen(s.Options)-1)%4 != 0 {
			s.Options = s.Options[:n-1]
		}
	}
	if len(s.Options) == 0 {
		s.Options = nil
	}
	return s
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24})
	f.Add([]byte{0, 192, 0, 2, 1, 192, 0, 2, 2, 0, 1, 1, 64, 0, 0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0xff, 0xff, 0, 0, 5, 0, 5, 0xb4, 1, 7, 2, 3, 7, 7, 4, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		s := segmentFromBytes(in)
		b, err := Encode(s)
		if err != nil {
			t.Fatalf("Encode(%v): %v", s, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode(%v)): %v", s, err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Fatalf("round trip\n got  %#v\n want %#v", got, s)
		}
	})
}

func FuzzDecodeNeverPanics(f *testing.F) {
	s := synSegment(v4a, v4b)
	b, _ := Encode(s)
	f.Add(b)
	s6 := synSegment(v6a, v6b)
	b6, _ := Encode(s6)
	f.Add(b6)
	f.Add([]byte{0x45})
	f.Add([]byte{0x60, 0, 0, 0, 0, 0, 6})
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := Decode(in)
		_ = s.String()
		if err == nil {
			if _, err := Encode(s); err != nil {
				t.Fatalf("a decoded segment must encode again: %v", err)
			}
		}
	})
}
