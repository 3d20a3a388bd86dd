package script

import (
	"testing"

	"github.com/tcpconform/tcpconform/wire"
)

// nplab's packetdrill fork (FreeBSD's TCP suite) writes a few packet forms
// google's does not; each is kept in the AST for the engine to act on.
func TestNplabPackets(t *testing.T) {
	md5Zero := wire.Unknown{Type: wire.KindMD5, Data: make([]byte, 16)}
	tests := []struct {
		line string
		want *Packet
	}{
		{"0 < . 1:1(0) ack 1 win 10/udp(1 > 9811)", &Packet{Pos: at(1, 3), Dir: Inbound, ACE: -1,
			Flags: wire.ACK, SeqStart: 1, SeqEnd: 1, Ack: ptr[uint32](1), Win: ptr[uint16](10),
			UDPEncap: &Ports{Src: 1, Dst: 9811}}},
		{"0 > S 0:0(0) win 65535 <mss 1432>/udp(9811 > 1)", &Packet{Pos: at(1, 3), Dir: Outbound, ACE: -1,
			Flags: wire.SYN, Win: ptr[uint16](65535), Options: []wire.Option{wire.MSS(1432)}, HasOptions: true,
			UDPEncap: &Ports{Src: 9811, Dst: 1}}},
		{"0 > (tos 0x20) R. 0:0(0)! ack 1 win 0", &Packet{Pos: at(1, 3), Dir: Outbound, ACE: -1,
			IP: IPInfo{TOS: ptr[uint8](0x20), TOSWord: "tos"}, Flags: wire.RST | wire.ACK, AbsSeq: true,
			Ack: ptr[uint32](1), Win: ptr[uint16](0)}},
		{"0 > S. ...(0) ack 4 win 65535", &Packet{Pos: at(1, 3), Dir: Outbound, ACE: -1,
			Flags: wire.SYN | wire.ACK, AnySeq: true, Ack: ptr[uint32](4), Win: ptr[uint16](65535)}},
		{"0 > P. ...(10) ack 1", &Packet{Pos: at(1, 3), Dir: Outbound, ACE: -1,
			Flags: wire.PSH | wire.ACK, AnySeq: true, SeqEnd: 10, Len: 10, Ack: ptr[uint32](1)}},
		{"0 > S 0:0(0) win 65535 <mss 1460,md5 valid>", &Packet{Pos: at(1, 3), Dir: Outbound, ACE: -1,
			Flags: wire.SYN, Win: ptr[uint16](65535), Options: []wire.Option{wire.MSS(1460), md5Zero},
			HasOptions: true, MD5Valid: true}},
		{"0 < (hlim 3) S. 0:0(0) ack 0 win 65535", &Packet{Pos: at(1, 3), Dir: Inbound, ACE: -1,
			IP: IPInfo{TTL: ptr[uint8](3), TTLWord: "hlim"}, Flags: wire.SYN | wire.ACK,
			Ack: ptr[uint32](0), Win: ptr[uint16](65535)}},
		{"0 > (class 0x20) . 1:1(0) ack 1", &Packet{Pos: at(1, 3), Dir: Outbound, ACE: -1,
			IP: IPInfo{TOS: ptr[uint8](0x20), TOSWord: "class"}, Flags: wire.ACK, SeqStart: 1, SeqEnd: 1,
			Ack: ptr[uint32](1)}},
		{"0 > S. 0:0(0) ack 1 <AccECN0 ee0b 1 eceb 2,AccECN1 ee1b 3>", &Packet{Pos: at(1, 3), Dir: Outbound, ACE: -1,
			Flags: wire.SYN | wire.ACK, Ack: ptr[uint32](1), HasOptions: true, Options: []wire.Option{
				wire.Unknown{Type: 172, Data: []byte{0, 0, 1, 0, 0, 2}}, wire.Unknown{Type: 174, Data: []byte{0, 0, 3}}}}},
		{"0 < icmp unreachable admin_prohibited [0:0(0)/udp(9811 > 1)]", &Packet{Pos: at(1, 3), Dir: Inbound,
			ACE: -1, Proto: ICMP, ICMPType: "unreachable", ICMPCode: "admin_prohibited",
			Echoed: &Echoed{Proto: "tcp", UDPEncap: &Ports{Src: 9811, Dst: 1}}}},
	}
	for _, tt := range tests {
		p := lastAction[*Packet](t, tt.line+"\n")
		deepEqual(t, tt.line, p, tt.want)
	}
}

// ICMP names are checked against the type's own codes, as packetdrill
// does; "type_N" and "code_N" stand for any number.
func TestICMPNames(t *testing.T) {
	tests := []struct{ typ, code string }{
		{"time_exceeded", "ttl_exceeded_in_transit"}, // nplab's ICMPv4 codes
		{"time_exceeded", "frag_reass_exceeded"},
		{"time_exceeded", "exceeded_hop_limit"},
		{"parameter_problem", "unknown_next_header"},
		{"parameter_problem", "code_2"},
		{"type_200", "code_0"},
		{"router_advertisement", ""},
		{"unreachable", "port_unreachable"},
	}
	for _, tt := range tests {
		p := lastAction[*Packet](t, "0 < icmp "+tt.typ+" "+tt.code+"\n")
		if p.ICMPType != tt.typ || p.ICMPCode != tt.code {
			t.Errorf("icmp %s %s: read as %q %q", tt.typ, tt.code, p.ICMPType, p.ICMPCode)
		}
	}
}

