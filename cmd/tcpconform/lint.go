package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tcpconform/tcpconform/script"
)

const lintUsage = `usage: tcpconform lint [-D SYM=val]... PATH...

lint parses and checks packetdrill scripts without running them. A PATH
that is a directory is searched for *.pkt files. Each problem prints as
file:line:col: message; the last line counts the scripts that are ok and
bad. A construct that parses here but that the packetdrill the script is
written for (google's, or nplab's fork) would reject prints as
file:line:col: warning: message and does not make the script bad. The
exit status is 0 when all are ok and 2 otherwise.
`

// cmdLint runs "tcpconform lint".
func cmdLint(args []string, stdout, stderr io.Writer) int {
	set := flag.NewFlagSet("lint", flag.ContinueOnError)
	set.SetOutput(stderr)
	set.Usage = func() {
		fmt.Fprint(stderr, lintUsage)
		set.PrintDefaults()
	}
	defs := defines{}
	set.Var(defs, "D", "define SYM as val while reading the scripts (repeatable)")
	if err := set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if set.NArg() == 0 {
		fmt.Fprint(stderr, lintUsage)
		return exitError
	}
	opts := script.ParseOptions{Defines: defs}
	ok, bad := 0, 0
	for _, arg := range set.Args() {
		files, err := scriptFiles(arg)
		if err != nil {
			fmt.Fprintf(stderr, "tcpconform lint: %v\n", err)
			bad++
			continue
		}
		for _, path := range files {
			if lintFile(path, opts, stdout, stderr) {
				ok++
			} else {
				bad++
			}
		}
	}
	fmt.Fprintf(stdout, "%d ok, %d bad\n", ok, bad)
	if bad > 0 {
		return exitError
	}
	return exitOK
}

// lintFile parses one script and prints its problems; it reports whether
// there were none.
func lintFile(path string, opts script.ParseOptions, stdout, stderr io.Writer) bool {
	f, err := script.ParseFile(path, opts)
	if f != nil {
		for _, w := range f.Warnings {
			fmt.Fprintf(stdout, "%s: warning: %s\n", w.Pos, w.Msg)
		}
	}
	if err == nil {
		return true
	}
	if list := script.AsErrorList(err); list != nil {
		for _, e := range list {
			fmt.Fprintln(stdout, e)
		}
	} else {
		fmt.Fprintf(stderr, "tcpconform lint: %v\n", err)
	}
	return false
}

// scriptFiles returns path when it is a file, or the *.pkt files under it,
// in lexical order, when it is a directory.
func scriptFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Ext(p) == ".pkt" {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}
