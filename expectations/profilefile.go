package expectations

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// A profile file is YAML, written by the user of a target that has no
// built-in profile or that wants another one:
//
//	target: mystack              # the name in reports (default: the target's)
//	variants: [base, rfc5961]    # default: Reference's
//	timer-granularity: 250ms     # default: 0
//	latency: 10ms                # default: 0
//	time-wait: 2m                # default: 2 MSL (4m)
//	notes:
//	  - the initial RTO is 3 s
//	known:                       # case ID (as "tcpconform list" shows it)
//	  T003.CLOSED:
//	    reason: connect() to a broadcast address is accepted
//	    fails: "no segment arrived"  # a piece of the failure it shows
//	  "T038.LISTEN#2 [IPv4]": {reason: for IPv4 only, fails: "flags: want"}
//
// Keys absent from the file keep Reference's values.

// profileKeys are the keys of a profile file, in the order FormatProfile
// writes them.
var profileKeys = []string{"target", "variants", "timer-granularity", "latency", "time-wait", "notes", "known"}

// ProfileError is a mistake in a profile file, at a line of it.
type ProfileError struct {
	File string
	Line int
	Msg  string
}

func (e *ProfileError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// LoadProfile reads the profile file at path (see ParseProfile).
func LoadProfile(path, target string, isCase func(id string) bool) (Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Profile{}, err
	}
	return ParseProfile(path, data, target, isCase)
}

// ParseProfile reads a profile file; file names it in errors, target is the
// name the profile takes when the file gives none. isCase, when not nil,
// says whether a case has the given ID: a known deviation of an ID no case
// has is a mistake (a misspelt ID would never match, and the deviation
// would fail instead of being declared). Every mistake is a *ProfileError.
func ParseProfile(file string, data []byte, target string, isCase func(id string) bool) (Profile, error) {
	p := Reference
	p.Target = target
	p.Variants = slices.Clone(Reference.Variants)
	fail := func(n *yaml.Node, format string, args ...any) (Profile, error) {
		return Profile{}, &ProfileError{File: file, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Profile{}, yamlError(file, err)
	}
	if doc.Kind == 0 {
		return p, nil // an empty file: Reference under the target's name
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return fail(top, "a profile is a mapping of keys (%s)", strings.Join(profileKeys, ", "))
	}
	seen := map[string]bool{}
	for i := 0; i < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if seen[k.Value] {
			return fail(k, "%s given twice", k.Value)
		}
		seen[k.Value] = true
		var err error
		switch k.Value {
		case "target":
			p.Target, err = scalar(v, "target")
			if err == nil && (p.Target == "" || strings.ContainsAny(p.Target, " \t")) {
				err = fmt.Errorf("target: want a name without blanks, got %q", p.Target)
			}
		case "variants":
			p.Variants, err = list(v, "variants")
			for _, x := range p.Variants {
				if err == nil && !slices.Contains(Variants(), x) {
					err = fmt.Errorf("variants: unknown variant %q (known: %s)", x, strings.Join(Variants(), ", "))
				}
			}
		case "timer-granularity":
			p.TimerGranularity, err = duration(v, k.Value)
		case "latency":
			p.Latency, err = duration(v, k.Value)
		case "time-wait":
			p.TimeWait, err = duration(v, k.Value)
		case "notes":
			p.Notes, err = list(v, "notes")
		case "known":
			p.Known, err = known(file, v, isCase)
		default:
			return fail(k, "unknown key %q (known: %s)", k.Value, strings.Join(profileKeys, ", "))
		}
		if pe, ok := err.(*ProfileError); ok {
			pe.File = file
			return Profile{}, pe
		}
		if err != nil {
			return fail(v, "%v", err)
		}
	}
	return p, nil
}

// yamlError turns a YAML syntax error ("yaml: line 3: ...") into a
// ProfileError at that line.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		_, msg, _ = strings.Cut(msg, ": ")
		return &ProfileError{File: file, Line: line, Msg: msg}
	}
	return &ProfileError{File: file, Line: 1, Msg: msg}
}

func scalar(n *yaml.Node, key string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("%s: want a single value", key)
	}
	return n.Value, nil
}

