package script

import (
	"net/netip"
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
	if p.cur().isKw("encap") {
		pkt.PSPSPI = p.parsePSP()
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

// parseIPInfo parses "[...]" or "(...)": a TOS spec, "flowlabel N",
// "ttl N", or a TOS spec and a flow label. It also returns the ECN token,
// for errors.
func (p *parser) parseIPInfo(dir Direction) (IPInfo, token) {
	open := p.advance()
	closer := byte(']')
	if open.Text == "(" {
		closer = ')'
	}
	var info IPInfo
	var ecnTok token
	t := p.cur()
	switch ecn, isECN := ecnNames[t.Text]; {
	case t.Keyword && isECN:
		p.advance()
		info.ECN, ecnTok = ecn, t
		if ecn == ECT01 && dir == Inbound {
			p.errorf(t.Pos, "ect01 is allowed only on outbound packets")
		}
	case t.isKw("tos"):
		p.advance()
		info.TOS = ptr(uint8(p.hexNext(8, "tos")))
	case t.isKw("ttl"):
		p.advance()
		info.TTL = ptr(uint8(p.uintNext(8, "ttl")))
	case t.isKw("flowlabel"):
	default:
		p.syntaxError(t, "ECN codepoint, \"tos\", \"ttl\" or \"flowlabel\"")
	}
	if info.TTL == nil && (info.ECN == ECNUnset && info.TOS == nil || p.accept(',')) {
		p.expectKw("flowlabel")
		info.FlowLabel = ptr(uint32(p.hexNext(20, "flowlabel")))
	}
	p.expect(closer)
	return info, ecnTok
}

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
	pkt.SeqStart, pkt.SeqEnd, pkt.Len = p.parseSeq()
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
	if pkt.Dir == Inbound && pkt.Win == nil {
		p.errorf(pkt.Pos, `inbound TCP packet needs a window ("win N")`)
	}
	p.expectEventEnd(more)
}

// flagBits maps the flag letters of a packet line to TCP flags.
var flagBits = map[byte]wire.Flags{
	'F': wire.FIN, 'S': wire.SYN, 'R': wire.RST, 'P': wire.PSH, 'U': wire.URG,
	'E': wire.ECE, 'W': wire.CWR, 'A': wire.AE, '.': wire.ACK,
}

// parseFlags parses "." , "-", letters with an optional '.', and the
// AccECN forms "S.5" and ".3" (lexed as a word and a float ".5").
func (p *parser) parseFlags() (wire.Flags, int) {
	t := p.cur()
	var letters string
	switch {
	case t.is('-'):
		p.advance()
		return 0, -1
	case t.is('.') || t.Kind == tFloat && t.Text[0] == '.':
	case t.Kind == tWord && !t.Keyword:
		letters = t.Text
		p.advance()
	default:
		p.syntaxError(t, "TCP flags")
	}
	var f wire.Flags
	for i := 0; i < len(letters); i++ {
		bit, ok := flagBits[letters[i]]
		if !ok || letters[i] == '.' {
			p.errorf(t.Pos, "unknown TCP flag %q in %q", letters[i], letters)
			continue
		}
		f |= bit
	}
	ace := -1
	switch d := p.cur(); {
	case d.is('.'):
		p.advance()
		f |= wire.ACK
	case d.Kind == tFloat && d.Text[0] == '.':
		p.advance()
		f |= wire.ACK
		if len(d.Text) != 2 || d.Text[1] > '7' {
			p.errorf(d.Pos, "ACE field %s must be one digit from 0 to 7", d.Text[1:])
			break
		}
		ace = int(d.Text[1] - '0')
		if f&(wire.ECE|wire.CWR|wire.AE) != 0 {
			p.errorf(d.Pos, "ACE field cannot be combined with the E, W or A flags")
		}
	}
	return f, ace
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
	pkt.ICMPType = p.icmpName(pkt, icmpTypes, "type")
	if t := p.cur(); t.Kind == tWord && !t.Keyword {
		pkt.ICMPCode = p.icmpName(pkt, icmpCodes, "code")
	}
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

// icmpName consumes an ICMP type or code name, which must be in names or
// be an undefined upper-case -D symbol.
func (p *parser) icmpName(pkt *Packet, names map[string]bool, what string) string {
	t := p.advance()
	switch {
	case symbolic(t.Text):
		pkt.Undefined = append(pkt.Undefined, &Symbol{Pos: t.Pos, Name: t.Text})
	case !names[t.Text]:
		p.errorf(t.Pos, "unknown ICMP %s %q", what, t.Text)
	}
	return t.Text
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
