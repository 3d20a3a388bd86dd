package script

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/tcpconform/tcpconform/wire"
)

// parsePacket parses a packet line after its time:
//
//	dir {encap} [ipinfo] [encap psp spi N] (tcp | udp ... | icmp ...)
func (p *parser) parsePacket() *Packet {
	dir := p.advance()
	pkt := &Packet{Pos: dir.Pos, ACE: -1}
	if dir.Text == ">" {
		pkt.Dir = Outbound
	}
	for t := p.cur(); t.isKw("ipv4") || t.isKw("ipv6") || t.isKw("gre") || t.isKw("mpls"); t = p.cur() {
		pkt.Encaps = append(pkt.Encaps, p.parseEncap(pkt.Dir))
	}
	var ecnTok token
	if t := p.cur(); t.is('[') || t.is('(') {
		pkt.IP, ecnTok = p.parseIPInfo(pkt.Dir)
	}
	if t := p.cur(); t.isKw("encap") {
		pkt.PSPSPI = p.parsePSP()
		p.notePort(t.Pos, googleOnly, `"encap psp"`)
	}
	switch t := p.cur(); {
	case t.isKw("udp"):
		if pkt.IP.ECN != ECNUnset {
			p.errorf(ecnTok.Pos, "%s is not allowed on UDP packets", ecnTok.Text)
		}
		p.parseUDP(pkt)
	case t.isKw("icmp"):
		p.parseICMP(pkt)
	default:
		p.parseTCP(pkt)
	}
	return pkt
}

// parseEncap parses one encapsulation prefix, ending with ':'.
func (p *parser) parseEncap(dir Direction) Encap {
	kw := p.advance()
	e := Encap{Pos: kw.Pos, Kind: kw.Text}
	switch kw.Text {
	case "ipv4", "ipv6":
		if t := p.cur(); t.is('[') || t.is('(') {
			p.parseIPInfo(dir)
		}
		e.Src = p.parseAddr(kw.Text)
		p.expect('>')
		e.Dst = p.parseAddr(kw.Text)
	case "gre":
		p.skipGREFields()
	case "mpls":
		for p.cur().is('(') {
			p.parseMPLSEntry()
		}
	}
	colon := p.expect(':')
	e.Text = p.text(kw.Off, colon.End)
	return e
}

// parseAddr parses the outer address of an "ipv4" or "ipv6" prefix.
func (p *parser) parseAddr(family string) netip.Addr {
	t := p.cur()
	if t.Kind != tIPv4 && t.Kind != tIPv6 {
		p.syntaxError(t, family+" address")
	}
	p.advance()
	a, err := netip.ParseAddr(t.Text)
	switch {
	case err != nil:
		p.errorf(t.Pos, "bad address %s", t.Text)
	case a.Is4() != (family == "ipv4"):
		p.errorf(t.Pos, "%s encapsulation needs %s addresses, not %s", family, strings.ToUpper(family[:2])+family[2:], t.Text)
	}
	return a
}

// skipGREFields reads the optional fields of a "gre" prefix, up to its ':'.
func (p *parser) skipGREFields() {
	for {
		t := p.cur()
		switch {
		case t.is(':'):
			return
		case t.Kind == tWord || t.Kind == tInt || t.Kind == tHex || t.is(',') || t.is('[') || t.is(']'):
			p.advance()
		default:
			p.syntaxError(t, "GRE field or ':'")
		}
	}
}

// parseMPLSEntry parses "(label L, tc T, [S], ttl N)".
func (p *parser) parseMPLSEntry() {
	p.expect('(')
	p.expectKw("label")
	p.uintNext(20, "MPLS label")
	p.expect(',')
	p.expectKw("tc")
	p.uintNext(3, "MPLS tc")
	p.expect(',')
	if p.accept('[') {
		if t := p.cur(); t.Kind != tWord || t.Text != "S" {
			p.syntaxError(t, "\"S\"")
		}
		p.advance()
		p.expect(']')
		p.expect(',')
	}
	p.expectKw("ttl")
	p.uintNext(8, "ttl")
	p.expect(')')
}

// ecnNames are the ECN codepoints an ip-info block may name.
var ecnNames = map[string]ECN{"noecn": NoECN, "ect0": ECT0, "ect1": ECT1, "ce": CE, "ect01": ECT01}

