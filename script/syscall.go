package script

import (
	"net/netip"
	"strconv"
	"strings"
)

// parseSyscall parses "name(args) = result [ERRNO] [(note)]".
func (p *parser) parseSyscall() *Syscall {
	name := p.advance()
	sc := &Syscall{Pos: name.Pos, Name: name.Text}
	p.advance() // '('
	sc.Args = p.parseExprList(')')
	p.expect('=')
	sc.Result = p.parseExpr()
	more := `errno, "(note)"`
	errno := p.cur()
	if errno.Kind == tWord && !errno.Keyword {
		sc.Errno = errno.Text
		p.advance()
		more = `"(note)"`
	}
	if p.cur().is('(') {
		sc.Note = p.parseNote()
		more = ""
	} else if sc.Errno != "" {
		p.notePort(errno.Pos, noDialect, "errno %s has no \"(note)\" after it", sc.Errno)
	}
	p.expectEventEnd(more)
	return sc
}

// parseNote reads the free text "( ... )" after a result: any tokens up to
// the matching ')', which must be on the same line. packetdrill takes only
// plain words there, so anything else is noted for a warning.
func (p *parser) parseNote() string {
	open := p.advance()
	depth := 1
	var odd *token // the first token packetdrill would not take
	n := 0         // the tokens inside
	for {
		t := p.cur()
		if t.Kind == tEOF || t.Pos.Line != open.Pos.Line {
			p.errorf(open.Pos, "note is not closed: missing ')' on its line")
			panic(bailout{})
		}
		p.advance()
		switch {
		case t.is('('):
			depth++
		case t.is(')'):
			depth--
		}
		switch {
		case depth == 0 && odd != nil:
			p.notePort(odd.Pos, noDialect, "%s in a \"(note)\"", odd.describe())
		case depth == 0 && n == 0:
			p.notePort(open.Pos, noDialect, "empty \"(note)\"")
		case odd == nil && !noteWord(t, n == 0):
			odd = &t
		}
		if depth == 0 {
			return strings.TrimSpace(p.text(open.End, t.Off))
		}
		n++
	}
}

// noteWord reports whether t is a word packetdrill takes in a note: any
// word but a keyword, or "flags" as the first word.
func noteWord(t token, first bool) bool {
	return t.Kind == tWord && (!t.Keyword || first && (t.Text == "flags" || t.Text == "Flags"))
}

// parseExprList parses "expr, expr, ..." up to the closing character,
// which it consumes; the list may be empty.
func (p *parser) parseExprList(closer byte) []Expr {
	if p.accept(closer) {
		return nil
	}
	var list []Expr
	for {
		list = append(list, p.parseExpr())
		if p.accept(',') {
			continue
		}
		if !p.cur().is(closer) {
			p.syntaxError(p.cur(), "',' or '"+string(closer)+"'")
		}
		p.advance()
		return list
	}
}

// maxNesting bounds how deeply expressions may nest.
const maxNesting = 100

// parseExpr parses "primary { '|' primary }".
func (p *parser) parseExpr() Expr {
	if p.nesting++; p.nesting > maxNesting {
		p.errorf(p.cur().Pos, "expression nested more than %d deep", maxNesting)
		panic(bailout{})
	}
	defer func() { p.nesting-- }()
	e := p.parsePrimary()
	for p.cur().is('|') {
		p.advance()
		e = &BinaryOp{Pos: e.Position(), Op: "|", L: e, R: p.parsePrimary()}
	}
	return e
}

// parsePrimary parses one argument form.
func (p *parser) parsePrimary() Expr {
	t := p.cur()
	switch {
	case t.Kind == tEllipsis:
		p.advance()
		return &Ellipsis{Pos: t.Pos}
	case t.Kind == tInt || t.Kind == tHex:
		p.advance()
		return p.intExpr(t)
	case t.Kind == tString:
		return p.parseString()
	case t.is('['):
		p.advance()
		return &Array{Pos: t.Pos, Elems: p.parseExprList(']')}
	case t.is('{'):
		p.advance()
		return &Struct{Pos: t.Pos, Fields: p.parseExprList('}')}
	case t.Kind == tWord:
		return p.parseNamed()
	}
	p.syntaxError(t, "expression")
	return nil
}

