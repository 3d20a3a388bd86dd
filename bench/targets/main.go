// Command targets times the same cases on several targets, in one run on
// one machine, so that the per-case cost of each target compares with the
// others as a ratio:
//
//	go run ./bench/targets [-targets netstack,linux,lwip,uml,seqs] [-run REGEXP] [-rounds 3] [-O target.option=value]
//
// A remote device made by cmd/vethlab compares with the linux target as
//
//	go run ./cmd/vethlab -tcpconform /tmp/tcpconform -- sh -c \
//	    'go run ./bench/targets -targets linux,remote -O remote.iface=test-h -O remote.device=198.51.100.1:7000'
//
// Each target runs the selected built-in cases (specs and scripts) one at a
// time, -rounds times, after one warm-up case (a virtual machine's boot,
// a first build, is not a case's cost). It prints, per target, the cases
// run, their verdicts, the median and mean wall time of a case, and the
// mean as a ratio of the first target's. A target that cannot run here is
// listed with the reason. Options of targets that take them (an agent's
// command, a remote device's interface) are given as -O NAME.OPTION=VALUE.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/suites"
	"github.com/tcpconform/tcpconform/targets"

	_ "github.com/tcpconform/tcpconform/targets/linux"
	_ "github.com/tcpconform/tcpconform/targets/lwip"
	_ "github.com/tcpconform/tcpconform/targets/netstack"
	_ "github.com/tcpconform/tcpconform/targets/remote"
	_ "github.com/tcpconform/tcpconform/targets/seqs"
	_ "github.com/tcpconform/tcpconform/targets/uml"
)

// optionFlag collects -O NAME.OPTION=VALUE by target.
type optionFlag map[string]targets.Options

func (o optionFlag) String() string { return fmt.Sprint(map[string]targets.Options(o)) }
func (o optionFlag) Set(v string) error {
	key, value, ok := strings.Cut(v, "=")
	name, opt, ok2 := strings.Cut(key, ".")
	if !ok || !ok2 || name == "" || opt == "" {
		return fmt.Errorf("want TARGET.OPTION=VALUE, got %q", v)
	}
	if o[name] == nil {
		o[name] = targets.Options{}
	}
	o[name][opt] = value
	return nil
}

func main() {
	names := flag.String("targets", "netstack,linux,lwip,uml", "targets to compare, the first one the base of the ratios")
	pattern := flag.String("run", `^T0[0-3]\d |suites/scripts/`, "cases whose name matches this regexp")
	rounds := flag.Int("rounds", 3, "times each case runs on each target")
	opts := optionFlag{}
	flag.Var(opts, "O", "an option of one target, TARGET.OPTION=VALUE (repeatable)")
	flag.Parse()
	if err := run(strings.Split(*names, ","), *pattern, *rounds, opts); err != nil {
		fmt.Fprintln(os.Stderr, "targets:", err)
		os.Exit(2)
	}
}

func run(names []string, pattern string, rounds int, opts optionFlag) error {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return fmt.Errorf("-run: %w", err)
	}
	all := suites.Cases()
	scripts, err := suites.BuiltinScriptCases(suites.ScriptOptions{})
	if err != nil {
		return err
	}
	var cases []*injector.Case
	for _, c := range append(all, scripts...) {
		if re.MatchString(c.FullName()) {
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		return fmt.Errorf("no case matches %q", pattern)
	}
	defer targets.ShutdownAll()
	ctx := context.Background()
	fmt.Printf("%d cases x %d rounds, one at a time\n\n", len(cases), rounds)
	fmt.Printf("%-10s %6s %-28s %10s %10s %8s\n", "target", "runs", "pass/fail/skip/known/error", "median", "mean", "ratio")
	var base time.Duration
	for _, name := range names {
		tgt, err := targets.Open(strings.TrimSpace(name), opts[name])
		if err == nil {
			err = tgt.Available()
		}
		if err != nil {
			fmt.Printf("%-10s not run: %v\n", name, err)
			continue
		}
		injector.Run(ctx, tgt, cases[0], injector.RunOptions{Seed: 1}) // warm-up
		var times []time.Duration
		var failed []string
		counts := map[injector.Outcome]int{}
		for range rounds {
			for _, c := range cases {
				start := time.Now()
				r := injector.Run(ctx, tgt, c, injector.RunOptions{Seed: 1})
				times = append(times, time.Since(start))
				counts[r.Outcome]++
				if r.Outcome == injector.Failed || r.Outcome == injector.Errored {
					failed = append(failed, fmt.Sprintf("%v %s: %s", r.Outcome, c.FullName(), firstLine(r.Message)))
				}
			}
		}
		slices.Sort(times)
		var sum time.Duration
		for _, d := range times {
			sum += d
		}
		mean := sum / time.Duration(len(times))
		if base == 0 {
			base = mean
		}
		verdicts := fmt.Sprintf("%d/%d/%d/%d/%d", counts[injector.Passed], counts[injector.Failed], counts[injector.Skipped], counts[injector.Deviated], counts[injector.Errored])
		fmt.Printf("%-10s %6d %-28s %10s %10s %8.2f\n", name, len(times), verdicts, times[len(times)/2].Round(10*time.Microsecond), mean.Round(10*time.Microsecond), float64(mean)/float64(base))
		for _, f := range failed {
			fmt.Printf("           %s\n", f)
		}
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
