package suites

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tcpconform/tcpconform/injector"
)

// -like-run-all makes the cases run_all.py would run: three variants of a
// script, two of *v4.pkt, one of *v6.pkt, each with its variant's options.
func TestLikeRunAll(t *testing.T) {
	dir := t.TempDir()
	src := []byte("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 close(3) = 0\n")
	var paths []string
	for _, n := range []string{"a.pkt", "b-v4.pkt", "c-v6.pkt"} {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, src, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	cases, err := LoadScriptCases(paths, ScriptOptions{LikeRunAll: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cases {
		got = append(got, c.FullName()[len(dir)+1:])
	}
	want := []string{"a.pkt [IPv4]", "a.pkt (ipv4-mapped-ipv6) [IPv4]", "a.pkt [IPv6]",
		"b-v4.pkt [IPv4]", "b-v4.pkt (ipv4-mapped-ipv6) [IPv4]", "c-v6.pkt [IPv6]"}
	if !slices.Equal(got, want) {
		t.Errorf("cases %q, want %q", got, want)
	}
	six := injector.IPModeV6
	cases, _ = LoadScriptCases(paths[:1], ScriptOptions{LikeRunAll: true, ScriptOptions: injector.ScriptOptions{IP: &six}})
	if len(cases) != 1 || cases[0].Family != injector.IPv6 {
		t.Errorf("-ip 6 with -like-run-all: %d cases", len(cases))
	}
}
