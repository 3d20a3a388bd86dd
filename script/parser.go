package script

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"
)

// parser is a recursive-descent parser over a lazily filled token buffer.
// A syntax error records itself and unwinds to the event loop with a
// bailout panic; the loop then skips to the next line that starts an event.
type parser struct {
	lx   *lexer
	src  []byte
	buf  []token
	i    int
	prev token // the last token consumed
	errs ErrorList
	file *File

	firstEventOff int  // offset of the first event's time; -1 before it
	lostFirst     bool // the first event had a syntax error
	nesting       int  // depth of the expression being parsed
	port          []portNote
	assignTo      string // the name of the "name=value" being parsed
}

// bailout unwinds from a syntax error to the event loop.
type bailout struct{}

// tooMany unwinds out of the parse after MaxErrors errors.
type tooMany struct{}

func newParser(path string, src []byte, opts ParseOptions) *parser {
	p := &parser{src: src, file: &File{Path: path}, firstEventOff: -1}
	p.lx = newLexer(path, src, maps.Clone(opts.Defines), p.errorf)
	if p.lx.defines == nil {
		p.lx.defines = map[string]string{}
	}
	return p
}

// errorf records an error at pos.
func (p *parser) errorf(pos Pos, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	if len(p.errs) >= MaxErrors {
		panic(tooMany{})
	}
}

// syntaxError records "unexpected T, expected what" at t and unwinds.
func (p *parser) syntaxError(t token, expected string) {
	if t.Bad {
		panic(bailout{})
	}
	p.errorf(t.Pos, "syntax error: unexpected %s, expected %s", t.describe(), expected)
	panic(bailout{})
}

// peek returns the token k places ahead of the current one.
func (p *parser) peek(k int) token {
	for len(p.buf) <= p.i+k {
		p.buf = append(p.buf, p.lx.next())
	}
	return p.buf[p.i+k]
}

// cur returns the current token.
func (p *parser) cur() token { return p.peek(0) }

// advance consumes the current token and returns it.
func (p *parser) advance() token {
	p.prev = p.peek(0)
	if p.prev.Kind != tEOF {
		p.i++
	}
	if p.i == len(p.buf) {
		p.buf, p.i = p.buf[:0], 0
	}
	return p.prev
}

// expect consumes the character c or fails with a syntax error.
func (p *parser) expect(c byte) token {
	if !p.cur().is(c) {
		p.syntaxError(p.cur(), fmt.Sprintf("'%c'", c))
	}
	return p.advance()
}

// expectKw consumes the keyword kw or fails with a syntax error.
func (p *parser) expectKw(kw string) token {
	if !p.cur().isKw(kw) {
		p.syntaxError(p.cur(), fmt.Sprintf("%q", kw))
	}
	return p.advance()
}

// accept consumes the character c when it is next.
func (p *parser) accept(c byte) bool {
	if p.cur().is(c) {
		p.advance()
		return true
	}
	return false
}

// text returns the source from offset a to b.
func (p *parser) text(a, b int) string { return string(p.src[a:b]) }

// guard runs fn; after a syntax error it skips to the next event.
func (p *parser) guard(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				panic(r)
			}
			p.sync()
		}
	}()
	fn()
}

// sync skips tokens up to a line that starts an event, an option or a
// shell command.
func (p *parser) sync() {
	for {
		t := p.cur()
		if t.Kind == tEOF || t.LineStart && (t.Kind == tBackq || t.Kind == tOption || p.startsEvent()) {
			return
		}
		p.advance()
	}
}

// isTimeStart reports whether t can begin an event's time.
func isTimeStart(t token) bool { return t.isNumber() || t.is('+') || t.is('*') }

// startsEvent reports whether the tokens ahead read as a time followed by
// the start of an action.
func (p *parser) startsEvent() bool {
	if !isTimeStart(p.cur()) {
		return false
	}
	for k := 0; k < 8; k++ {
		t := p.peek(k)
		switch {
		case isTimeStart(t) || t.is('~') || t.Kind == tEllipsis:
		case t.is('<') || t.is('>') || t.Kind == tBackq || t.Kind == tCode:
			return true
		default:
			return t.Kind == tWord && !t.Keyword && p.peek(k+1).is('(')
		}
	}
	return false
}

// atEventEnd reports whether the current token ends an action: the end of
// the script, a shell command, the time of the next event, or a misplaced
// option (reported by the event loop).
func (p *parser) atEventEnd() bool {
	t := p.cur()
	return t.Kind == tEOF || t.Kind == tBackq || t.Kind == tOption || isTimeStart(t)
}

// expectEventEnd fails unless the action just parsed is complete; more
// names what could still follow it.
func (p *parser) expectEventEnd(more string) {
	if !p.atEventEnd() {
		if more != "" {
			more += " or "
		}
		p.syntaxError(p.cur(), more+"next event")
	}
}

// parseFile parses the whole script into p.file.
func (p *parser) parseFile() {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(tooMany); !ok {
				panic(r)
			}
		}
		p.fillHeader()
	}()
	for p.cur().Kind == tOption {
		p.guard(p.parseOption)
	}
	if t := p.cur(); t.Kind == tBackq {
		p.file.Init = &Command{Pos: t.Pos, Cmd: t.Text}
		p.advance()
	}
	for {
		t := p.cur()
		switch {
		case t.Kind == tEOF:
			if len(p.file.Events) == 0 && len(p.errs) == 0 {
				p.errorf(t.Pos, "syntax error: unexpected end of file, expected time")
			}
			return
		case isTimeStart(t):
			p.guard(p.parseEvent)
		case t.Kind == tBackq && len(p.file.Events) > 0:
			p.parseCleanup()
		default:
			p.guard(func() {
				p.advance()
				p.syntaxError(t, "time")
			})
		}
	}
}

