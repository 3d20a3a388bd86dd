package script

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/wire"
)

// at is a position in the test file t.pkt.
func at(line, col int) Pos { return Pos{File: "t.pkt", Line: line, Col: col} }

// mustParse parses src as t.pkt and fails on any error.
func mustParse(t *testing.T, src string, opts ParseOptions) *File {
	t.Helper()
	f, err := Parse("t.pkt", []byte(src), opts)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

// lastAction returns the action of the last event of src, which starts
// with "0 close(3) = 0" lines as needed.
func lastAction[T Action](t *testing.T, src string) T {
	t.Helper()
	f := mustParse(t, src, ParseOptions{})
	a, ok := f.Events[len(f.Events)-1].Action.(T)
	if !ok {
		t.Fatalf("last action is %T", f.Events[len(f.Events)-1].Action)
	}
	return a
}

func deepEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

func TestTimes(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		src  string
		want Time
	}{
		{"1.5 > S 0:0(0)", Time{Pos: at(2, 1), Kind: Absolute, Start: 1500 * ms}},
		{"2 > S 0:0(0)", Time{Pos: at(2, 1), Kind: Absolute, Start: 2 * time.Second}},
		{"+.1 > S 0:0(0)", Time{Pos: at(2, 1), Kind: Relative, Start: 100 * ms}},
		{"+0.000250 > S 0:0(0)", Time{Pos: at(2, 1), Kind: Relative, Start: 250 * time.Microsecond}},
		{"0.1~0.2 > S 0:0(0)", Time{Pos: at(2, 1), Kind: Absolute, Start: 100 * ms, Range: true, End: 200 * ms}},
		{"+.1~+.105 > S 0:0(0)", Time{Pos: at(2, 1), Kind: Relative, Start: 100 * ms, Range: true, End: 105 * ms}},
		{"* > S 0:0(0)", Time{Pos: at(2, 1), Kind: AnyTime}},
		{"+.1...0.200 read(3, ..., 10) = 10", Time{Pos: at(2, 1), Kind: Relative, Start: 100 * ms, Blocking: true, BlockEnd: 200 * ms}},
		{"+0 ... 0.5 accept(3, ..., ...) = 4", Time{Pos: at(2, 1), Kind: Relative, Blocking: true, BlockEnd: 500 * ms}},
	}
	for _, tt := range tests {
		f := mustParse(t, "0 close(3) = 0\n"+tt.src+"\n", ParseOptions{})
		ev := f.Events[1]
		deepEqual(t, tt.src, ev.Time, tt.want)
		if ev.Pos != tt.want.Pos {
			t.Errorf("%s: event at %v", tt.src, ev.Pos)
		}
	}
}

func TestTCPPacket(t *testing.T) {
	p := lastAction[*Packet](t, "0 <  8081>8080 FP. 1:1001(1000) ack 5 win 257 urg 3\n")
	want := &Packet{
		Pos: at(1, 3), Dir: Inbound, Proto: TCP, ACE: -1,
		Ports:    &Ports{Src: 8081, Dst: 8080},
		Flags:    wire.FIN | wire.PSH | wire.ACK,
		SeqStart: 1, SeqEnd: 1001, Len: 1000,
		Ack: ptr[uint32](5), Win: ptr[uint16](257), Urg: ptr[uint16](3),
	}
	deepEqual(t, "packet", p, want)
}

