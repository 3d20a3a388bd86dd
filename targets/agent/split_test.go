package agent

import (
	"reflect"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"prog", []string{"prog"}},
		{"  prog  a\tb \n c ", []string{"prog", "a", "b", "c"}},
		{`prog 'a b' "c d"`, []string{"prog", "a b", "c d"}},
		{`prog 'it''s' x"y"z`, []string{"prog", "its", "xyz"}},
		{`prog "a \"b\" \\ \$ \n"`, []string{"prog", `a "b" \ $ \n`}},
		{`prog a\ b \'`, []string{"prog", "a b", "'"}},
		{`prog '' ""`, []string{"prog", "", ""}},
		{`prog $HOME *.c ; echo >x`, []string{"prog", "$HOME", "*.c", ";", "echo", ">x"}},
		{"", nil},
	} {
		got, err := SplitCommand(tc.line)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", tc.line, got, err, tc.want)
		}
	}
	for _, bad := range []string{`prog 'a`, `prog "a`, `prog a\`} {
		if got, err := SplitCommand(bad); err == nil {
			t.Errorf("SplitCommand(%q) = %q, want an error", bad, got)
		}
	}
}

func TestQuoteWordRoundTrips(t *testing.T) {
	argv := []string{"/a b/agent", "{addr4}", "it's", `back\slash`, `"q"`, ""}
	c := Command{Argv: argv}
	got, err := SplitCommand(c.String())
	if err != nil || !reflect.DeepEqual(got, argv) {
		t.Errorf("SplitCommand(%q) = %q, %v; want %q", c.String(), got, err, argv)
	}
}
