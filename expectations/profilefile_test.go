package expectations

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestBuiltinProfilesRoundTrip(t *testing.T) {
	for name := range profiles {
		p := ProfileFor(name)
		text := FormatProfile(p)
		got, err := ParseProfile(name+".yaml", text, "other", nil)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, text)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("%s: read back\n%+v\nwant\n%+v\nfrom\n%s", name, got, p, text)
		}
	}
}

func TestParseProfile(t *testing.T) {
	text := `# my stack
target: mystack
variants: [base, rfc1337]
timer-granularity: 250ms
known:
  T003.CLOSED:
    reason: broadcast accepted
    fails: |
      no segment
        arrived
  "T038.LISTEN#2 [IPv4]": {reason: "v4 only", fails: "flags: want"}
`
	p, err := ParseProfile("my.yaml", []byte(text), "agent", func(id string) bool { return id == "T003.CLOSED" || id == "T038.LISTEN#2" })
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{
		Target: "mystack", TimeWait: 2 * MSL, TimerGranularity: 250 * time.Millisecond,
		Variants: []string{"base", "rfc1337"},
		Known: map[string]Deviation{
			"T003.CLOSED":          {Reason: "broadcast accepted", Fails: "no segment\n  arrived\n"},
			"T038.LISTEN#2 [IPv4]": {Reason: "v4 only", Fails: "flags: want"},
		},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v\nwant %+v", p, want)
	}
	p, err = ParseProfile("empty.yaml", nil, "agent", nil)
	if err != nil || p.Target != "agent" || !reflect.DeepEqual(p.Variants, Reference.Variants) || p.TimeWait != Reference.TimeWait {
		t.Errorf("empty file: %+v, %v", p, err)
	}
}

func TestProfileErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"target: a\ncolour: red\n", "p.yaml:2: unknown key \"colour\""},
		{"target: a\ntarget: b\n", "p.yaml:2: target given twice"},
		{"latency: soon\n", "p.yaml:1: latency: want a duration"},
		{"time-wait: -1s\n", "p.yaml:1: time-wait: want a duration"},
		{"variants:\n  - base\n  - rfc9999\n", "p.yaml:2: variants: unknown variant \"rfc9999\""},
		{"notes:\n  - fine\n  - [nested]\n", "p.yaml:3: notes: want a single value"},
		{"known:\n  T001.X:\n", "p.yaml:2: known: T001.X: want {reason: ..., fails: ...}"},
		{"known:\n  T001.X: the old form, a reason alone\n", "p.yaml:2: known: T001.X: want {reason: ..., fails: ...}"},
		{"known:\n  T001.X:\n    fails: flags\n", "p.yaml:3: known: T001.X needs reason"},
		{"known:\n  T001.X:\n    reason: a\n", "p.yaml:3: known: T001.X needs fails"},
		{"known:\n  T001.X:\n    reason: a\n    fails: \"  \"\n", "p.yaml:4: known: T001.X: fails: want a piece of the failure"},
		{"known:\n  T001.X:\n    reason: \"\"\n    fails: b\n", "p.yaml:3: known: T001.X: reason: want what the target does"},
		{"known:\n  T001.X: {reason: a, fails: b, why: c}\n", "p.yaml:2: known: T001.X: unknown key \"why\""},
		{"known:\n  T001.X: {reason: a, fails: b}\n  T001.X: {reason: a, fails: b}\n", "p.yaml:3: known: T001.X given twice"},
		{"known: [T001]\n", "p.yaml:1: known: want a mapping"},
		{"- a\n- b\n", "p.yaml:1: a profile is a mapping"},
		{"target: a\n  b: [\n", "p.yaml:2: "},
		{"target: two words\n", "p.yaml:1: target: want a name without blanks"},
		{"known:\n  T001.X: {reason: a, fails: b}\n  \"T002.Y [IPv6]\": {reason: a, fails: b}\n", "p.yaml:3: known: no case has the ID \"T002.Y\""},
	} {
		_, err := ParseProfile("p.yaml", []byte(tc.text), "agent", func(id string) bool { return id == "T001.X" })
		var pe *ProfileError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error starting %q", tc.text, err, tc.want)
		}
	}
}
