package agentsdk

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	for _, c := range []struct {
		line string
		want Request
		err  error
	}{
		{"7 send 3 6869\n", Request{"7", "send", []string{"3", "6869"}}, nil},
		{"  a\tping  \r\n", Request{"a", "ping", []string{}}, nil},
		{"", Request{}, nil},
		{" \t\n", Request{}, nil},
		{"lonely\n", Request{}, ErrMalformed},
		{strings.Repeat("x", MaxIDLen) + " ping", Request{strings.Repeat("x", MaxIDLen), "ping", []string{}}, nil},
		{strings.Repeat("x", MaxIDLen+1) + " ping", Request{}, ErrMalformed},
	} {
		got, err := ParseRequest(c.line)
		if err != c.err || got.ID != c.want.ID || got.Verb != c.want.Verb || !slices.Equal(got.Args, c.want.Args) {
			t.Errorf("ParseRequest(%q) = %+v, %v; want %+v, %v", c.line, got, err, c.want, c.err)
		}
	}
}

// FuzzParseRequest checks, for any line, that parsing never panics, that
// a request it accepts has a short id, a verb and tokens without blanks,
// and that the request written back as a line parses to itself.
func FuzzParseRequest(f *testing.F) {
	for _, seed := range []string{"1 socket inet\n", "x send 3 @a", "? err", "", "a", "a\x00b c", "é ü\u00a0z", strings.Repeat("y", 64) + " ping"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseRequest(line)
		if err != nil || r.ID == "" {
			if r.ID != "" || r.Verb != "" || r.Args != nil {
				t.Fatalf("%q: a refused or blank line gave %+v", line, r)
			}
			return
		}
		if len(r.ID) > MaxIDLen || r.Verb == "" {
			t.Fatalf("%q: accepted %+v", line, r)
		}
		for _, tok := range append([]string{r.ID, r.Verb}, r.Args...) {
			if tok == "" || len(strings.Fields(tok)) != 1 {
				t.Fatalf("%q: token %q is empty or has blanks", line, tok)
			}
		}
		again, err := ParseRequest(r.String())
		if err != nil || again.String() != r.String() {
			t.Fatalf("%q: %q parses back as %+v, %v", line, r.String(), again, err)
		}
	})
}
