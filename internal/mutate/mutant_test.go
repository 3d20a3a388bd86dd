package mutate

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	m, err := Parse("dir/lost-ack.txtar", []byte(`breaks: RFC 9293 section 3.10.7.4: an acceptable ACK advances SND.UNA
unobservable: only a counter changes
a note
-- old pkg/a.go --
x := 1
-- new --
x := 2
-- old pkg/a.go --
	if y {
		z()
	}
-- new --
`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Mutant{Name: "lost-ack", File: "dir/lost-ack.txtar",
		Breaks:       "RFC 9293 section 3.10.7.4: an acceptable ACK advances SND.UNA",
		Unobservable: "only a counter changes",
		Edits: []Edit{
			{Path: "pkg/a.go", Old: "x := 1", New: "x := 2", Line: 4},
			{Path: "pkg/a.go", Old: "\tif y {\n\t\tz()\n\t}", New: "", Line: 8},
		}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v\nwant %+v", m, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"-- old a.go --\nx\n-- new --\ny\n", "m.txtar:1: no \"breaks:\" line"},
		{"breaks: r\n", "m.txtar:1: no edits"},
		{"breaks: r\n-- new --\ny\n", "m.txtar:2: a \"-- new --\" section needs an \"-- old FILE --\" section before it"},
		{"breaks: r\n-- old a.go --\nx\n", "m.txtar:2: the old text has no \"-- new --\" section"},
		{"breaks: r\n-- old a.go --\nx\n-- old b.go --\n", "m.txtar:4: want a \"-- new --\" section after the old one at line 2"},
		{"breaks: r\n-- old a.go --\n-- new --\ny\n", "m.txtar:2: the old text is empty"},
		{"breaks: r\n-- old ../a.go --\nx\n-- new --\ny\n", "m.txtar:2: want a module-relative file path"},
		{"breaks: r\n-- old /a.go --\nx\n-- new --\ny\n", "m.txtar:2: want a module-relative file path"},
		{"breaks: r\n-- patch a.go --\nx\n", "m.txtar:2: unknown section \"patch a.go\""},
		{"breaks: r\n-- old a.go --\nx\n-- new --\nx\n", "m.txtar:2: the new text is the old one"},
	} {
		_, err := Parse("m.txtar", []byte(tc.text))
		var pe *Error
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %s...", tc.text, err, tc.want)
		}
	}
}

func TestApply(t *testing.T) {
	files := map[string]string{"a.go": "one\ntwo\ntwo\nthree\n"}
	read := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	}
	m := &Mutant{File: "m.txtar", Edits: []Edit{
		{Path: "a.go", Old: "one", New: "ONE", Line: 2},
		{Path: "a.go", Old: "ONE\ntwo", New: "1\n2", Line: 5},
	}}
	got, err := m.Apply(read)
	if err != nil || string(got["a.go"]) != "1\n2\ntwo\nthree\n" {
		t.Errorf("got %q, %v: edits apply in order, each to the text the earlier left", got["a.go"], err)
	}
	if files["a.go"] != "one\ntwo\ntwo\nthree\n" {
		t.Errorf("the original was changed")
	}
	for _, tc := range []struct {
		e    Edit
		want string
	}{
		{Edit{Path: "a.go", Old: "two", New: "2", Line: 3}, "m.txtar:3: the old text occurs 2 times in a.go"},
		{Edit{Path: "a.go", Old: "four", New: "4", Line: 3}, "m.txtar:3: the old text is not in a.go"},
		{Edit{Path: "b.go", Old: "x", New: "y", Line: 7}, "m.txtar:7: file does not exist"},
	} {
		m := &Mutant{File: "m.txtar", Edits: []Edit{tc.e}}
		if _, err := m.Apply(read); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %s...", tc.e, err, tc.want)
		}
	}
}

func TestScore(t *testing.T) {
	counted, unobservable := &Mutant{Name: "a"}, &Mutant{Name: "b", Unobservable: "why"}
	killed, n := Score([]Result{
		{Mutant: counted, Verdict: Killed},
		{Mutant: counted, Verdict: Survived},
		{Mutant: counted, Verdict: Errored},
		{Mutant: unobservable, Verdict: Survived},
	})
	if killed != 1 || n != 3 {
		t.Errorf("Score = %d/%d, want 1/3: an error counts against the suite, an unobservable mutant not at all", killed, n)
	}
}

func TestReapLeftovers(t *testing.T) {
	// A PID above the kernel's limit (pid_max is at most 2^22) has no process.
	gone, err := os.MkdirTemp("", tempPrefix+"99999999-")
	if err != nil {
		t.Fatal(err)
	}
	mine, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", tempPrefix, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(mine)
	reapLeftovers()
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("the directory of a run whose process is gone stays: %v", err)
		os.RemoveAll(gone)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("the directory of a live run was removed: %v", err)
	}
}