func TestAccECNFlags(t *testing.T) {
	tests := []struct {
		flags string
		want  wire.Flags
		ace   int
	}{
		{"S5", wire.SYN, 5}, // a digit among the letters, no ACK
		{"5S.", wire.SYN | wire.ACK, 5},
		{"S0", wire.SYN, 0},
		{"P7.", wire.PSH | wire.ACK, 7},
		{"S.E", wire.SYN | wire.ACK | wire.ECE, -1}, // nplab: letters after the '.'
		{"F.2", wire.FIN | wire.ACK, 2},
	}
	for _, tt := range tests {
		p := lastAction[*Packet](t, "0 > "+tt.flags+" 0:0(0)\n")
		if p.Flags != tt.want || p.ACE != tt.ace {
			t.Errorf("%s: flags %v ace %d, want %v ace %d", tt.flags, p.Flags, p.ACE, tt.want, tt.ace)
		}
	}
}

func TestDialectErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"two ACE digits", "0 > S57 0:0(0)\n", `t.pkt:1:5: two ACE digits in "S57"`},
		{"digit and float", "0 > S5.3 0:0(0)\n", `t.pkt:1:7: two ACE digits in ".3"`},
		{"ACE digit and E", "0 > SE5 0:0(0)\n", "t.pkt:1:5: ACE field cannot be combined with the E, W or A flags"},
		{"8 is no ACE digit", "0 > S8 0:0(0)\n", `t.pkt:1:5: unknown TCP flag '8' in "S8"`},
		{"class must be hex", "0 > (class 16) . 1:1(0) ack 1\n", "t.pkt:1:12: syntax error: unexpected integer 16, expected hex number"},
		{"hlim too big", "0 > (hlim 300) . 1:1(0) ack 1\n", "t.pkt:1:11: hlim 300 does not fit in 8 bits"},
		{"tos twice", "0 > (tos 0x1, class 0x2) . 1:1(0) ack 1\n", "t.pkt:1:15: class: the TOS byte is already set"},
		{"ecn after tos", "0 > (tos 0x1, ce) . 1:1(0) ack 1\n", "t.pkt:1:15: ce: the ECN field is already set"},
		{"ttl twice", "0 > (ttl 1, hlim 2) . 1:1(0) ack 1\n", "t.pkt:1:13: hlim: the TTL is already set"},
		{"unknown field", "0 > (dscp 0x1) . 1:1(0) ack 1\n",
			`t.pkt:1:6: syntax error: unexpected word "dscp", expected ECN codepoint, "tos", "class", "ttl", "hlim" or "flowlabel"`},
		{"udp encapsulation port", "0 > . 1:1(0) ack 1/udp(70000 > 1)\n", "t.pkt:1:24: port 70000 does not fit in 16 bits"},
		{"udp encapsulation needs udp", "0 > . 1:1(0) ack 1/tcp(1 > 2)\n", `t.pkt:1:20: syntax error: unexpected word "tcp", expected "udp"`},
		{"code of another type", "0 < icmp time_exceeded port_unreachable\n", `t.pkt:1:24: unknown ICMP code "port_unreachable" for type time_exceeded`},
		{"numbered type takes numbered codes", "0 < icmp type_3 port_unreachable\n", `t.pkt:1:17: unknown ICMP code "port_unreachable" for type type_3`},
		{"code number too big", "0 < icmp unreachable code_256\n", `t.pkt:1:22: unknown ICMP code "code_256" for type unreachable`},
	}
	for _, tt := range tests {
		_, err := Parse("t.pkt", []byte(tt.src), ParseOptions{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: got\n%v\nwant\n%s", tt.name, err, tt.want)
		}
	}
}

// google's PSP scripts write "mss MSS" for a value given with -D MSS=N.
func TestMSSSymbol(t *testing.T) {
	p := lastAction[*Packet](t, "0 > S. 0:0(0) ack 1 <mss MSS,nop,wscale 8>\n")
	deepEqual(t, "undefined", p.Undefined, []*Symbol{{Pos: at(1, 26), Name: "MSS", Option: 1}})
	f := mustParse(t, "0 > S. 0:0(0) ack 1 <mss MSS,nop,wscale 8>\n", ParseOptions{Defines: map[string]string{"MSS": "1000"}})
	p = f.Events[0].Action.(*Packet)
	deepEqual(t, "defined", p.Options, []wire.Option{wire.MSS(1000), wire.NOP{}, wire.WindowScale(8)})
	if p.Undefined != nil {
		t.Errorf("undefined: %v", p.Undefined)
	}
}