func list(n *yaml.Node, key string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: want a list ([a, b] or one \"- item\" a line)", key)
	}
	var out []string
	for _, e := range n.Content {
		s, err := scalar(e, key)
		if err != nil {
			return nil, &ProfileError{Line: e.Line, Msg: err.Error()}
		}
		out = append(out, s)
	}
	return out, nil
}

func duration(n *yaml.Node, key string) (time.Duration, error) {
	s, err := scalar(n, key)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: want a duration such as 250ms or 2m, got %q", key, s)
	}
	return d, nil
}

// known reads the known deviations: case ID, with " [IPv4]" or " [IPv6]"
// for one family, to a mapping of the reason and the failure.
func known(file string, n *yaml.Node, isCase func(string) bool) (map[string]Deviation, error) {
	if n.Kind == yaml.MappingNode && len(n.Content) == 0 {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("known: want a mapping of case IDs to their reason and failure")
	}
	out := map[string]Deviation{}
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		at := func(n *yaml.Node, format string, args ...any) error {
			return &ProfileError{File: file, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
		}
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return nil, at(k, "known: want a case ID as the key")
		}
		if _, dup := out[k.Value]; dup {
			return nil, at(k, "known: %s given twice", k.Value)
		}
		id := strings.TrimSuffix(strings.TrimSuffix(k.Value, " [IPv4]"), " [IPv6]")
		if isCase != nil && !isCase(id) {
			return nil, at(k, "known: no case has the ID %q (tcpconform list shows the IDs)", id)
		}
		if v.Kind != yaml.MappingNode {
			return nil, at(v, "known: %s: want {reason: ..., fails: ...}", k.Value)
		}
		fields := map[string]string{}
		for j := 0; j < len(v.Content); j += 2 {
			fk, fv := v.Content[j], v.Content[j+1]
			if fk.Value != "reason" && fk.Value != "fails" {
				return nil, at(fk, "known: %s: unknown key %q (known: reason, fails)", k.Value, fk.Value)
			}
			if _, dup := fields[fk.Value]; dup {
				return nil, at(fk, "known: %s: %s given twice", k.Value, fk.Value)
			}
			if fv.Kind != yaml.ScalarNode || strings.TrimSpace(fv.Value) == "" {
				return nil, at(fv, "known: %s: %s: want %s", k.Value, fk.Value, deviationKeys[fk.Value])
			}
			fields[fk.Value] = fv.Value
		}
		for _, key := range []string{"reason", "fails"} {
			if _, ok := fields[key]; !ok {
				return nil, at(v, "known: %s needs %s: %s", k.Value, key, deviationKeys[key])
			}
		}
		out[k.Value] = Deviation{Reason: fields["reason"], Fails: fields["fails"]}
	}
	return out, nil
}

// deviationKeys say what each key of a known deviation holds.
var deviationKeys = map[string]string{
	"reason": "what the target does instead, in words",
	"fails":  "a piece of the failure message the spec shows (white space runs count as one space)",
}

// Variants returns the names a profile's variants may take: those of the
// transition table's rows, and rfc793, which cases test for.
func Variants() []string {
	set := map[string]bool{"rfc793": true}
	for _, t := range transitions {
		set[t.Variant] = true
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// FormatProfile writes p as a profile file that ParseProfile reads back
// equal: to start a profile of one's own from a built-in one.
func FormatProfile(p Profile) []byte {
	var b bytes.Buffer
	line := func(key string, v any) {
		out, _ := yaml.Marshal(map[string]any{key: v})
		b.Write(out)
	}
	line("target", p.Target)
	line("variants", p.Variants)
	line("timer-granularity", p.TimerGranularity.String())
	line("latency", p.Latency.String())
	line("time-wait", p.TimeWait.String())
	line("notes", nonNil(p.Notes))
	type deviation struct {
		Reason string `yaml:"reason"`
		Fails  string `yaml:"fails"`
	}
	known := map[string]deviation{}
	for id, d := range p.Known {
		known[id] = deviation{d.Reason, d.Fails}
	}
	line("known", known)
	return b.Bytes()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
