package script

import (
	"strings"

	"github.com/tcpconform/tcpconform/wire"
)

// Option kinds written as wire.Unknown.
const (
	kindAccECN0  wire.OptionKind = 172 // AccECN, e0b field first
	kindAccECN1  wire.OptionKind = 174 // AccECN, e1b field first
	maxOptionLen                 = 40  // bytes of options a TCP header holds
	maxMD5Len                    = 16
	maxCookieLen                 = maxOptionLen - 2 // what one option can hold
	maxWScale                    = 14               // RFC 7323 section 2.3
)

// parseTCPOptions parses "<...>" or "<opt, opt, ...>".
func (p *parser) parseTCPOptions(pkt *Packet) {
	lt := p.advance()
	pkt.HasOptions = true
	if p.cur().Kind == tEllipsis {
		p.advance()
		p.expect('>')
		pkt.AnyOptions = true
		if pkt.Dir == Inbound {
			p.errorf(lt.Pos, "<...> is allowed only on outbound packets")
		}
		return
	}
	for {
		pkt.Options = append(pkt.Options, p.parseTCPOption(pkt))
		if p.accept(',') {
			continue
		}
		if !p.cur().is('>') {
			p.syntaxError(p.cur(), "',' or '>'")
		}
		p.advance()
		break
	}
	if n := wire.OptionsLen(pkt.Options); n > maxOptionLen {
		p.errorf(lt.Pos, "TCP options take %d bytes, more than the %d a header holds", n, maxOptionLen)
	}
}

// parseTCPOption parses one option of a list. After a semantic error in
// its value the option is still returned, with the value as zero.
func (p *parser) parseTCPOption(pkt *Packet) wire.Option {
	t := p.cur()
	if t.Kind == tWord && (t.Text == "AccECN0" || t.Text == "AccECN1") {
		p.advance()
		p.notePort(t.Pos, nplabMarker, "option %s", t.Text)
		if t.Text == "AccECN0" {
			return p.parseAccECNCounters(kindAccECN0, "ee0b", "eceb", "ee1b")
		}
		return p.parseAccECNCounters(kindAccECN1, "ee1b", "eceb", "ee0b")
	}
	if !t.Keyword {
		if t.Kind == tWord {
			p.errorf(t.Pos, "unknown TCP option %q", t.Text)
			panic(bailout{})
		}
		p.syntaxError(t, "TCP option")
	}
	p.advance()
	switch t.Text {
	case "nop":
		return wire.NOP{}
	case "eol":
		return wire.EOL{}
	case "sackOK":
		return wire.SACKPermitted{}
	case "mss":
		if v := p.cur(); v.Kind == tWord && symbolic(v.Text) {
			p.advance()
			pkt.Undefined = append(pkt.Undefined, &Symbol{Pos: v.Pos, Name: v.Text, Option: len(pkt.Options) + 1})
			return wire.MSS(0)
		}
		return wire.MSS(p.uintNext(16, "mss"))
	case "wscale":
		v := p.cur()
		ws := p.uintNext(8, "wscale")
		if ws > maxWScale && pkt.Dir == Outbound {
			p.errorf(v.Pos, "wscale %d is more than %d, which a stack must never send (RFC 7323 section 2.3)", ws, maxWScale)
		}
		return wire.WindowScale(ws)
	case "sack":
		return p.parseSACK()
	case "TS":
		p.expectKw("val")
		val := uint32(p.uintNext(32, "TS val"))
		p.expectKw("ecr")
		return wire.Timestamps{Val: val, Ecr: uint32(p.uintNext(32, "TS ecr"))}
	case "md5":
		if v := p.cur(); v.Kind == tWord && v.Text == "valid" {
			p.advance()
			pkt.MD5Valid = true
			p.notePort(v.Pos, nplabMarker, `"md5 valid"`)
			return wire.Unknown{Type: wire.KindMD5, Data: make([]byte, maxMD5Len)}
		}
		digest := p.parseHexBlob(pkt, "md5 digest", maxMD5Len, true)
		return wire.Unknown{Type: wire.KindMD5, Data: digest}
	case "FO":
		cookie := p.parseHexBlob(pkt, "FO cookie", maxCookieLen, false)
		return wire.Unknown{Type: wire.KindFastOpen, Data: cookie}
	case "FOEXP":
		cookie := p.parseHexBlob(pkt, "FOEXP cookie", maxCookieLen, false)
		return wire.WithFastOpenCookie(wire.Unknown{Type: wire.KindExperimental}, cookie)
	case "ECN":
		return p.parseAccECN()
	}
	p.syntaxError(t, "TCP option")
	return nil
}

