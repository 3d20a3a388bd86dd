package injector

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/wire"
)

// sum16 is the Internet checksum's one's-complement sum (RFC 1071), written
// apart from the wire package's so that the test checks it.
func sum16(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// An inbound "icmp unreachable frag_needed mtu 1200 [1:1461(1460)]" is an
// IPv4 ICMP error from the peer carrying the MTU, quoting the header of a
// 1460-byte segment from the target with its live sequence number.
func TestICMPFragNeededBytes(t *testing.T) {
	mtu := uint32(1200)
	pkt := &script.Packet{Proto: script.ICMP, ICMPType: "unreachable", ICMPCode: "frag_needed", MTU: &mtu,
		Echoed: &script.Echoed{Proto: "tcp", SeqStart: 1, SeqEnd: 1461, Len: 1460}}
	outer := wire.IP{Src: netip.MustParseAddr("192.0.2.2"), Dst: netip.MustParseAddr("192.0.2.1"), TTL: 64, DF: true}
	got, err := icmpMessage(IPv4, pkt, outer, 8080, 40000, 0x01020305)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"4500 0038 0000 4000 4001 b6c1 c000 0202 c000 0201", // IPv4: 56 bytes, DF, TTL 64, ICMP, peer > target
		"0304 6a8c 0000 04b0",                               // unreachable, frag_needed, checksum, next-hop MTU 1200
		"4500 05dc 0000 0000 ff06 0000 c000 0201 c000 0202", // quoted: 20+20+1460 bytes, TTL 255, TCP, target > peer
		"1f90 9c40 0102 0305",                               // ports 8080 > 40000, live seq
	}, "")
	if h := hex.EncodeToString(got); h != strings.ReplaceAll(want, " ", "") {
		t.Errorf("bytes\n got  %s\n want %s", h, strings.ReplaceAll(want, " ", ""))
	}
	if s := sum16(got[:20]); s != 0xffff {
		t.Errorf("IPv4 header checksum does not add up: sum %#x", s)
	}
	if s := sum16(got[20:]); s != 0xffff {
		t.Errorf("ICMP checksum does not add up: sum %#x", s)
	}
}

// ICMPv6's packet too big carries a 32-bit MTU and its checksum covers the
// pseudo-header (RFC 4443 sections 2.3 and 3.2).
func TestICMPv6PacketTooBigBytes(t *testing.T) {
	mtu := uint32(1280)
	pkt := &script.Packet{Proto: script.ICMP, ICMPType: "packet_too_big", MTU: &mtu,
		Echoed: &script.Echoed{Proto: "tcp", SeqEnd: 1440, Len: 1440}}
	peer, target := netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8::1")
	got, err := icmpMessage(IPv6, pkt, wire.IP{Src: peer, Dst: target, TTL: 64}, 8080, 40000, 0x01020304)
	if err != nil {
		t.Fatal(err)
	}
	want := "6000000000383a40" + "20010db8000000000000000000000002" + "20010db8000000000000000000000001" +
		"0200" + "1519" + "00000500" + // packet too big, code 0, checksum, MTU 1280
		"6000000005b406ff" + "20010db8000000000000000000000001" + "20010db8000000000000000000000002" +
		"1f909c4001020304"
	if h := hex.EncodeToString(got); h != want {
		t.Errorf("bytes\n got  %s\n want %s", h, want)
	}
	n := len(got) - 40
	pseudo := append(append([]byte(nil), got[8:40]...), 0, 0, byte(n>>8), byte(n), 0, 0, 0, 58)
	if s := sum16(append(pseudo, got[40:]...)); s != 0xffff {
		t.Errorf("ICMPv6 checksum does not add up: sum %#x", s)
	}
}

// Types and codes are read per family; a name of the other family, or an MTU
// on a message that has none, is the script's error.
func TestICMPTypeCode(t *testing.T) {
	for _, c := range []struct {
		fam              Family
		typ, code        string
		wantTyp, wantCod uint8
		err              string
	}{
		{IPv4, "unreachable", "host_unreachable", 3, 1, ""},
		{IPv4, "unreachable", "", 3, 0, ""},
		{IPv4, "type_42", "code_7", 42, 7, ""},
		{IPv6, "unreachable", "port_unreachable", 1, 4, ""},
		{IPv6, "time_exceeded", "exceeded_frag_time", 3, 1, ""},
		{IPv6, "unreachable", "frag_needed", 0, 0, "bad ICMP code frag_needed"},
		{IPv4, "packet_too_big", "", 0, 0, "bad ICMP type packet_too_big"},
		{IPv4, "unreachable", "CODE", 0, 0, "bad ICMP code CODE"},
	} {
		typ, code, err := icmpTypeCode(c.fam, c.typ, c.code)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v %s %s: error %v, want %q", c.fam, c.typ, c.code, err, c.err)
			}
			continue
		}
		if err != nil || typ != c.wantTyp || code != c.wantCod {
			t.Errorf("%v %s %s = %d %d %v, want %d %d", c.fam, c.typ, c.code, typ, code, err, c.wantTyp, c.wantCod)
		}
	}
	mtu := uint32(1000)
	pkt := &script.Packet{Proto: script.ICMP, ICMPType: "unreachable", ICMPCode: "host_unreachable", MTU: &mtu}
	outer := wire.IP{Src: netip.MustParseAddr("192.0.2.2"), Dst: netip.MustParseAddr("192.0.2.1")}
	if _, err := icmpMessage(IPv4, pkt, outer, 1, 2, 3); err == nil || !strings.Contains(err.Error(), "frag_needed") {
		t.Errorf("MTU on host_unreachable: error %v", err)
	}
}
