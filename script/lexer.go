package script

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// lexer splits a script into tokens the way packetdrill's flex scanner
// does: the longest match wins, and of two matches of the same length the
// earlier class in the order FLOAT, INTEGER, HEX, WORD wins. It also drops
// comments, keeps or skips nplab "#ifdef NAME ... #endif" blocks, and
// replaces a WORD that names a -D definition by the definition's value.
type lexer struct {
	src     []byte
	file    string
	off     int // next byte to read
	line    int // line of off
	lineOff int // offset of the first byte of line

	defines map[string]string
	ifdefs  []ifdef // open #ifdef blocks being kept
	errorf  func(pos Pos, format string, args ...any)

	// firstDirective is where the first nplab "#ifdef" is, or zero.
	firstDirective Pos
	sawNewline     bool // a newline since the previous token (or the start)
	unclosed       bool // a token ran to the end unclosed, already reported
	keepComments   bool
	comments       []comment
}

// ifdef is an open "#ifdef NAME" whose block is kept.
type ifdef struct {
	pos  Pos
	name string
}

// comment is the text of one comment, without its delimiters.
type comment struct {
	Off  int
	Text string
}

func newLexer(file string, src []byte, defines map[string]string, errorf func(Pos, string, ...any)) *lexer {
	return &lexer{src: src, file: file, line: 1, defines: defines, errorf: errorf,
		sawNewline: true, keepComments: true}
}

// pos returns the position of byte offset off, which must not be before
// the start of the current line.
func (l *lexer) pos(off int) Pos {
	return Pos{File: l.file, Line: l.line, Col: off - l.lineOff + 1}
}

// moveTo advances to offset end, counting the newlines passed.
func (l *lexer) moveTo(end int) {
	if end > len(l.src) {
		end = len(l.src)
	}
	seg := l.src[l.off:end]
	if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
		l.line += n
		l.lineOff = l.off + bytes.LastIndexByte(seg, '\n') + 1
		l.sawNewline = true
	}
	l.off = end
}

// next returns the next token; at the end it returns tEOF forever.
func (l *lexer) next() token {
	l.skipBlanks()
	start := l.off
	t := token{Pos: l.pos(start), Off: start, LineStart: l.sawNewline}
	l.sawNewline = false
	if start >= len(l.src) {
		t.Kind, t.End, t.Bad = tEOF, start, l.unclosed
		l.closeIfdefs()
		return t
	}
	c, c1, c2 := l.src[start], l.at(start+1), l.at(start+2)
	switch {
	case c == '"':
		l.lexString(&t)
	case c == '`':
		l.lexDelimited(&t, tBackq, 1, "`", "shell command is not closed: missing '`'")
	case c == '%' && c1 == '{':
		l.lexDelimited(&t, tCode, 2, "}%", "code block is not closed: missing \"}%\"")
		t.Text = strings.Trim(t.Text, " \t")
	case c == '.' && c1 == '.' && c2 == '.':
		t.Kind, t.End = tEllipsis, start+3
	case c == '-' && c1 == '-' && isWordChar(c2):
		t.Kind, t.End = tOption, wordEnd(l.src, start+2)
		t.Text = string(l.src[start+2 : t.End])
	case isDigit(c) || (c == '.' && isDigit(c1)) || (c == '-' && (isDigit(c1) || c1 == '.' && isDigit(c2))):
		l.lexNumber(&t)
	case isWordChar(c):
		l.lexWord(&t)
	case c == ':' && c1 == ':' && scanIPv6(l.src, start) > 0:
		t.Kind, t.End = tIPv6, scanIPv6(l.src, start)
		t.Text = string(l.src[start:t.End])
	default:
		_, n := utf8.DecodeRune(l.src[start:])
		t.Kind, t.End = tChar, start+n
		t.Text = string(l.src[start:t.End])
	}
	l.moveTo(t.End)
	return t
}

// at returns the byte at offset i, or 0 past the end.
func (l *lexer) at(i int) byte {
	if i < len(l.src) {
		return l.src[i]
	}
	return 0
}

// skipBlanks skips white space, comments and preprocessor lines.
func (l *lexer) skipBlanks() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f':
			l.moveTo(l.off + 1)
		case c == '/' && l.at(l.off+1) == '/':
			end := bytes.IndexByte(l.src[l.off:], '\n')
			if end < 0 {
				end = len(l.src) - l.off
			}
			l.addComment(l.off, l.src[l.off+2:l.off+end])
			l.moveTo(l.off + end)
		case c == '/' && l.at(l.off+1) == '*':
			end := bytes.Index(l.src[l.off+2:], []byte("*/"))
			if end < 0 {
				l.errorf(l.pos(l.off), "comment is not closed: missing \"*/\"")
				l.unclosed = true
				l.moveTo(len(l.src))
				return
			}
			l.addComment(l.off, l.src[l.off+2:l.off+2+end])
			l.moveTo(l.off + 2 + end + 2)
		case c == '#' && l.atLineStart() && l.directive():
		default:
			return
		}
	}
}

func (l *lexer) addComment(off int, text []byte) {
	if l.keepComments {
		l.comments = append(l.comments, comment{Off: off, Text: string(text)})
	}
}

// atLineStart reports whether only blanks precede l.off on its line.
func (l *lexer) atLineStart() bool {
	for i := l.off - 1; i >= l.lineOff; i-- {
		if l.src[i] != ' ' && l.src[i] != '\t' {
			return false
		}
	}
	return true
}

// directive handles an nplab "#ifdef NAME" or "#endif" line at l.off and
// reports whether there was one. A block whose NAME is not defined is
// skipped up to its matching #endif.
func (l *lexer) directive() bool {
	lineEnd := bytes.IndexByte(l.src[l.off:], '\n')
	if lineEnd < 0 {
		lineEnd = len(l.src) - l.off
	}
	fields := strings.Fields(string(l.src[l.off : l.off+lineEnd]))
	switch {
	case fields[0] == "#endif":
		if len(l.ifdefs) == 0 {
			l.errorf(l.pos(l.off), "#endif without #ifdef")
		} else {
			l.ifdefs = l.ifdefs[:len(l.ifdefs)-1]
		}
	case fields[0] == "#ifdef" && len(fields) == 2:
		p := l.pos(l.off)
		if l.firstDirective.Line == 0 {
			l.firstDirective = p
		}
		if _, ok := l.defines[fields[1]]; ok {
			l.ifdefs = append(l.ifdefs, ifdef{p, fields[1]})
			break
		}
		if !l.skipIfdef() {
			l.errorf(p, "#ifdef %s is not closed: missing #endif", fields[1])
		}
		return true
	default:
		return false
	}
	l.moveTo(l.off + lineEnd)
	return true
}

// skipIfdef skips from an #ifdef line to the end of its matching #endif
// line. It reports false, at the end of the input, when there is none.
func (l *lexer) skipIfdef() bool {
	depth := 0
	for l.off < len(l.src) {
		end := bytes.IndexByte(l.src[l.off:], '\n')
		if end < 0 {
			end = len(l.src) - l.off
		}
		line := strings.TrimLeft(string(l.src[l.off:l.off+end]), " \t")
		switch {
		case strings.HasPrefix(line, "#ifdef"):
			depth++
		case strings.HasPrefix(line, "#endif"):
			depth--
		}
		l.moveTo(l.off + end)
		if depth == 0 {
			return true
		}
		l.moveTo(l.off + 1)
	}
	return false
}

// closeIfdefs reports every kept #ifdef still open at the end.
func (l *lexer) closeIfdefs() {
	for _, d := range l.ifdefs {
		l.errorf(d.pos, "#ifdef %s is not closed: missing #endif", d.name)
	}
	l.ifdefs = nil
}

// lexString reads a "..." string with backslash escapes.
func (l *lexer) lexString(t *token) {
	i := t.Off + 1
	for i < len(l.src) && l.src[i] != '"' {
		if l.src[i] == '\\' {
			i++
		}
		i++
	}
	t.Kind = tString
	if i >= len(l.src) {
		l.errorf(t.Pos, "string is not closed: missing '\"'")
		t.Bad, l.unclosed = true, true
		t.End = len(l.src)
		t.Text = unescape(l.src[t.Off+1:])
		return
	}
	t.End = i + 1
	t.Text = unescape(l.src[t.Off+1 : i])
}

// lexDelimited reads a token from an opening delimiter of open bytes to
// the closing string close; Text is what lies between.
func (l *lexer) lexDelimited(t *token, kind tokKind, open int, close, unclosed string) {
	t.Kind = kind
	body := t.Off + open
	end := bytes.Index(l.src[body:], []byte(close))
	if end < 0 {
		l.errorf(t.Pos, "%s", unclosed)
		t.Bad, l.unclosed = true, true
		t.End = len(l.src)
		t.Text = string(l.src[body:])
		return
	}
	t.End = body + end + len(close)
	t.Text = string(l.src[body : body+end])
}

// lexNumber reads a token that starts with a digit, '-' or '.': the
// longest of FLOAT, INTEGER, HEX, WORD, IPv4 and IPv6 wins.
func (l *lexer) lexNumber(t *token) {
	s, src := t.Off, l.src
	i := s
	if src[i] == '-' {
		i++
	}
	digits := digitsEnd(src, i)
	best, kind := 0, tEOF
	try := func(end int, k tokKind) {
		if end > best {
			best, kind = end, k
		}
	}
	if digits < len(src) && src[digits] == '.' && isDigit(l.at(digits+1)) {
		try(digitsEnd(src, digits+1), tFloat)
	}
	if digits > i {
		try(digits, tInt)
	}
	if src[s] != '-' && src[s] != '.' {
		if src[s] == '0' && (l.at(s+1) == 'x' || l.at(s+1) == 'X') && isHex(l.at(s+2)) {
			try(hexEnd(src, s+2), tHex)
		}
		try(wordEnd(src, s), tWord)
		try(scanIPv4(src, s), tIPv4)
		try(scanIPv6(src, s), tIPv6)
	}
	t.Kind, t.End = kind, best
	t.Text = string(src[s:best])
	if kind == tWord {
		l.finishWord(t)
	}
}

// lexWord reads a token that starts with a letter or '_': a WORD, or an
// IPv6 address such as fd::1.
func (l *lexer) lexWord(t *token) {
	end := wordEnd(l.src, t.Off)
	if e := scanIPv6(l.src, t.Off); e > end {
		t.Kind, t.End = tIPv6, e
		t.Text = string(l.src[t.Off:e])
		return
	}
	if l.at(end) == '#' && string(l.src[t.Off:end]) == "sequence" {
		end++ // the GRE keyword "sequence#"
	}
	t.Kind, t.End = tWord, end
	t.Text = string(l.src[t.Off:end])
	l.finishWord(t)
}

// finishWord marks keywords and applies -D definitions to a WORD.
func (l *lexer) finishWord(t *token) {
	if keywords[t.Text] {
		t.Keyword = true
		return
	}
	v, ok := l.defines[t.Text]
	if !ok {
		return
	}
	switch {
	case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
		t.Kind, t.Text = tString, unescape([]byte(v[1:len(v)-1]))
	case len(v) >= 2 && v[0] == '`' && v[len(v)-1] == '`':
		t.Kind, t.Text = tBackq, v[1:len(v)-1]
	case isInteger(v):
		t.Kind, t.Text = tInt, v
	case len(v) > 2 && (v[:2] == "0x" || v[:2] == "0X") && hexEnd([]byte(v), 2) == len(v):
		t.Kind, t.Text = tHex, v
	default:
		t.Text = v
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isWordChar(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

func isInteger(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	return s != "" && digitsEnd([]byte(s), 0) == len(s)
}

func digitsEnd(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func hexEnd(b []byte, i int) int {
	for i < len(b) && isHex(b[i]) {
		i++
	}
	return i
}

func wordEnd(b []byte, i int) int {
	for i < len(b) && isWordChar(b[i]) {
		i++
	}
	return i
}

// scanIPv4 returns the end of a dotted quad at i, or 0.
func scanIPv4(b []byte, i int) int {
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= len(b) || b[i] != '.' {
				return 0
			}
			i++
		}
		e := digitsEnd(b, i)
		if e == i {
			return 0
		}
		i = e
	}
	return i
}