// parseSACK parses the blocks "L:R L:R ..." of a sack option.
func (p *parser) parseSACK() wire.Option {
	var s wire.SACK
	for {
		l := uint32(p.uintNext(32, "SACK edge"))
		p.expect(':')
		r := uint32(p.uintNext(32, "SACK edge"))
		s = append(s, wire.SACKBlock{Left: l, Right: r})
		if t := p.cur(); t.Kind != tInt {
			return s
		}
	}
}

// parseHexBlob parses the hex bytes of an md5 digest or a Fast Open cookie:
// a word or number of an even count of hex digits, at most max bytes. A
// cookie may be absent; an undefined upper-case -D symbol (TFO_COOKIE) is
// noted on pkt and reads as no bytes.
func (p *parser) parseHexBlob(pkt *Packet, what string, max int, required bool) []byte {
	t := p.cur()
	if t.Kind != tWord && t.Kind != tInt && t.Kind != tHex || t.Keyword {
		if required {
			p.syntaxError(t, "hex bytes")
		}
		return nil
	}
	p.advance()
	digits := t.Text
	if t.Kind == tHex {
		digits = digits[2:]
	}
	b, ok := decodeHex(digits)
	switch {
	case ok && len(b) > max:
		p.errorf(t.Pos, "%s is %d bytes, more than %d", what, len(b), max)
	case ok:
		return b
	case symbolic(t.Text):
		pkt.Undefined = append(pkt.Undefined, &Symbol{Pos: t.Pos, Name: t.Text, Option: len(pkt.Options) + 1})
		return nil
	case strings.Trim(digits, "0123456789abcdefABCDEF") == "":
		p.errorf(t.Pos, "%s %s has an odd number of hex digits", what, t.Text)
	default:
		p.errorf(t.Pos, "%s %q is not hex", what, t.Text)
	}
	return nil
}

// parseAccECN parses "ECN e0b N ceb N e1b N" or "ECN e1b N ceb N e0b N";
// each may stop early. The counters are 24-bit, written in order.
func (p *parser) parseAccECN() wire.Option {
	switch first := p.cur(); {
	case first.isKw("e0b"):
		return p.parseAccECNCounters(kindAccECN0, "e0b", "ceb", "e1b")
	case first.isKw("e1b"):
		return p.parseAccECNCounters(kindAccECN1, "e1b", "ceb", "e0b")
	default:
		p.syntaxError(first, `"e0b" or "e1b"`)
	}
	return nil
}

// parseAccECNCounters parses the "name N" counters of an AccECN option of
// kind, in the order given (RFC 9768 section 3.2.3); each may stop early.
// nplab writes the option "AccECN0 ee0b N eceb N ee1b N" and "AccECN1 ee1b
// N eceb N ee0b N".
func (p *parser) parseAccECNCounters(kind wire.OptionKind, order ...string) wire.Option {
	var data []byte
	for _, name := range order {
		if t := p.cur(); t.Kind != tWord || t.Text != name {
			break
		}
		p.advance()
		v := p.uintNext(24, name)
		data = append(data, byte(v>>16), byte(v>>8), byte(v))
	}
	return wire.Unknown{Type: kind, Data: data}
}