func TestFlags(t *testing.T) {
	tests := []struct {
		flags string
		want  wire.Flags
		ace   int
	}{
		{".", wire.ACK, -1},
		{"-", 0, -1},
		{"S", wire.SYN, -1},
		{"S.", wire.SYN | wire.ACK, -1},
		{"R", wire.RST, -1},
		{"U.", wire.URG | wire.ACK, -1},
		{"SEW", wire.SYN | wire.ECE | wire.CWR, -1},
		{"SEWA", wire.SYN | wire.ECE | wire.CWR | wire.AE, -1},
		{"EAP.", wire.ECE | wire.AE | wire.PSH | wire.ACK, -1},
		{"S.5", wire.SYN | wire.ACK, 5},
		{".3", wire.ACK, 3},
		{"P.0", wire.PSH | wire.ACK, 0},
	}
	for _, tt := range tests {
		p := lastAction[*Packet](t, "0 > "+tt.flags+" 0:0(0)\n")
		if p.Flags != tt.want || p.ACE != tt.ace {
			t.Errorf("%s: flags %v ace %d, want %v ace %d", tt.flags, p.Flags, p.ACE, tt.want, tt.ace)
		}
	}
}

func TestTCPOptions(t *testing.T) {
	tests := []struct {
		opts string
		want []wire.Option
	}{
		{"<mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>", []wire.Option{
			wire.MSS(1460), wire.SACKPermitted{}, wire.Timestamps{Val: 100, Ecr: 0}, wire.NOP{}, wire.WindowScale(7)}},
		{"<nop,nop,sack 1001:2001 3001:4001,eol>", []wire.Option{
			wire.NOP{}, wire.NOP{}, wire.SACK{{Left: 1001, Right: 2001}, {Left: 3001, Right: 4001}}, wire.EOL{}}},
		{"<md5 000102030405060708090a0b0c0d0e0f,nop,nop>", []wire.Option{
			wire.Unknown{Type: 19, Data: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}}, wire.NOP{}, wire.NOP{}}},
		{"<FO 3021b9d889017eeb,nop,nop>", []wire.Option{
			wire.Unknown{Type: 34, Data: []byte{0x30, 0x21, 0xb9, 0xd8, 0x89, 0x01, 0x7e, 0xeb}}, wire.NOP{}, wire.NOP{}}},
		{"<FO,nop,nop>", []wire.Option{wire.Unknown{Type: 34}, wire.NOP{}, wire.NOP{}}},
		{"<FO 12345678>", []wire.Option{wire.Unknown{Type: 34, Data: []byte{0x12, 0x34, 0x56, 0x78}}}},
		{"<FOEXP abcd1234>", []wire.Option{wire.Unknown{Type: 254, Data: []byte{0xF9, 0x89, 0xab, 0xcd, 0x12, 0x34}}}},
		{"<FOEXP>", []wire.Option{wire.Unknown{Type: 254, Data: []byte{0xF9, 0x89}}}},
		{"<ECN e0b 1 ceb 2 e1b 0x10203>", []wire.Option{
			wire.Unknown{Type: 172, Data: []byte{0, 0, 1, 0, 0, 2, 0x01, 0x02, 0x03}}}},
		{"<ECN e1b 7 ceb 8,nop>", []wire.Option{
			wire.Unknown{Type: 174, Data: []byte{0, 0, 7, 0, 0, 8}}, wire.NOP{}}},
	}
	for _, tt := range tests {
		p := lastAction[*Packet](t, "0 > S 0:0(0) "+tt.opts+"\n")
		if !p.HasOptions || p.AnyOptions {
			t.Errorf("%s: HasOptions %v AnyOptions %v", tt.opts, p.HasOptions, p.AnyOptions)
		}
		deepEqual(t, tt.opts, p.Options, tt.want)
	}
	p := lastAction[*Packet](t, "0 > S. 0:0(0) ack 1 <...>\n")
	if !p.HasOptions || !p.AnyOptions || p.Options != nil {
		t.Errorf("<...>: %+v", p)
	}
}

