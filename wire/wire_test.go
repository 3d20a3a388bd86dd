package wire

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/seq"
)

var (
	v4a = netip.MustParseAddr("192.0.2.2")
	v4b = netip.MustParseAddr("192.0.2.1")
	v6a = netip.MustParseAddr("2001:db8::2")
	v6b = netip.MustParseAddr("2001:db8::1")
)

func synSegment(src, dst netip.Addr) Segment {
	return Segment{
		IP:      IP{Src: src, Dst: dst, TTL: 64, DF: !src.Is6()},
		SrcPort: 40000, DstPort: 8080,
		Seq: 1000, Flags: SYN, Window: 65535,
		Options: []Option{MSS(1460), SACKPermitted{}, Timestamps{Val: 7, Ecr: 0}, NOP{}, WindowScale(7)},
	}
}

func TestRoundTrip(t *testing.T) {
	cases := map[string]Segment{
		"ipv4 syn": synSegment(v4a, v4b),
		"ipv6 syn": synSegment(v6a, v6b),
		"ipv4 data with every flag": {
			IP:      IP{Src: v4a, Dst: v4b, TTL: 3, TOS: 0x03, ID: 4242},
			SrcPort: 1, DstPort: 65535, Seq: 0xfffffff0, Ack: 5,
			Flags: FIN | SYN | RST | PSH | ACK | URG | ECE | CWR | AE, Window: 1, Urgent: 9,
			Options: []Option{SACK{{1, 2}, {3, 4}}, Unknown{Type: 254, Data: []byte{0xf9, 0x89}}},
			Payload: []byte("hello, world"),
		},
		"ipv6 flow label and odd payload": {
			IP:      IP{Src: v6a, Dst: v6b, TTL: 255, TOS: 0xb8, FlowLabel: 0xabcde},
			SrcPort: 7, DstPort: 9, Flags: ACK | PSH, Payload: []byte{1, 2, 3},
		},
		"explicit eol followed by padding": {
			IP:      IP{Src: v4a, Dst: v4b, TTL: 64},
			SrcPort: 7, DstPort: 9, Flags: ACK, Options: []Option{MSS(536), EOL{}},
		},
	}
	for name, s := range cases {
		b, err := Encode(s)
		if err != nil {
			t.Fatalf("%s: Encode: %v", name, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: Decode: %v", name, err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("%s: round trip\n got  %+v\n want %+v", name, got, s)
		}
	}
}

func TestPaddingIsNotAnOption(t *testing.T) {
	s := synSegment(v4a, v4b)
	s.Options = []Option{WindowScale(2)} // three bytes, one byte of padding
	b, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := b[20+12] >> 4; got != 6 {
		t.Errorf("data offset = %d words, want 6", got)
	}
	d, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Options, s.Options) {
		t.Errorf("options = %v, want %v", d.Options, s.Options)
	}
	if len(d.Payload) != 0 {
		t.Errorf("padding leaked into the payload: %x", d.Payload)
	}
}

func TestFaults(t *testing.T) {
	s := synSegment(v4a, v4b)
	var ce *ChecksumError

	b, _ := EncodeWith(s, Faults{BadTCPChecksum: true})
	if _, err := Decode(b); !errors.As(err, &ce) || ce.Layer != "TCP" {
		t.Errorf("bad TCP checksum decoded with err = %v", err)
	}
	b, _ = EncodeWith(s, Faults{BadIPChecksum: true})
	got, err := Decode(b)
	if !errors.As(err, &ce) || ce.Layer != "IPv4" {
		t.Errorf("bad IPv4 checksum decoded with err = %v", err)
	}
	if got.SrcPort != 40000 {
		t.Error("a checksum error must still return the decoded segment")
	}
	s6 := synSegment(v6a, v6b)
	b, _ = EncodeWith(s6, Faults{BadTCPChecksum: true})
	if _, err := Decode(b); !errors.As(err, &ce) || ce.Layer != "TCP" {
		t.Errorf("bad TCP checksum over IPv6 decoded with err = %v", err)
	}

	b, _ = EncodeWith(s, Faults{DataOffset: 15})
	if _, err := Decode(b); err == nil {
		t.Error("a data offset past the end of the packet must not decode")
	}
	b, _ = EncodeWith(s, Faults{IPLength: 30})
	if got := int(b[2])<<8 | int(b[3]); got != 30 {
		t.Errorf("IPv4 total length = %d, want the forced 30", got)
	}
	b, _ = EncodeWith(s, Faults{})
	if _, err := Decode(b); err != nil {
		t.Errorf("a correct datagram: %v", err)
	}
}

