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

func TestExpand(t *testing.T) {
	got, err := DocumentationNet.Expand([]string{"agent", "{addr4}/{prefix4}", "{peer4}", "{addr6}", "{prefix6}", "{peer6}", "{seed}", "{x"}, 1<<32+7)
	want := []string{"agent", "192.0.2.1/24", "192.0.2.2", "2001:db8::1", "64", "2001:db8::2", "7", "{x"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Expand = %q, %v; want %q", got, err, want)
	}
	if got, _ := DocumentationNet.Expand([]string{"{seed}"}, 0); got[0] != "1" {
		t.Errorf("seed 0 expands to %q, want 1", got[0])
	}
	if _, err := DocumentationNet.Expand([]string{"{adr4}"}, 1); err == nil {
		t.Error("a misspelt placeholder was accepted")
	}
}

func TestNetSet(t *testing.T) {
	n := DocumentationNet
	if err := n.Set(4, "10.0.0.5/16", "10.0.9.9"); err != nil {
		t.Fatal(err)
	}
	if n.Local4.String() != "10.0.0.5" || n.Peer4.String() != "10.0.9.9" || n.Prefix4 != 16 || n.Local6 != DocumentationNet.Local6 {
		t.Errorf("parsed %+v", n)
	}
	if err := n.Set(4, "10.0.0.7", ""); err != nil || n.Prefix4 != 16 || n.Peer4.String() != "10.0.9.9" {
		t.Errorf("parsed %+v, %v", n, err)
	}
	if err := n.Set(6, "fd00::1/64", "fd00::2"); err != nil || n.Prefix6 != 64 || n.Peer6.String() != "fd00::2" {
		t.Errorf("parsed %+v, %v", n, err)
	}
	for _, bad := range []struct {
		family      int
		stack, peer string
	}{
		{4, "10.0.0.1/24", ""}, {4, "10.0.0.1/33", "10.0.0.2"}, {4, "10.0.0.1/24", "10.0.1.2"},
		{4, "10.0.0.1/24", "10.0.0.1"}, {4, "fd00::1/64", "fd00::2"}, {6, "10.0.0.1/24", "10.0.0.2"}, {6, "fd00::1/64", "x"},
	} {
		if err := n.Set(bad.family, bad.stack, bad.peer); err == nil {
			t.Errorf("Set(%d, %q, %q) accepted", bad.family, bad.stack, bad.peer)
		}
	}
}
