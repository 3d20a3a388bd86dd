package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/suites"
	"github.com/tcpconform/tcpconform/targets"
)

// cmdMatrix runs the built-in cases and scripts on several targets and
// prints their verdicts side by side as a Markdown table: one row per
// group (a state, an RFC section, a behaviour file or the scripts), one
// column per target, and a total row. The README's table is its output.
func cmdMatrix(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	names := fs.String("targets", "netstack,linux", "comma-separated targets to compare")
	parallel := fs.Int("parallel", 2, "run this many cases at once")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	cases := suites.Cases()
	scripts, err := suites.BuiltinScriptCases(suites.ScriptOptions{})
	if err != nil {
		fmt.Fprintf(stderr, "tcpconform matrix: built-in scripts: %v\n", err)
		return exitError
	}
	cases = append(cases, scripts...)
	var groups []string
	seen := map[string]bool{}
	for _, c := range cases {
		if g := matrixGroup(c); !seen[g] {
			seen[g] = true
			groups = append(groups, g)
		}
	}
	var cols []string
	cells := map[string]map[string]map[injector.Outcome]int{} // target -> group -> counts
	for _, name := range strings.Split(*names, ",") {
		tgt, err := targets.Lookup(strings.TrimSpace(name))
		if err != nil {
			fmt.Fprintf(stderr, "tcpconform matrix: %v\n", err)
			return exitError
		}
		if err := tgt.Available(); err != nil {
			fmt.Fprintf(stderr, "tcpconform matrix: target %s left out: %v\n", tgt.Name(), err)
			continue
		}
		cols = append(cols, tgt.Name())
		byGroup := map[string]map[injector.Outcome]int{"total": {}}
		for r := range runAll(ctx, tgt, cases, injector.RunOptions{Seed: 1}, max(*parallel, 1)) {
			g := matrixGroup(r.Case)
			if byGroup[g] == nil {
				byGroup[g] = map[injector.Outcome]int{}
			}
			byGroup[g][r.Outcome]++
			byGroup["total"][r.Outcome]++
		}
		cells[tgt.Name()] = byGroup
	}
	if ctx.Err() != nil {
		return exitError
	}
	fmt.Fprintf(stdout, "| cases | %s |\n|---|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
	for _, g := range append(groups, "total") {
		row := []string{g}
		for _, col := range cols {
			row = append(row, matrixCell(cells[col][g]))
		}
		fmt.Fprintf(stdout, "| %s |\n", strings.Join(row, " | "))
	}
	fmt.Fprintln(stdout, "\nEach cell: passed / failed / skipped / known deviations / harness errors.")
	return exitOK
}

// matrixGroup is the row a case counts in.
func matrixGroup(c *injector.Case) string {
	switch {
	case c.Group != "":
		return c.Group
	case strings.HasPrefix(c.Location, "suites/scripts/"):
		return "scripts"
	}
	return "behaviours"
}

func matrixCell(n map[injector.Outcome]int) string {
	return fmt.Sprintf("%d / %d / %d / %d / %d", n[injector.Passed], n[injector.Failed], n[injector.Skipped], n[injector.Deviated], n[injector.Errored])
}