func TestMalformedOptionsAreErrors(t *testing.T) {
	s := synSegment(v4a, v4b)
	s.Options = []Option{Unknown{Type: KindMSS, Data: []byte{5, 0xb4, 0}}} // MSS of length 5
	b, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(b); err == nil || !strings.Contains(err.Error(), "option mss at offset 0 has length 5") {
		t.Errorf("Decode of a 5-byte MSS: %v", err)
	}
	s.Options = []Option{Unknown{Type: 99, Length: 40}}
	b, _ = Encode(s)
	if _, err := Decode(b); err == nil || !strings.Contains(err.Error(), "length 40") {
		t.Errorf("Decode of an overlong option: %v", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	s := synSegment(v4a, v6b)
	if _, err := Encode(s); err == nil || !strings.Contains(err.Error(), "different families") {
		t.Errorf("mixed families: %v", err)
	}
	s = synSegment(v4a, v4b)
	s.Options = []Option{SACK{{}, {}, {}, {}, {}}}
	if _, err := Encode(s); err == nil || !strings.Contains(err.Error(), "exceed the 40") {
		t.Errorf("too many options: %v", err)
	}
	if _, err := Encode(Segment{}); err == nil {
		t.Error("a segment without addresses must not encode")
	}
}

func TestString(t *testing.T) {
	s := synSegment(v4b, v4a)
	s.Flags = SYN | ACK
	s.Seq, s.Ack = 1, 1001
	want := "192.0.2.1.40000 > 192.0.2.2.8080: Flags [S.], seq 1, ack 1001, win 65535, options [mss 1460,sackOK,TS val 7 ecr 0,nop,wscale 7], length 0"
	if got := s.String(); got != want {
		t.Errorf("String()\n got  %s\n want %s", got, want)
	}
	d := Segment{IP: IP{Src: v6a, Dst: v6b}, SrcPort: 1, DstPort: 2, Seq: 10, Ack: 3, Flags: PSH | ACK, Window: 5, Payload: []byte("abc")}
	want = "2001:db8::2.1 > 2001:db8::1.2: Flags [P.], seq 10:13, ack 3, win 5, length 3"
	if got := d.String(); got != want {
		t.Errorf("String()\n got  %s\n want %s", got, want)
	}
	if got := (Segment{}).String(); !strings.HasPrefix(got, "?.0 > ?.0: Flags [none]") {
		t.Errorf("zero segment prints %q", got)
	}
}

func TestFlagsAndKinds(t *testing.T) {
	for _, tt := range []struct {
		f    Flags
		want string
	}{{SYN, "S"}, {SYN | ACK, "S."}, {FIN | PSH | ACK, "FP."}, {RST, "R"}, {0, "none"}, {ECE | CWR | AE, "EWe"}, {1 << 12, "+0x1000"}} {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("Flags(%#x).String() = %q, want %q", uint16(tt.f), got, tt.want)
		}
		if tt.f != 0 && tt.f < 1<<9 {
			if back, ok := ParseFlags(tt.want); !ok || back != tt.f {
				t.Errorf("ParseFlags(%q) = %v, %v", tt.want, back, ok)
			}
		}
	}
	if _, ok := ParseFlags("SX"); ok {
		t.Error("ParseFlags accepted X")
	}
	if got := OptionKind(77).String(); got != "Kind(77)" {
		t.Errorf("unknown kind prints %q", got)
	}
	if got := (Segment{Flags: SYN | FIN, Payload: []byte{1}}).Len(); got != seq.Size(3) {
		t.Errorf("Len = %d, want 3", got)
	}
}

// An ICMP error's checksums add up, and it quotes what it was given.
func TestEncodeICMPError(t *testing.T) {
	quoted := []byte{0x45, 0, 0, 40, 1, 2, 3, 4, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2, 0x1f, 0x90, 0x9c, 0x40, 0, 0, 0, 1}
	b, err := EncodeICMPError(v4a, v4b, ICMPv4Unreachable, 3, quoted)
	if err != nil {
		t.Fatal(err)
	}
	if onesSum(0, b[:20]) != 0xffff || onesSum(0, b[20:]) != 0xffff || b[20] != 3 || b[21] != 3 || string(b[28:]) != string(quoted) {
		t.Errorf("ICMP error % x", b)
	}
	b6, err := EncodeICMPError(v6a, v6b, ICMPv6Unreachable, 4, quoted)
	if err != nil {
		t.Fatal(err)
	}
	n := len(b6) - 40
	pseudo := onesSum(onesSum(0, b6[8:40]), []byte{0, 0, byte(n >> 8), byte(n), 0, 0, 0, 58})
	if onesSum(pseudo, b6[40:]) != 0xffff || b6[6] != 58 || b6[40] != 1 || b6[41] != 4 {
		t.Errorf("ICMPv6 error % x", b6)
	}
	if _, err := EncodeICMPError(v4a, v6b, 3, 3, nil); err == nil {
		t.Error("mixed families taken")
	}
}

// A segment whose checksum field holds anything (the partial sum a stack
// leaves to an offloading device) decodes cleanly once completed.
func TestCompleteTCPChecksum(t *testing.T) {
	for _, s := range []Segment{synSegment(v4a, v4b), synSegment(v6a, v6b)} {
		s.Payload = []byte("abc")
		b, err := Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		hl := 20
		if s.IP.Is6() {
			hl = 40
		}
		b[hl+16], b[hl+17] = 0x12, 0x34
		if _, err := Decode(b); err == nil {
			t.Fatalf("%v: a wrong checksum decoded cleanly", s.IP.Src)
		}
		if err := CompleteTCPChecksum(b); err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(b); err != nil {
			t.Errorf("%v: after completing: %v", s.IP.Src, err)
		}
	}
	if err := CompleteTCPChecksum([]byte{0x45, 0}); err == nil {
		t.Error("a truncated datagram was taken")
	}
}
