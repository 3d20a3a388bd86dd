package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/suites"
	"github.com/tcpconform/tcpconform/targets"
)

// cmdCoverage runs the built-in specs and scripts on a target and maps them
// onto the transition table and RFC 9293's requirement labels: for each row
// and label, the specs and scripts labelled with it and their verdicts. The
// last line is "transitions: N/110 covered, requirements: N/119 covered"; the
// exit status is 1 when a transition has no spec or script.
func cmdCoverage(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("coverage", flag.ContinueOnError)
	target := fs.String("target", envOr("TCPCONFORM_TARGET", "netstack"), "target whose verdicts to show")
	parallel := fs.Int("parallel", 1, "run this many cases at once")
	seed := fs.Uint64("seed", 1, "seed for the target's randomness")
	opts := targets.Options{}
	registerTargetOptions(fs, opts)
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	tgt, err := openTarget(*target, opts)
	if err != nil {
		fmt.Fprintf(stderr, "tcpconform coverage: -target: %v\n", err)
		return exitError
	}
	cases := suites.Cases()
	scripts, err := suites.BuiltinScriptCases(suites.ScriptOptions{})
	if err != nil {
		fmt.Fprintf(stderr, "tcpconform coverage: built-in scripts: %v\n", err)
		return exitError
	}
	cases = append(cases, scripts...)
	profile, err := loadProfile(tgt, opts, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	verdicts := map[*injector.Case]injector.Outcome{}
	errored := false
	for r := range runAll(ctx, tgt, cases, injector.RunOptions{Seed: *seed, Profile: profile}, max(*parallel, 1)) {
		verdicts[r.Case] = r.Outcome
		errored = errored || r.Outcome == injector.Errored
	}
	byLabel := map[string][]*injector.Case{}
	for _, c := range cases {
		for _, l := range c.Labels {
			byLabel[l] = append(byLabel[l], c)
		}
	}
	show := func(cs []*injector.Case) {
		if len(cs) == 0 {
			fmt.Fprintln(stdout, "      (no spec or script)")
		}
		for _, c := range cs {
			fmt.Fprintf(stdout, "      %-5s %s\n", verdicts[c], c.FullName())
		}
	}

	fmt.Fprintf(stdout, "Transitions (RFC 9293 section 3.10), verdicts on %s:\n", tgt.Name())
	covered, missing := 0, []string{}
	for _, tr := range expectations.Transitions() {
		cs := byLabel[tr.ID]
		fmt.Fprintf(stdout, "%s  %s  %s: %s [%s]\n", tr.ID, strings.Join(tr.States, "|"), tr.Event, tr.Condition, tr.Variant)
		show(cs)
		if len(cs) > 0 {
			covered++
		} else {
			missing = append(missing, tr.ID)
		}
	}
	fmt.Fprintf(stdout, "\nRFC 9293 requirements, verdicts on %s:\n", tgt.Name())
	reqCovered, wire, wireCovered := 0, 0, 0
	for _, rq := range expectations.Requirements() {
		cs := byLabel[rq.Label]
		fmt.Fprintf(stdout, "%-8s %s (section %s, on the wire: %s)\n", rq.Label, rq.Paraphrase, rq.Section, rq.Observable)
		show(cs)
		if rq.Observable == "yes" {
			wire++
		}
		if len(cs) > 0 {
			reqCovered++
			if rq.Observable == "yes" {
				wireCovered++
			}
		}
	}
	fmt.Fprintln(stdout)
	if len(missing) > 0 {
		fmt.Fprintf(stdout, "transitions without a spec: %s\n", strings.Join(missing, " "))
	}
	counts := map[injector.Outcome]int{}
	for _, o := range verdicts {
		counts[o]++
	}
	outcomes := []injector.Outcome{injector.Passed, injector.Failed, injector.Skipped, injector.Deviated, injector.Errored}
	var parts []string
	for _, o := range outcomes {
		parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
	}
	fmt.Fprintf(stdout, "verdicts: %s\n", strings.Join(parts, ", "))
	fmt.Fprintf(stdout, "wire-observable requirements: %d/%d covered\n", wireCovered, wire)
	fmt.Fprintf(stdout, "transitions: %d/%d covered, requirements: %d/%d covered\n",
		covered, len(expectations.Transitions()), reqCovered, len(expectations.Requirements()))
	switch {
	case errored || ctx.Err() != nil:
		return exitError
	case len(missing) > 0:
		return exitNonconformance
	}
	return exitOK
}