// parseIPInfo parses "[...]" or "(...)": a comma list of IP header fields.
// google's packetdrill takes an ECN codepoint or "tos 0xNN", "flowlabel
// 0xNNNNN", "ttl N", or the first two together; nplab's takes any list of
// them and of "class 0xNN" and "hlim N", its names for the IPv6 traffic
// class and hop limit. It also returns the ECN token, for errors.
func (p *parser) parseIPInfo(dir Direction) (IPInfo, token) {
	open := p.advance()
	closer := byte(']')
	if open.Text == "(" {
		closer = ')'
	}
	var info IPInfo
	var ecnTok token
	var fields []string // the field kinds in order: "ecn", "tos", "ttl", "flowlabel"
	for {
		t := p.cur()
		ecn, isECN := ecnNames[t.Text]
		word := t.Kind == tWord && !t.Keyword
		field := t.Text
		switch {
		case t.Keyword && isECN:
			p.advance()
			field = "ecn"
			if info.ECN != ECNUnset || info.TOS != nil {
				p.errorf(t.Pos, "%s: the ECN field is already set", t.Text)
			}
			info.ECN, ecnTok = ecn, t
			if ecn == ECT01 && dir == Inbound {
				p.errorf(t.Pos, "ect01 is allowed only on outbound packets")
			}
		case t.isKw("tos") || word && t.Text == "class":
			p.advance()
			field = "tos"
			if info.ECN != ECNUnset || info.TOS != nil {
				p.errorf(t.Pos, "%s: the TOS byte is already set", t.Text)
			}
			info.TOS, info.TOSWord = ptr(uint8(p.hexNext(8, t.Text))), t.Text
		case t.isKw("ttl") || word && t.Text == "hlim":
			p.advance()
			field = "ttl"
			if info.TTL != nil {
				p.errorf(t.Pos, "%s: the TTL is already set", t.Text)
			}
			info.TTL, info.TTLWord = ptr(uint8(p.uintNext(8, t.Text))), t.Text
		case t.isKw("flowlabel"):
			p.advance()
			if info.FlowLabel != nil {
				p.errorf(t.Pos, "flowlabel is already set")
			}
			info.FlowLabel = ptr(uint32(p.hexNext(20, "flowlabel")))
		default:
			p.syntaxError(t, `ECN codepoint, "tos", "class", "ttl", "hlim" or "flowlabel"`)
		}
		if word {
			p.notePort(t.Pos, nplabMarker, "IPv6 field %q", t.Text)
		}
		fields = append(fields, field)
		if !p.accept(',') {
			break
		}
	}
	end := p.expect(closer)
	if !googleIPInfo[strings.Join(fields, ",")] {
		p.notePort(open.Pos, nplabOnly, "IP field list %q", p.text(open.Off, end.End))
	}
	return info, ecnTok
}

// googleIPInfo are the field lists google's packetdrill accepts.
var googleIPInfo = set(`ecn tos flowlabel ttl ecn,flowlabel tos,flowlabel`)

// hexNext consumes a number that must be written in hex (tos, flowlabel).
func (p *parser) hexNext(bits int, what string) uint64 {
	if t := p.cur(); t.Kind != tHex {
		p.syntaxError(t, "hex number")
	}
	return p.uintNext(bits, what)
}

// parsePSP parses "encap psp spi N".
func (p *parser) parsePSP() *uint32 {
	p.advance()
	p.expectKw("psp")
	p.expectKw("spi")
	return ptr(uint32(p.uintNext(32, "spi")))
}

// parsePorts parses an optional explicit "sport>dport".
func (p *parser) parsePorts() *Ports {
	if t := p.cur(); t.Kind != tInt || !p.peek(1).is('>') {
		return nil
	}
	src := p.uintNext(16, "port")
	p.advance()
	if t := p.cur(); t.Kind != tInt {
		p.syntaxError(t, "port")
	}
	return &Ports{Src: uint16(src), Dst: uint16(p.uintNext(16, "port"))}
}

// parseTCP parses the TCP part of a packet line:
//
//	[sport>dport] flags start:end(len) [ack N] [win N] [urg N] [<options>]
func (p *parser) parseTCP(pkt *Packet) {
	pkt.Proto = TCP
	pkt.Ports = p.parsePorts()
	pkt.Flags, pkt.ACE = p.parseFlags()
	if t := p.cur(); t.Kind == tEllipsis {
		p.advance()
		p.expect('(')
		pkt.Len = int(p.uintNext(16, "length"))
		p.expect(')')
		pkt.AnySeq, pkt.SeqEnd = true, uint32(pkt.Len)
		p.notePort(t.Pos, nplabMarker, `sequence range "...(len)"`)
	} else {
		pkt.SeqStart, pkt.SeqEnd, pkt.Len = p.parseSeq()
		if t := p.cur(); t.is('!') {
			p.advance()
			pkt.AbsSeq = true
			p.notePort(t.Pos, nplabMarker, `absolute sequence range "!"`)
		}
	}
	more := `"ack", "win", "urg", '<'`
	if p.cur().isKw("ack") {
		p.advance()
		pkt.Ack = ptr(uint32(p.uintNext(32, "ack number")))
		more = `"win", "urg", '<'`
	}
	if p.cur().isKw("win") {
		p.advance()
		pkt.Win = ptr(uint16(p.uintNext(16, "window")))
		more = `"urg", '<'`
	}
	if p.cur().isKw("urg") {
		p.advance()
		pkt.Urg = ptr(uint16(p.uintNext(16, "urgent pointer")))
		more = `'<'`
	}
	if p.cur().is('<') {
		p.parseTCPOptions(pkt)
		more = ""
	}
	pkt.UDPEncap = p.parseUDPEncap()
	if pkt.Dir == Inbound && pkt.Win == nil {
		p.errorf(pkt.Pos, `inbound TCP packet needs a window ("win N")`)
	}
	p.expectEventEnd(more)
}

