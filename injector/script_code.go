package injector

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/expr-lang/expr"

	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/targets"
)

// tcpInfoConstants are the names packetdrill's code blocks may use besides
// the tcpi_* fields: Linux's state and congestion-control state numbers.
var tcpInfoConstants = map[string]int64{
	"TCP_ESTABLISHED": 1, "TCP_SYN_SENT": 2, "TCP_SYN_RECV": 3, "TCP_FIN_WAIT1": 4, "TCP_FIN_WAIT2": 5,
	"TCP_TIME_WAIT": 6, "TCP_CLOSE": 7, "TCP_CLOSE_WAIT": 8, "TCP_LAST_ACK": 9, "TCP_LISTEN": 10,
	"TCP_CLOSING": 11,
	"TCP_CA_Open": 0, "TCP_CA_Disorder": 1, "TCP_CA_CWR": 2, "TCP_CA_Recovery": 3, "TCP_CA_Loss": 4,
	"TCPI_OPT_TIMESTAMPS": 1, "TCPI_OPT_SACK": 2, "TCPI_OPT_WSCALE": 4, "TCPI_OPT_ECN": 8,
	"TCPI_OPT_ECN_SEEN": 16, "TCPI_OPT_SYN_DATA": 32,
}

// bitwise rewrites Python's "a & b" and "a | b" on simple operands into
// expr-lang's bitand/bitor functions.
var bitwise = regexp.MustCompile(`([A-Za-z_0-9]+)\s*([&|])\s*([A-Za-z_0-9]+)`)

func toExpr(python string) string {
	return bitwise.ReplaceAllStringFunc(python, func(m string) string {
		p := bitwise.FindStringSubmatch(m)
		fn := "bitand"
		if p[2] == "|" {
			fn = "bitor"
		}
		return fn + "(" + p[1] + ", " + p[3] + ")"
	})
}

var tcpiName = regexp.MustCompile(`\btcpi_[a-z_0-9]+\b`)

// code evaluates a "%{ }%" block. packetdrill runs Python over a TCP_INFO
// snapshot; here the block's assert statements are evaluated as expressions
// (expr-lang) over the target's TCP_INFO fields for the socket under test,
// at the block's time. Assignments ("NAME = value") define names for this
// and later blocks; print() statements are ignored; any other statement
// skips the script.
func (r *scriptRun) code(c *script.Code) {
	ti, ok := r.instance().(targets.TCPInfo)
	if !ok {
		r.skip(c.Pos, "target %s does not report TCP_INFO", r.t.target)
	}
	if r.cur == nil || r.cur.fd < 0 {
		r.scriptError(c.Pos, "no socket to use for code: no connection under test has a descriptor")
	}
	info, err := ti.TCPInfo(r.cur.fd)
	if err != nil {
		r.t.ErrorAt(r.where(c.Pos), fmt.Errorf("TCP_INFO: %w", err))
	}
	env := map[string]any{"True": true, "False": false}
	for k, v := range tcpInfoConstants {
		env[k] = v
	}
	for k, v := range info {
		env[k] = v
	}
	for k, v := range r.codeVars {
		env[k] = v
	}
	for _, stmt := range statements(c.Text) {
		var cond, name string
		switch m := assignment.FindStringSubmatch(stmt); {
		case strings.HasPrefix(stmt, "print(") || strings.HasPrefix(stmt, "print "):
			continue
		case m != nil:
			name, cond = m[1], m[2]
		case strings.HasPrefix(stmt, "assert "):
			cond, _ = splitTopLevelComma(strings.TrimPrefix(stmt, "assert "))
		default:
			r.skip(c.Pos, "code statement %q is not supported: only assert, print and assignments are", stmt)
		}
		if strings.Contains(cond, "//") {
			r.skip(c.Pos, "code %q uses Python's floor division, which is not supported", cond)
		}
		var missing []string
		for _, field := range tcpiName.FindAllString(cond, -1) {
			if _, ok := info[field]; !ok {
				missing = append(missing, field)
			}
		}
		if len(missing) > 0 {
			r.skip(c.Pos, "target %s does not report %s", r.t.target, strings.Join(missing, ", "))
		}
		opts := []expr.Option{expr.Env(env)}
		if name == "" {
			opts = append(opts, expr.AsBool())
		}
		prog, err := expr.Compile(toExpr(cond), opts...)
		if err != nil {
			// Python the expression language does not share.
			r.skip(c.Pos, "code %q cannot be evaluated: %v", cond, firstLine(err.Error()))
		}
		out, err := expr.Run(prog, env)
		if err != nil {
			r.scriptError(c.Pos, "code %q: %v", cond, err)
		}
		if name != "" {
			// A name the script assigns holds for the rest of the
			// script, as packetdrill runs all blocks as one program.
			env[name] = out
			if r.codeVars == nil {
				r.codeVars = map[string]any{}
			}
			r.codeVars[name] = out
			continue
		}
		if !out.(bool) {
			r.failAt(c.Pos, "assertion failed: %s%s", cond, values(cond, info))
		}
	}
}

// assignment matches a Python assignment statement, "NAME = value".
var assignment = regexp.MustCompile(`^([A-Za-z_][A-Za-z_0-9]*)\s*=\s*([^=].*)$`)

// statements splits a code block into Python statements: at newlines and
// semicolons outside brackets and strings, with "#" comments dropped and
// lines inside open brackets (or ending in a backslash) joined.
func statements(text string) []string {
	var out []string
	var cur strings.Builder
	depth, quote, comment := 0, byte(0), false
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case comment:
			if c == '\n' {
				comment = false
				if depth == 0 {
					flush()
				}
			}
			continue
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			comment = true
			continue
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == '\\' && i+1 < len(text) && text[i+1] == '\n':
			i++
			cur.WriteByte(' ')
			continue
		case (c == '\n' || c == ';') && depth <= 0:
			flush()
			continue
		case c == '\n':
			c = ' '
		}
		cur.WriteByte(c)
	}
	flush()
	return out
}

// splitTopLevelComma splits "cond, message" at the first comma outside
// parentheses and quotes.
func splitTopLevelComma(s string) (string, string) {
	depth, quote := 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
		case c == ',' && depth == 0:
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:])
		}
	}
	return strings.TrimSpace(s), ""
}

// values lists the tcpi_* fields an assertion reads, with their values.
func values(cond string, info map[string]int64) string {
	names := tcpiName.FindAllString(cond, -1)
	sort.Strings(names)
	var b strings.Builder
	seen := map[string]bool{}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			fmt.Fprintf(&b, "\n  %s = %d", n, info[n])
		}
	}
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