func TestIPInfo(t *testing.T) {
	tests := []struct {
		info string
		want IPInfo
	}{
		{"[ect0]", IPInfo{ECN: ECT0}},
		{"[ect1]", IPInfo{ECN: ECT1}},
		{"[ce]", IPInfo{ECN: CE}},
		{"[noecn]", IPInfo{ECN: NoECN}},
		{"[ect01]", IPInfo{ECN: ECT01}},
		{"(tos 0x10)", IPInfo{TOS: ptr[uint8](0x10), TOSWord: "tos"}},
		{"[flowlabel 0x12345]", IPInfo{FlowLabel: ptr[uint32](0x12345)}},
		{"(ttl 64)", IPInfo{TTL: ptr[uint8](64), TTLWord: "ttl"}},
		{"[ect0, flowlabel 0x1]", IPInfo{ECN: ECT0, FlowLabel: ptr[uint32](1)}},
		{"(tos 0x2,flowlabel 0xfffff)", IPInfo{TOS: ptr[uint8](2), TOSWord: "tos", FlowLabel: ptr[uint32](0xfffff)}},
		// nplab's names for the IPv6 header fields, and its free lists.
		{"(class 0x28)", IPInfo{TOS: ptr[uint8](0x28), TOSWord: "class"}},
		{"(hlim 3)", IPInfo{TTL: ptr[uint8](3), TTLWord: "hlim"}},
		{"(tos 0x20, ttl 4)", IPInfo{TOS: ptr[uint8](0x20), TOSWord: "tos", TTL: ptr[uint8](4), TTLWord: "ttl"}},
		{"(flowlabel 0x1, hlim 9, ce)", IPInfo{ECN: CE, FlowLabel: ptr[uint32](1), TTL: ptr[uint8](9), TTLWord: "hlim"}},
	}
	for _, tt := range tests {
		p := lastAction[*Packet](t, "0 > "+tt.info+" . 1:1(0) ack 1\n")
		deepEqual(t, tt.info, p.IP, tt.want)
	}
}