// parseUDPEncap parses nplab's "/udp(sport > dport)" when it is next.
func (p *parser) parseUDPEncap() *Ports {
	slash := p.cur()
	if !slash.is('/') {
		return nil
	}
	p.advance()
	p.expectKw("udp")
	p.expect('(')
	src := p.uintNext(16, "port")
	p.expect('>')
	dst := p.uintNext(16, "port")
	p.expect(')')
	p.notePort(slash.Pos, nplabMarker, `UDP encapsulation "/udp(...)"`)
	return &Ports{Src: uint16(src), Dst: uint16(dst)}
}

// flagBits maps the flag letters of a packet line to TCP flags.
var flagBits = map[byte]wire.Flags{
	'F': wire.FIN, 'S': wire.SYN, 'R': wire.RST, 'P': wire.PSH, 'U': wire.URG,
	'E': wire.ECE, 'W': wire.CWR, 'A': wire.AE, '.': wire.ACK,
}

// parseFlags parses "." , "-", or flag letters with an optional '.'. An
// AccECN ACE value is a digit among the letters ("S5") or after the '.'
// ("S.5" and ".3", lexed as a word and a float ".5"). nplab also takes
// letters after the '.' ("S.E").
func (p *parser) parseFlags() (wire.Flags, int) {
	t := p.cur()
	fl := flagSpec{ace: -1}
	switch {
	case t.is('-'):
		p.advance()
		return 0, -1
	case t.is('.') || t.Kind == tFloat && t.Text[0] == '.':
	case t.Kind == tWord && !t.Keyword:
		p.advance()
		p.addFlags(&fl, t, t.Text)
	default:
		p.syntaxError(t, "TCP flags")
	}
	switch d := p.cur(); {
	case d.is('.'):
		p.advance()
		fl.flags |= wire.ACK
		if w := p.cur(); w.Kind == tWord && !w.Keyword {
			p.advance()
			p.notePort(w.Pos, nplabOnly, "flags %q after '.'", w.Text)
			p.addFlags(&fl, w, w.Text)
		}
	case d.Kind == tFloat && d.Text[0] == '.':
		p.advance()
		fl.flags |= wire.ACK
		if len(d.Text) != 2 || d.Text[1] > '7' {
			p.errorf(d.Pos, "ACE field %s must be one digit from 0 to 7", d.Text[1:])
			break
		}
		p.addFlags(&fl, d, d.Text[1:])
	}
	if fl.ace >= 0 && fl.flags&(wire.ECE|wire.CWR|wire.AE) != 0 {
		p.errorf(fl.acePos, "ACE field cannot be combined with the E, W or A flags")
	}
	return fl.flags, fl.ace
}

// flagSpec is what the flags of a packet line set so far.
type flagSpec struct {
	flags  wire.Flags
	ace    int // -1 when no digit was written
	acePos Pos
}

// addFlags adds the letters and ACE digit of text, written at t.
func (p *parser) addFlags(fl *flagSpec, t token, text string) {
	for i := 0; i < len(text); i++ {
		c := text[i]
		bit, ok := flagBits[c]
		switch {
		case '0' <= c && c <= '7' && fl.ace >= 0:
			p.errorf(t.Pos, "two ACE digits in %q", t.Text)
		case '0' <= c && c <= '7':
			fl.ace, fl.acePos = int(c-'0'), t.Pos
		case !ok || c == '.':
			p.errorf(t.Pos, "unknown TCP flag %q in %q", c, t.Text)
		default:
			fl.flags |= bit
		}
	}
}

// parseSeq parses "start:end(len)" and checks that end = start + len.
func (p *parser) parseSeq() (start, end uint32, n int) {
	st := p.cur()
	if st.Kind != tInt {
		p.syntaxError(st, "sequence range start:end(len)")
	}
	start = uint32(p.uintNext(32, "sequence number"))
	p.expect(':')
	et := p.cur()
	if et.Kind != tInt {
		p.syntaxError(et, "sequence number")
	}
	end = uint32(p.uintNext(32, "sequence number"))
	p.expect('(')
	lt := p.cur()
	if lt.Kind != tInt {
		p.syntaxError(lt, "length")
	}
	n = int(p.uintNext(16, "length"))
	p.expect(')')
	if start+uint32(n) != end {
		p.errorf(st.Pos, "sequence range %s:%s does not match length %s", st.Text, et.Text, lt.Text)
	}
	return start, end, n
}