// intExpr converts an integer token.
func (p *parser) intExpr(t token) *Int {
	var v int64
	var err error
	if t.Kind == tHex {
		var u uint64
		u, err = strconv.ParseUint(t.Text[2:], 16, 64)
		v = int64(u)
	} else {
		v, err = strconv.ParseInt(t.Text, 10, 64)
	}
	if err != nil {
		p.errorf(t.Pos, "integer %s is out of range", t.Text)
	}
	return &Int{Pos: t.Pos, Value: v, Text: t.Text}
}

// parseString parses juxtaposed strings, concatenated, and the prefix
// form "abc"...
func (p *parser) parseString() Expr {
	first := p.advance()
	s := &String{Pos: first.Pos, Value: first.Text}
	for p.cur().Kind == tString {
		s.Value += p.advance().Text
	}
	if p.cur().Kind == tEllipsis {
		p.advance()
		s.Prefix = true
	}
	return s
}

// parseNamed parses what starts with a word: a symbol, "name=expr",
// "name(index)=expr" or a call "name(args)".
func (p *parser) parseNamed() Expr {
	t := p.advance()
	switch {
	case p.accept('='):
		return &Assign{Pos: t.Pos, Name: t.Text, Value: p.parseAssigned(t.Text)}
	case p.cur().is('('):
		p.advance()
		args := p.parseExprList(')')
		if p.accept('=') {
			if len(args) != 1 {
				p.errorf(t.Pos, "%s(...)= takes one index, not %d", t.Text, len(args))
			}
			if kind, ok := indexedFields[t.Text]; !ok {
				p.notePort(t.Pos, noDialect, "%s(...)=", t.Text)
			} else if kind != everyDialect {
				p.notePort(t.Pos, kind, "%s(...)=", t.Text)
			}
			a := &Assign{Pos: t.Pos, Name: t.Text, Value: p.parseExpr()}
			if len(args) > 0 {
				a.Index = args[0]
			}
			return a
		}
		c := &Call{Pos: t.Pos, Name: t.Text, Args: args}
		p.checkCall(c)
		p.notePortCall(c)
		return c
	case t.Keyword:
		p.syntaxError(t, "expression")
	}
	return &Symbol{Pos: t.Pos, Name: t.Text}
}

// parseAssigned parses the value of "name=value", remembering name for
// notePortCall.
func (p *parser) parseAssigned(name string) Expr {
	outer := p.assignTo
	p.assignTo = name
	defer func() { p.assignTo = outer }()
	return p.parseExpr()
}

// indexedFields are the "name(index)=value" forms packetdrill has, in
// msghdr (both) and in sf_hdtr for sendfile (nplab).
var indexedFields = map[string]syntaxKind{
	"msg_name": everyDialect, "msg_iov": everyDialect,
	"sf_hdtr_headers": nplabOnly, "sf_hdtr_trailers": nplabOnly,
}

// notePortCall notes a call packetdrill does not take where it stands:
// inet_addr and inet6_addr go anywhere, htons only after "sin_port=" (or
// nplab's "sue_port="), and nplab's htonl after its ppid fields.
func (p *parser) notePortCall(c *Call) {
	switch {
	case c.Name == "inet_addr" || c.Name == "inet6_addr":
	case c.Name == "htons" && p.assignTo == "sin_port":
	case c.Name == "htons" && p.assignTo == "sue_port" || c.Name == "htonl":
		p.notePort(c.Pos, nplabOnly, "%s(...) here", c.Name)
	default:
		p.notePort(c.Pos, noDialect, "%s(...) here", c.Name)
	}
}

// checkCall checks the arguments of inet_addr, inet6_addr and htons.
func (p *parser) checkCall(c *Call) {
	switch c.Name {
	case "inet_addr", "inet6_addr":
		s, ok := oneArg[*String](c)
		if !ok {
			p.errorf(c.Pos, "%s takes one string", c.Name)
			return
		}
		a, err := netip.ParseAddr(s.Value)
		if err != nil || a.Is4() != (c.Name == "inet_addr") {
			p.errorf(s.Pos, "%s: bad address %q", c.Name, s.Value)
		}
	case "htons":
		n, ok := oneArg[*Int](c)
		if !ok {
			p.errorf(c.Pos, "htons takes one integer")
			return
		}
		if n.Value < 0 || n.Value > 0xffff {
			p.errorf(n.Pos, "htons: %s does not fit in 16 bits", n.Text)
		}
	}
}

// oneArg returns the only argument of c when it has type T.
func oneArg[T Expr](c *Call) (T, bool) {
	var zero T
	if len(c.Args) != 1 {
		return zero, false
	}
	a, ok := c.Args[0].(T)
	return a, ok
}
