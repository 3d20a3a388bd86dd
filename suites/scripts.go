package suites

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/script"
)

// Scripts holds the project's own packetdrill scripts, compiled into the
// binary so that `tcpconform run` needs no files.
//
//go:embed scripts/*.pkt
var Scripts embed.FS

// ScriptOptions tune how scripts are loaded and run.
type ScriptOptions struct {
	injector.ScriptOptions
	// Defines are -D symbols for the parser.
	Defines map[string]string
	// LikeRunAll runs each script file as packetdrill's run_all.py does:
	// in its variants (ipv4, ipv4-mapped-ipv6, ipv6, by the name rule;
	// only IP when set), each with that variant's options and definitions.
	LikeRunAll bool
}

// modes returns the IP modes a script runs in: the one asked for, else the
// one the script fixes with --ip_version, else both IPv4 and IPv6, except
// that a script named *v4.pkt runs only over IPv4 and *v6.pkt only over
// IPv6 (packetdrill's runner's convention).
func modes(f *script.File, o ScriptOptions) []injector.IPMode {
	if o.IP != nil {
		return []injector.IPMode{*o.IP}
	}
	for _, opt := range f.Options {
		if opt.Name == "ip_version" {
			return nil // the script decides
		}
	}
	switch {
	case strings.HasSuffix(f.Path, "v4.pkt"):
		return []injector.IPMode{injector.IPModeV4}
	case strings.HasSuffix(f.Path, "v6.pkt"):
		return []injector.IPMode{injector.IPModeV6}
	}
	return []injector.IPMode{injector.IPModeV4, injector.IPModeV6}
}

// casesOf turns one parsed script into its cases, one per IP mode.
func casesOf(f *script.File, o ScriptOptions) ([]*injector.Case, error) {
	ms := modes(f, o)
	if ms == nil {
		c, err := injector.ScriptCase(f, o.ScriptOptions)
		if err != nil {
			return nil, err
		}
		return []*injector.Case{c}, nil
	}
	var out []*injector.Case
	for _, m := range ms {
		so := o.ScriptOptions
		so.IP = &m
		c, err := injector.ScriptCase(f, so)
		if err != nil {
			return nil, err
		}
		if m == injector.IPModeV4in6 {
			c.Name += " (ipv4-mapped-ipv6)"
		}
		out = append(out, c)
	}
	return out, nil
}

// BuiltinScriptCases parses the embedded scripts; their paths read
// "suites/scripts/NAME.pkt".
func BuiltinScriptCases(o ScriptOptions) ([]*injector.Case, error) {
	names, err := fs.Glob(Scripts, "scripts/*.pkt")
	if err != nil {
		return nil, err
	}
	var out []*injector.Case
	var errs []error
	for _, n := range names {
		src, err := Scripts.ReadFile(n)
		if err != nil {
			return nil, err
		}
		f, err := script.Parse(path.Join("suites", n), src, script.ParseOptions{Defines: o.Defines})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs, err := casesOf(f, o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, cs...)
	}
	return out, errors.Join(errs...)
}

// ScriptPaths expands files and directories (recursively, *.pkt, in sorted
// order) into script paths.
func ScriptPaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(q, ".pkt") {
				found = append(found, q)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// LoadScriptCases parses script files and turns each into its cases. A
// script that does not parse is reported in the error (one line per
// problem, file:line:col) and left out; the others still load.
func LoadScriptCases(paths []string, o ScriptOptions) ([]*injector.Case, error) {
	var out []*injector.Case
	var errs []error
	for _, p := range paths {
		if o.LikeRunAll {
			cs, err := runAllCases(p, o)
			if err != nil {
				errs = append(errs, err)
			}
			out = append(out, cs...)
			continue
		}
		f, err := script.ParseFile(p, script.ParseOptions{Defines: o.Defines})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs, err := casesOf(f, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		out = append(out, cs...)
	}
	return out, errors.Join(errs...)
}