// parseCleanup reads an untimed shell command after the events, which must
// be the last thing in the script.
func (p *parser) parseCleanup() {
	t := p.advance()
	if p.cur().Kind != tEOF {
		p.errorf(t.Pos, "shell command between events needs a time; only the first and the last command may be untimed")
		return
	}
	p.file.Cleanup = &Command{Pos: t.Pos, Cmd: t.Text}
}

// fillHeader sets the Title and Labels from the comments before the first
// event.
func (p *parser) fillHeader() {
	for _, c := range p.lx.comments {
		if p.firstEventOff >= 0 && c.Off >= p.firstEventOff {
			break
		}
		for _, line := range strings.Split(c.Text, "\n") {
			line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "*"))
			if p.file.Title == "" {
				p.file.Title = line
			}
			if rest, ok := strings.CutPrefix(line, "labels:"); ok && p.file.Labels == nil {
				p.file.Labels = strings.Fields(rest)
			}
		}
	}
}

// parseEvent parses "time action".
func (p *parser) parseEvent() {
	if p.firstEventOff < 0 {
		p.firstEventOff = p.cur().Off
		p.lx.keepComments = false
		p.lostFirst = true
		defer func() { p.lostFirst = len(p.file.Events) == 0 }()
	}
	tm := p.parseTime()
	ev := &Event{Pos: tm.Pos, Time: tm}
	t := p.cur()
	switch {
	case t.is('<') || t.is('>'):
		ev.Action = p.parsePacket()
	case t.Kind == tBackq:
		ev.Action = &Command{Pos: t.Pos, Cmd: t.Text}
		p.advance()
		p.expectEventEnd("")
	case t.Kind == tCode:
		ev.Action = &Code{Pos: t.Pos, Text: t.Text}
		p.advance()
		p.expectEventEnd("")
	case t.Kind == tWord && !t.Keyword && p.peek(1).is('('):
		ev.Action = p.parseSyscall()
	default:
		p.syntaxError(t, "'<', '>', system call, shell command or %{ code }%")
	}
	p.file.Events = append(p.file.Events, ev)
}

// parseTime parses the time column: "*", "[+]T", "T~T", "+T~+T" or
// "[+]T...END".
func (p *parser) parseTime() Time {
	tm := Time{Pos: p.cur().Pos}
	if p.accept('*') {
		tm.Kind = AnyTime
		return tm
	}
	if p.accept('+') {
		tm.Kind = Relative
	}
	tm.Start = p.parseSeconds()
	switch {
	case p.accept('~'):
		if tm.Kind == Relative {
			p.expect('+')
		}
		end := p.cur()
		tm.Range, tm.End = true, p.parseSeconds()
		if tm.End < tm.Start {
			p.errorf(end.Pos, "time range ends before it starts")
		}
	case p.cur().Kind == tEllipsis:
		p.advance()
		end := p.cur()
		tm.Blocking, tm.BlockEnd = true, p.parseSeconds()
		if tm.BlockEnd < tm.Start {
			p.errorf(end.Pos, "blocking call ends before it starts")
		}
	}
	return tm
}

// maxSeconds bounds a time so that it fits a time.Duration.
const maxSeconds = 1e9

// parseSeconds parses a number of seconds, kept to the microsecond.
func (p *parser) parseSeconds() time.Duration {
	t := p.cur()
	if !t.isNumber() {
		p.syntaxError(t, "number")
	}
	p.advance()
	f, err := strconv.ParseFloat(t.Text, 64)
	switch {
	case err != nil || f > maxSeconds:
		p.errorf(t.Pos, "time %s is too large", t.Text)
		return 0
	case f < 0:
		p.errorf(t.Pos, "time %s is negative", t.Text)
		return 0
	}
	return time.Duration(math.Round(f*1e6)) * time.Microsecond
}

// uintOf parses an integer token that must fit in bits bits; what names it
// in errors. It returns 0 after an error.
func (p *parser) uintOf(t token, bits int, what string) uint64 {
	if t.Kind != tInt && t.Kind != tHex {
		p.syntaxError(t, "integer")
	}
	var v uint64
	var err error
	if t.Kind == tHex {
		v, err = strconv.ParseUint(t.Text[2:], 16, 64)
	} else {
		if strings.HasPrefix(t.Text, "-") {
			p.errorf(t.Pos, "%s %s is negative", what, t.Text)
			return 0
		}
		v, err = strconv.ParseUint(t.Text, 10, 64)
	}
	if err != nil || bits < 64 && v >= 1<<bits {
		p.errorf(t.Pos, "%s %s does not fit in %d bits", what, t.Text, bits)
		return 0
	}
	return v
}

// uintNext consumes an integer token; see uintOf.
func (p *parser) uintNext(bits int, what string) uint64 {
	t := p.cur()
	v := p.uintOf(t, bits, what)
	p.advance()
	return v
}
