package script

import (
	"errors"
	"os"
	"sort"
)

// MaxErrors is the number of errors after which Parse stops.
const MaxErrors = 20

// ParseOptions are the settings of Parse.
type ParseOptions struct {
	// Defines are the -D SYM=val definitions: a WORD named SYM is replaced
	// by val while lexing (a "quoted" val becomes a string, a `back-quoted`
	// one a shell command, an integer an integer, anything else a word),
	// and "#ifdef SYM" blocks are kept. Definitions made by a --define line
	// in the script do not override these.
	Defines map[string]string
}

// Parse parses and checks the script src read from path. It returns the
// File, complete as far as the script could be read, and an ErrorList of
// every problem found (up to MaxErrors), sorted by position; the error is
// nil when the script is clean.
func Parse(path string, src []byte, opts ParseOptions) (*File, error) {
	p := newParser(path, src, opts)
	p.parseFile()
	if len(p.errs) < MaxErrors {
		p.errs = append(p.errs, check(p.file, !p.lostFirst)...)
	}
	if d := p.lx.firstDirective; d.Line > 0 {
		p.notePort(d, nplabMarker, `"#ifdef"`)
	}
	p.file.Warnings = portabilityWarnings(p.port)
	errs := sortErrors(p.errs)
	if len(errs) == 0 {
		return p.file, nil
	}
	return p.file, errs
}

// ParseFile reads the script at path and parses it with Parse.
func ParseFile(path string, opts ParseOptions) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src, opts)
}

// AsErrorList returns the ErrorList in err, or nil when err is not one.
func AsErrorList(err error) ErrorList {
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	return nil
}

// sortErrors sorts errors by position, drops exact duplicates and keeps at
// most MaxErrors.
func sortErrors(errs ErrorList) ErrorList {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].Pos, errs[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	out := errs[:0]
	for i, e := range errs {
		if i > 0 && *e == *errs[i-1] {
			continue
		}
		out = append(out, e)
	}
	if len(out) > MaxErrors {
		out = out[:MaxErrors]
	}
	return out
}