// parseUDP parses "udp [sport>dport] (len)".
func (p *parser) parseUDP(pkt *Packet) {
	p.advance()
	pkt.Proto = UDP
	pkt.Ports = p.parsePorts()
	p.expect('(')
	pkt.Len = int(p.uintNext(16, "length"))
	p.expect(')')
	p.expectEventEnd("")
}

// parseICMP parses "icmp TYPE [CODE] [mtu N] [id N] [[echoed]]".
func (p *parser) parseICMP(pkt *Packet) {
	p.advance()
	pkt.Proto = ICMP
	t := p.cur()
	if t.Kind != tWord || t.Keyword {
		p.syntaxError(t, "ICMP type")
	}
	pkt.ICMPType, pkt.ICMPCode = p.icmpNames(pkt)
	more := `"mtu", "id", '['`
	if p.cur().isKw("mtu") {
		p.advance()
		pkt.MTU = ptr(uint32(p.uintNext(32, "mtu")))
		more = `"id", '['`
	}
	if p.cur().isKw("id") {
		p.advance()
		pkt.ID = ptr(uint32(p.uintNext(16, "id")))
		more = `'['`
	}
	if p.accept('[') {
		pkt.Echoed = p.parseEchoed()
		more = ""
	}
	p.expectEventEnd(more)
}

// icmpNames consumes an ICMP type name and an optional code name. Each
// must be in the icmpNames table (a code under its type), be written
// "type_N" or "code_N", or be an undefined upper-case -D symbol.
func (p *parser) icmpNames(pkt *Packet) (typ, code string) {
	tt := p.advance()
	info, known := icmpNames[tt.Text]
	switch {
	case symbolic(tt.Text):
		pkt.Undefined = append(pkt.Undefined, &Symbol{Pos: tt.Pos, Name: tt.Text})
	case numberedName(tt.Text, "type_"):
	case !known:
		p.errorf(tt.Pos, "unknown ICMP type %q", tt.Text)
	case info.kind != everyDialect:
		p.notePortName(tt, info.kind, "type")
	}
	ct := p.cur()
	if ct.Kind != tWord || ct.Keyword {
		return tt.Text, ""
	}
	p.advance()
	codes := info.codes
	if symbolic(tt.Text) {
		codes = allICMPCodes
	}
	kind, ok := codes[ct.Text]
	switch {
	case symbolic(ct.Text):
		pkt.Undefined = append(pkt.Undefined, &Symbol{Pos: ct.Pos, Name: ct.Text})
	case numberedName(ct.Text, "code_"):
	case !ok && (known || numberedName(tt.Text, "type_")):
		p.errorf(ct.Pos, "unknown ICMP code %q for type %s", ct.Text, tt.Text)
	case !ok:
		p.errorf(ct.Pos, "unknown ICMP code %q", ct.Text)
	case kind != everyDialect:
		p.notePortName(ct, kind, "code")
	}
	return tt.Text, ct.Text
}

// notePortName notes an ICMP type or code name only one dialect knows.
func (p *parser) notePortName(t token, kind syntaxKind, what string) {
	p.notePort(t.Pos, kind, "ICMP %s %s", what, t.Text)
}

// numberedName reports whether s is prefix followed by a number that fits
// in a byte ("code_3").
func numberedName(s, prefix string) bool {
	n, ok := strings.CutPrefix(s, prefix)
	v, err := strconv.ParseUint(n, 10, 8)
	return ok && err == nil && v <= 255
}

// parseEchoed parses the inside of "[start:end(len)]", "[udp (len)]" or
// "[raw (len)]", and the closing ']'.
func (p *parser) parseEchoed() *Echoed {
	e := &Echoed{Proto: "tcp"}
	switch t := p.cur(); {
	case t.isKw("udp") || t.isKw("raw"):
		p.advance()
		e.Proto = t.Text
		p.expect('(')
		e.Len = int(p.uintNext(16, "length"))
		p.expect(')')
	case t.Kind == tInt:
		e.SeqStart, e.SeqEnd, e.Len = p.parseSeq()
		e.UDPEncap = p.parseUDPEncap()
	default:
		p.syntaxError(t, "echoed packet (start:end(len), \"udp\" or \"raw\")")
	}
	p.expect(']')
	return e
}

// symbolic reports whether s reads as an upper-case symbol (TFO_COOKIE,
// CODE) that a -D definition was meant to replace.
func symbolic(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || isDigit(c) || c == '_') {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }
