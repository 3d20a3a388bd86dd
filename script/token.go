package script

import (
	"fmt"
	"strings"
)

// tokKind is the class of a token.
type tokKind uint8

const (
	tEOF      tokKind = iota
	tWord             // [A-Za-z0-9_]+ that is not all digits; keywords too
	tInt              // -?[0-9]+
	tFloat            // -?[0-9]*\.[0-9]+
	tHex              // 0x[0-9a-fA-F]+
	tString           // "..."; Text is the unescaped value
	tBackq            // `...`; Text is the command
	tCode             // %{ ... }%; Text is the trimmed body
	tIPv4             // dotted quad
	tIPv6             // 8 groups or a "::"
	tEllipsis         // ...
	tOption           // --name; Text is the name
	tChar             // any other single character; Text is it
)

// token is one lexeme. Off and End are byte offsets of its source text;
// for a token that came from a -D definition they span the defined word.
type token struct {
	Kind tokKind
	Text string
	Pos  Pos
	Off  int
	End  int
	// LineStart is set when nothing but blanks and comments come before the
	// token on its line.
	LineStart bool
	// Keyword is set for a reserved word (never for a substituted one).
	Keyword bool
	// Bad is set when the lexer already reported an error for the token,
	// so that a syntax error at it says nothing more.
	Bad bool
}

// is reports whether t is the single character c.
func (t token) is(c byte) bool {
	return t.Kind == tChar && len(t.Text) == 1 && t.Text[0] == c
}

// isKw reports whether t is the reserved word kw.
func (t token) isKw(kw string) bool { return t.Keyword && t.Text == kw }

// isNumber reports whether t is an integer or a float.
func (t token) isNumber() bool { return t.Kind == tInt || t.Kind == tFloat }

// describe names a token for a syntax error.
func (t token) describe() string {
	switch t.Kind {
	case tEOF:
		return "end of file"
	case tWord:
		if t.Keyword {
			return fmt.Sprintf("keyword %q", t.Text)
		}
		return fmt.Sprintf("word %q", t.Text)
	case tInt:
		return "integer " + t.Text
	case tFloat:
		return "number " + t.Text
	case tHex:
		return "hex number " + t.Text
	case tString:
		return "string " + clip(fmt.Sprintf("%q", t.Text))
	case tBackq:
		return "shell command " + clip("`"+t.Text+"`")
	case tCode:
		return "code block"
	case tIPv4, tIPv6:
		return "address " + t.Text
	case tEllipsis:
		return `"..."`
	case tOption:
		return "option --" + t.Text
	}
	if t.Text == "'" {
		return `"'"`
	}
	return "'" + t.Text + "'"
}

// clip shortens s for an error message.
func clip(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + "..."
	}
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

// keywords are the reserved words of the language: a WORD with one of these
// names is a keyword, never a symbol, and is never replaced by a -D define.
var keywords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`ack win urg seq eol nop mss wscale sackOK
		sack md5 TS val ecr FO FOEXP ECN e0b e1b ceb tos flowlabel ttl ect0 ect1
		ect01 noecn ce ipv4 ipv6 icmp udp raw mtu id gre GREv0 mpls label tc sum
		off key none checksum sequence# present encap psp spi flags Flags
		inet_addr inet6_addr htons sa_family sin_port sin_addr msg_name msg_iov
		msg_flags msg_control cmsg_level cmsg_type cmsg_data ee_errno ee_origin
		ee_type ee_code ee_info ee_data scm_sec scm_nsec fd events revents ptr
		u32 u64 onoff linger`) {
		keywords[w] = true
	}
}