func TestEncapsulation(t *testing.T) {
	p := lastAction[*Packet](t, "0 < ipv4 192.0.2.1 > 192.168.0.1: gre: mpls (label 123, tc 0, [S], ttl 255): "+
		"ipv6 (tos 0x2) 2001:db8::1 > 2001:db8::2: encap psp spi 7 . 1:1(0) ack 1 win 10\n")
	want := []Encap{
		{Pos: at(1, 5), Kind: "ipv4", Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.168.0.1"), Text: "ipv4 192.0.2.1 > 192.168.0.1:"},
		{Pos: at(1, 35), Kind: "gre", Text: "gre:"},
		{Pos: at(1, 40), Kind: "mpls", Text: "mpls (label 123, tc 0, [S], ttl 255):"},
		{Pos: at(1, 78), Kind: "ipv6", Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2"),
			Text: "ipv6 (tos 0x2) 2001:db8::1 > 2001:db8::2:"},
	}
	deepEqual(t, "encaps", p.Encaps, want)
	if p.PSPSPI == nil || *p.PSPSPI != 7 {
		t.Errorf("PSP SPI %v", p.PSPSPI)
	}
	g := lastAction[*Packet](t, "0 > gre flags [checksum present, key present, sequence# present] sum 0 key 5 seq 1: . 1:1(0) ack 1\n")
	if len(g.Encaps) != 1 || g.Encaps[0].Text != "gre flags [checksum present, key present, sequence# present] sum 0 key 5 seq 1:" {
		t.Errorf("gre: %+v", g.Encaps)
	}
}

func TestUDPAndICMP(t *testing.T) {
	u := lastAction[*Packet](t, "0 > udp 5000>6000 (1000)\n")
	deepEqual(t, "udp", u, &Packet{Pos: at(1, 3), Dir: Outbound, Proto: UDP, ACE: -1, Ports: &Ports{Src: 5000, Dst: 6000}, Len: 1000})

	i := lastAction[*Packet](t, "0 < [ect0] icmp unreachable frag_needed mtu 800 id 7 [0:1000(1000)]\n")
	want := &Packet{Pos: at(1, 3), Dir: Inbound, Proto: ICMP, ACE: -1, IP: IPInfo{ECN: ECT0},
		ICMPType: "unreachable", ICMPCode: "frag_needed", MTU: ptr[uint32](800), ID: ptr[uint32](7),
		Echoed: &Echoed{Proto: "tcp", SeqStart: 0, SeqEnd: 1000, Len: 1000}}
	deepEqual(t, "icmp", i, want)

	v6 := lastAction[*Packet](t, "0 < icmp packet_too_big mtu 1400 [udp (100)]\n")
	deepEqual(t, "echoed udp", v6.Echoed, &Echoed{Proto: "udp", Len: 100})

	sym := lastAction[*Packet](t, "0 < icmp unreachable CODE\n")
	deepEqual(t, "undefined", sym.Undefined, []*Symbol{{Pos: at(1, 22), Name: "CODE"}})
}

func TestSyscalls(t *testing.T) {
	s := lastAction[*Syscall](t, "0 recvmsg(4, {msg_name(...)=...,\n"+
		"\tmsg_iov(1)=[{..., 0}], msg_flags=MSG_ERRQUEUE|MSG_TRUNC,\n"+
		"\tmsg_control=[{cmsg_level=SOL_IP, cmsg_data={ee_errno=0, ee_data=0x10}}]}, MSG_ERRQUEUE) = -1 EAGAIN (Resource temporarily unavailable)\n")
	if s.Name != "recvmsg" || s.Errno != "EAGAIN" || s.Note != "Resource temporarily unavailable" || s.Pos != at(1, 3) {
		t.Errorf("syscall: %+v", s)
	}
	wantArgs := "4, {msg_name(...)=..., msg_iov(1)=[{..., 0}], msg_flags=MSG_ERRQUEUE|MSG_TRUNC, " +
		"msg_control=[{cmsg_level=SOL_IP, cmsg_data={ee_errno=0, ee_data=0x10}}]}, MSG_ERRQUEUE"
	if got := joinExprs(s.Args); got != wantArgs {
		t.Errorf("args:\n got %s\nwant %s", got, wantArgs)
	}
	msg := s.Args[1].(*Struct)
	iov := msg.Fields[1].(*Assign)
	deepEqual(t, "msg_iov", iov, &Assign{Pos: at(2, 2), Name: "msg_iov", Index: &Int{Pos: at(2, 10), Value: 1, Text: "1"},
		Value: &Array{Pos: at(2, 13), Elems: []Expr{&Struct{Pos: at(2, 14), Fields: []Expr{&Ellipsis{Pos: at(2, 15)}, &Int{Pos: at(2, 20), Value: 0, Text: "0"}}}}}})
	deepEqual(t, "result", s.Result, &Int{Pos: at(3, 92), Value: -1, Text: "-1"})

	c := lastAction[*Syscall](t, `0 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = 0 (note with ack and, punctuation!)`+"\n")
	if c.Note != "note with ack and, punctuation!" || c.Errno != "" {
		t.Errorf("note %q errno %q", c.Note, c.Errno)
	}
	addr := c.Args[1].(*Struct).Fields[2].(*Assign).Value
	deepEqual(t, "inet_addr", addr, &Call{Pos: at(1, 65), Name: "inet_addr", Args: []Expr{&String{Pos: at(1, 75), Value: "192.0.2.1"}}})

	str := lastAction[*Syscall](t, "0 setsockopt(3, SOL_TCP, TCP_CONGESTION, \"cu\"\n  \"bic\\x21\", 6) = 0\n+0 getsockopt(3, SOL_TCP, TCP_CONGESTION, \"cub\"..., [3]) = 0x0\n")
	deepEqual(t, "prefix string", str.Args[3], &String{Pos: at(3, 43), Value: "cub", Prefix: true})
	deepEqual(t, "pointer", str.Args[4], &Array{Pos: at(3, 53), Elems: []Expr{&Int{Pos: at(3, 54), Value: 3, Text: "3"}}})
	f := mustParse(t, "0 setsockopt(3, SOL_TCP, TCP_CONGESTION, \"cu\"\n  \"bic\\x21\", 6) = 0\n", ParseOptions{})
	deepEqual(t, "joined string", f.Events[0].Action.(*Syscall).Args[3], &String{Pos: at(1, 42), Value: "cubic!"})

	n := lastAction[*Syscall](t, "0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)\n")
	if n.Note != "flags O_RDWR" || n.Result.String() != "0x2" {
		t.Errorf("fcntl: %+v", n)
	}
	e := lastAction[*Syscall](t, "0 connect(3, ..., ...) = -1 ECONNRESET(Connection reset by peer)\n")
	if e.Errno != "ECONNRESET" || e.Note != "Connection reset by peer" {
		t.Errorf("errno: %+v", e)
	}
	g := lastAction[*Syscall](t, "0 poll([{fd=4, events=POLLIN, revents=0}], 1, 0) = 0\n")
	if got := g.Args[0].String(); got != "[{fd=4, events=POLLIN, revents=0}]" {
		t.Errorf("poll: %s", got)
	}
	generic := lastAction[*Syscall](t, "0 setsockopt(3, SOL_SOCKET, SO_FOO, foo(1, BAR), 4) = 0\n")
	deepEqual(t, "call", generic.Args[3].String(), "foo(1, BAR)")
}

func TestCommandsAndCode(t *testing.T) {
	f := mustParse(t, "--tolerance_usecs=10000\n--strict_segments\n--local_ip=fd::1\n`init\n  more`\n"+
		"0 `sysctl -q x=1`\n+0 %{\n  assert tcpi_rtt > 0\n}%\n`cleanup`\n", ParseOptions{})
	deepEqual(t, "options", f.Options, []*Option{
		{Pos: at(1, 1), Name: "tolerance_usecs", Value: "10000", HasValue: true},
		{Pos: at(2, 1), Name: "strict_segments"},
		{Pos: at(3, 1), Name: "local_ip", Value: "fd::1", HasValue: true},
	})
	deepEqual(t, "init", f.Init, &Command{Pos: at(4, 1), Cmd: "init\n  more"})
	deepEqual(t, "command", f.Events[0].Action, &Command{Pos: at(6, 3), Cmd: "sysctl -q x=1"})
	deepEqual(t, "code", f.Events[1].Action, &Code{Pos: at(7, 4), Text: "\n  assert tcpi_rtt > 0\n"})
	deepEqual(t, "cleanup", f.Cleanup, &Command{Pos: at(10, 1), Cmd: "cleanup"})
}

func TestHeader(t *testing.T) {
	f := mustParse(t, "//\n// Checks the SYN retransmit timer.\n// labels: rfc6298 syn timer\n"+
		"/* more */\n0 close(3) = 0\n// labels: late\n", ParseOptions{})
	if f.Title != "Checks the SYN retransmit timer." {
		t.Errorf("title %q", f.Title)
	}
	deepEqual(t, "labels", f.Labels, []string{"rfc6298", "syn", "timer"})
}

func TestDefines(t *testing.T) {
	opts := ParseOptions{Defines: map[string]string{
		"COOKIE": "abcd1234", "LEVEL": "41", "NAME": `"cubic"`, "CMD": "`true`", "SYM": "SOL_TCP", "ON": "",
	}}
	f := mustParse(t, "0 < S 0:0(0) win 10 <FO COOKIE>\n"+
		"+0 setsockopt(3, LEVEL, SYM, NAME, 5) = 0\n+0 CMD\n"+
		"#ifdef ON\n+0 close(3) = 0\n#endif\n#ifdef OFF\n+0 nonsense here\n#ifdef ON\n#endif\n#endif\n", opts)
	if len(f.Events) != 4 {
		t.Fatalf("%d events", len(f.Events))
	}
	deepEqual(t, "cookie", f.Events[0].Action.(*Packet).Options,
		[]wire.Option{wire.Unknown{Type: 34, Data: []byte{0xab, 0xcd, 0x12, 0x34}}})
	args := f.Events[1].Action.(*Syscall).Args
	deepEqual(t, "args", args[1:4], []Expr{
		&Int{Pos: at(2, 18), Value: 41, Text: "41"}, &Symbol{Pos: at(2, 25), Name: "SOL_TCP"}, &String{Pos: at(2, 30), Value: "cubic"}})
	deepEqual(t, "command", f.Events[2].Action, &Command{Pos: at(3, 4), Cmd: "true"})
	deepEqual(t, "ifdef", f.Events[3].Action.(*Syscall).Pos, at(5, 4))

	// A --define line in the script works for the lines after it, and the
	// command line wins over it.
	g := mustParse(t, "--define=PORT=8080\n--define=LEVEL=1\n0 setsockopt(3, PORT, LEVEL, [1], 4) = 0\n", opts)
	if got := joinExprs(g.Events[0].Action.(*Syscall).Args); got != "3, 8080, 41, [1], 4" {
		t.Errorf("args %s", got)
	}
	if g.Options[0].Value != "PORT=8080" {
		t.Errorf("define value %q", g.Options[0].Value)
	}

	// Without a definition an upper-case cookie is kept as undefined.
	u := lastAction[*Packet](t, "0 < S 0:0(0) win 10 <mss 1460,FOEXP TFO_COOKIE>\n")
	deepEqual(t, "undefined", u.Undefined, []*Symbol{{Pos: at(1, 37), Name: "TFO_COOKIE", Option: 2}})
}

func TestLexer(t *testing.T) {
	src := "1:1001 fd::1 2001:db8::1 1:2:3:4:5:6:7:8 192.0.2.1 .5 -1 -0.5 0x1F 3021b9d889017eeb acks ack ... --mss sequence# 1. `a` \"b\\n\" %{ c }%"
	want := []struct {
		kind tokKind
		text string
	}{
		{tInt, "1"}, {tChar, ":"}, {tInt, "1001"}, {tIPv6, "fd::1"}, {tIPv6, "2001:db8::1"},
		{tIPv6, "1:2:3:4:5:6:7:8"}, {tIPv4, "192.0.2.1"}, {tFloat, ".5"}, {tInt, "-1"}, {tFloat, "-0.5"},
		{tHex, "0x1F"}, {tWord, "3021b9d889017eeb"}, {tWord, "acks"}, {tWord, "ack"}, {tEllipsis, ""},
		{tOption, "mss"}, {tWord, "sequence#"}, {tInt, "1"}, {tChar, "."}, {tBackq, "a"}, {tString, "b\n"},
		{tCode, "c"}, {tEOF, ""},
	}
	lx := newLexer("t.pkt", []byte(src), nil, func(p Pos, f string, a ...any) { t.Errorf("%v: "+f, append([]any{p}, a...)...) })
	for i, w := range want {
		tok := lx.next()
		if tok.Kind != w.kind || w.kind != tEllipsis && w.kind != tEOF && tok.Text != w.text {
			t.Errorf("token %d: %v %q, want %v %q", i, tok.Kind, tok.Text, w.kind, w.text)
		}
	}
	lx = newLexer("t.pkt", []byte("  a\n\tb /* x\ny */ c"), nil, nil)
	for _, w := range []struct {
		pos       Pos
		lineStart bool
	}{{at(1, 3), true}, {at(2, 2), true}, {at(3, 6), true}} {
		tok := lx.next()
		if tok.Pos != w.pos || tok.LineStart != w.lineStart {
			t.Errorf("%s at %v start %v, want %v %v", tok.Text, tok.Pos, tok.LineStart, w.pos, w.lineStart)
		}
	}
	if tok := lx.next(); tok.Kind != tEOF {
		t.Errorf("%q, want end of file", tok.Text)
	}
}
