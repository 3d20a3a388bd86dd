// Package mutate measures what the built-in suite catches: it plants one
// small bug at a time (a mutant) in the gVisor module go.mod pins, builds
// tcpconform against it, runs the suite on the netstack target, and tells
// whether the suite noticed (the mutant is killed) or not (it survived).
//
// A mutant is a text file in the txtar style: header lines, then pairs of
// sections naming the text to replace in one of the module's files and its
// replacement:
//
//	breaks: RFC 5681 section 3.2: the third duplicate ACK retransmits at once
//	-- old pkg/tcpip/transport/tcp/snd.go --
//		if s.DupAckCount >= nDupAckThreshold {
//	-- new --
//		if false && s.DupAckCount >= nDupAckThreshold {
//
// The header must have a "breaks:" line naming the rule the mutant breaks;
// an "unobservable:" line argues why no test on the wire can see it, and
// such a mutant is run but not counted. Other header lines are notes. The
// old text must occur exactly once in its file (after the mutant's earlier
// edits of the same file); the final newline of a section is not part of
// its text, so a section can name part of a line.
package mutate

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Mutant is one planted bug.
type Mutant struct {
	// Name is the file's name without its extension.
	Name string
	// File is where the mutant was read from.
	File string
	// Breaks names the rule the mutant breaks, with its RFC section.
	Breaks string
	// Unobservable, when set, says why the mutant cannot be seen on the
	// wire; it is then not counted.
	Unobservable string
	Edits        []Edit
}

// Edit replaces Old, which occurs once in Path, with New.
type Edit struct {
	// Path is the file's path inside the module, with slashes.
	Path     string
	Old, New string
	// Line is the line of the edit's "-- old" marker in the mutant file.
	Line int
}

// Error is a malformed mutant, at a line of its file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// marker returns the name of a "-- NAME --" section marker line.
func marker(line string) (string, bool) {
	if !strings.HasPrefix(line, "-- ") || !strings.HasSuffix(line, " --") || len(line) < 6 {
		return "", false
	}
	return strings.TrimSpace(line[3 : len(line)-3]), true
}

// Parse reads a mutant from the text of file.
func Parse(file string, data []byte) (*Mutant, error) {
	m := &Mutant{Name: strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)), File: file}
	fail := func(line int, format string, args ...any) (*Mutant, error) {
		return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	// section is the text since the last marker, and where it began.
	var (
		section   strings.Builder
		inSection bool
		pending   *Edit // an old section waiting for its new one
		lastName  string
		lastLine  int
	)
	flush := func() error {
		text := strings.TrimSuffix(section.String(), "\n")
		section.Reset()
		if !inSection {
			return nil
		}
		if lastName == "new" {
			pending.New = text
			m.Edits = append(m.Edits, *pending)
			pending = nil
			return nil
		}
		if text == "" {
			return &Error{File: file, Line: lastLine, Msg: "the old text is empty"}
		}
		pending.Old = text
		return nil
	}
	for i, raw := range lines {
		n := i + 1
		line := strings.TrimSuffix(raw, "\n")
		name, ok := marker(line)
		if !ok {
			if inSection {
				section.WriteString(raw)
				continue
			}
			key, value, _ := strings.Cut(line, ":")
			value = strings.TrimSpace(value)
			switch strings.TrimSpace(key) {
			case "breaks":
				m.Breaks = value
			case "unobservable":
				m.Unobservable = value
			}
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		switch {
		case strings.HasPrefix(name, "old "):
			if pending != nil {
				return fail(n, "want a \"-- new --\" section after the old one at line %d", pending.Line)
			}
			p := strings.TrimSpace(strings.TrimPrefix(name, "old "))
			if p == "" || path.IsAbs(p) || slices.Contains(strings.Split(p, "/"), "..") || strings.Contains(p, "\\") {
				return fail(n, "want a module-relative file path with slashes, got %q", p)
			}
			pending = &Edit{Path: p, Line: n}
		case name == "new":
			if pending == nil {
				return fail(n, "a \"-- new --\" section needs an \"-- old FILE --\" section before it")
			}
		default:
			return fail(n, "unknown section %q: want \"old FILE\" or \"new\"", name)
		}
		inSection, lastName, lastLine = true, strings.Fields(name)[0], n
	}
	if err := flush(); err != nil {
		return nil, err
	}
	switch {
	case pending != nil:
		return fail(pending.Line, "the old text has no \"-- new --\" section")
	case len(m.Edits) == 0:
		return fail(1, "no edits: want \"-- old FILE --\" and \"-- new --\" sections")
	case m.Breaks == "":
		return fail(1, "no \"breaks:\" line naming the rule the mutant breaks")
	}
	for _, e := range m.Edits {
		if e.Old == e.New {
			return fail(e.Line, "the new text is the old one")
		}
	}
	return m, nil
}

// Load reads every *.txtar mutant in dir, in name order.
func Load(dir string) ([]*Mutant, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no mutants (*.txtar)", dir)
	}
	slices.Sort(files)
	var out []*Mutant
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		m, err := Parse(f, data)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Apply returns the mutated text of each file the mutant edits, by path,
// reading the originals through read.
func (m *Mutant) Apply(read func(path string) ([]byte, error)) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, e := range m.Edits {
		text, ok := out[e.Path]
		if !ok {
			var err error
			if text, err = read(e.Path); err != nil {
				return nil, &Error{File: m.File, Line: e.Line, Msg: err.Error()}
			}
		}
		switch n := strings.Count(string(text), e.Old); n {
		case 1:
		case 0:
			return nil, &Error{File: m.File, Line: e.Line, Msg: fmt.Sprintf("the old text is not in %s", e.Path)}
		default:
			return nil, &Error{File: m.File, Line: e.Line, Msg: fmt.Sprintf("the old text occurs %d times in %s: make it longer, so it names one place", n, e.Path)}
		}
		out[e.Path] = []byte(strings.Replace(string(text), e.Old, e.New, 1))
	}
	return out, nil
}
