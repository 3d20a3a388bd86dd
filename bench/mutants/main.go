// Command mutants measures what the built-in suite catches. Each mutant
// plants one small bug in the gVisor module go.mod pins (the netstack
// target's TCP); the command builds tcpconform against it, runs the
// built-in suite on netstack, and prints whether the suite noticed:
//
//	go run ./bench/mutants [-run REGEXP] [-floor 95] [-parallel N] [-v] [-build-only] [DIR...]
//
// DIR holds mutants (*.txtar; see internal/mutate for the format); the
// default is bench/mutants/set, the benchmark's own. bench/mutants/holdout
// holds a second set, written apart from the suite, to check that the
// suite catches bugs it was not written against.
//
// It prints one line per mutant, KILLED (with the cases that failed),
// SURVIVED or ERROR (it did not build, or the run ended without a
// verdict), then "mutants killed: K/N". Mutants whose header argues that no
// test on the wire can see them are run but not counted. It exits 0 when
// K/N reaches the floor (a percentage), 1 when it does not or a mutant
// errors or an unobservable one is killed (its header is then wrong), and
// 2 when the benchmark cannot run (a malformed mutant, a suite that fails
// on the unmutated module).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/tcpconform/tcpconform/internal/mutate"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Main runs the command line and returns its exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mutants", flag.ContinueOnError)
	fs.SetOutput(stderr)
	run := fs.String("run", "", "judge only the mutants whose name matches this regexp")
	floor := fs.Float64("floor", 95, "the percentage of counted mutants the suite must kill")
	parallel := fs.Int("parallel", max(1, runtime.NumCPU()/2), "build and run this many mutants at once")
	verbose := fs.Bool("v", false, "list every case that fails on a killed mutant, and each mutant's rule")
	buildOnly := fs.Bool("build-only", false, "only apply and build each mutant, without running the suite: to check new mutants")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(stderr, "mutants:", err)
		return 2
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		dirs = []string{filepath.Join(root, "bench", "mutants", "set")}
	}
	var re *regexp.Regexp
	if *run != "" {
		if re, err = regexp.Compile(*run); err != nil {
			fmt.Fprintln(stderr, "mutants: -run:", err)
			return 2
		}
	}
	var all []*mutate.Mutant
	for _, d := range dirs {
		ms, err := mutate.Load(d)
		if err != nil {
			fmt.Fprintln(stderr, "mutants:", err)
			return 2
		}
		for _, m := range ms {
			if re == nil || re.MatchString(m.Name) {
				all = append(all, m)
			}
		}
	}
	if len(all) == 0 {
		fmt.Fprintln(stderr, "mutants: no mutant matches -run")
		return 2
	}
	w, err := mutate.Open(ctx, root)
	if err != nil {
		fmt.Fprintln(stderr, "mutants:", err)
		return 2
	}
	defer w.Close()
	for _, m := range all {
		if err := w.Check(m); err != nil {
			fmt.Fprintln(stderr, "mutants:", err)
			return 2
		}
	}
	if *buildOnly {
		return buildAll(ctx, stdout, w, all)
	}
	opts := mutate.Options{Parallel: *parallel}
	if err := w.Baseline(ctx, opts); err != nil {
		fmt.Fprintln(stderr, "mutants:", err)
		return 2
	}
	fmt.Fprintf(stdout, "%d mutants of %s@%s\n", len(all), mutate.Target, w.Version)
	results := w.Run(ctx, all, opts, func(r mutate.Result) { fmt.Fprint(stdout, line(r, *verbose)) })
	return summary(stdout, results, *floor)
}

// buildAll builds each mutant and says which do not compile.
func buildAll(ctx context.Context, stdout io.Writer, w *mutate.Workspace, all []*mutate.Mutant) int {
	code := 0
	for _, m := range all {
		bin, err := w.Build(ctx, m)
		if err != nil {
			fmt.Fprintf(stdout, "ERROR     %s\n          %s\n", m.Name, strings.ReplaceAll(err.Error(), "\n", "\n          "))
			code = 1
			continue
		}
		os.Remove(bin)
		fmt.Fprintf(stdout, "BUILT     %s\n", m.Name)
	}
	return code
}

// line is how one result is printed.
func line(r mutate.Result, verbose bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %-36s %5.1fs", r.Verdict, r.Mutant.Name, r.Elapsed.Seconds())
	if !r.Counted() {
		b.WriteString("  (not counted)")
	}
	b.WriteString("\n")
	if verbose || r.Verdict != mutate.Killed {
		fmt.Fprintf(&b, "          breaks: %s\n", r.Mutant.Breaks)
	}
	if !r.Counted() {
		fmt.Fprintf(&b, "          unobservable: %s\n", r.Mutant.Unobservable)
	}
	switch r.Verdict {
	case mutate.Killed:
		shown := r.Failed
		if !verbose && len(shown) > 3 {
			shown = shown[:3]
		}
		for _, c := range shown {
			fmt.Fprintf(&b, "          by %s\n", c)
		}
		if len(shown) < len(r.Failed) {
			fmt.Fprintf(&b, "          and %d more cases\n", len(r.Failed)-len(shown))
		}
	case mutate.Errored:
		fmt.Fprintf(&b, "          %s\n", strings.ReplaceAll(r.Message, "\n", "\n          "))
	}
	return b.String()
}

// summary prints the score and returns the exit status.
func summary(w io.Writer, results []mutate.Result, floor float64) int {
	killed, counted := mutate.Score(results)
	code := 0
	var survived, errored, wrong []string
	for _, r := range results {
		switch {
		case !r.Counted() && r.Verdict == mutate.Killed:
			wrong = append(wrong, r.Mutant.Name)
		case !r.Counted():
		case r.Verdict == mutate.Survived:
			survived = append(survived, r.Mutant.Name)
		case r.Verdict == mutate.Errored:
			errored = append(errored, r.Mutant.Name)
		}
	}
	pct := 0.0
	if counted > 0 {
		pct = 100 * float64(killed) / float64(counted)
	}
	fmt.Fprintf(w, "mutants killed: %d/%d (%.1f%%; floor %.1f%%), %d not counted\n", killed, counted, pct, floor, len(results)-counted)
	if len(survived) > 0 {
		fmt.Fprintf(w, "survived: %s\n", strings.Join(survived, ", "))
	}
	if len(errored) > 0 {
		fmt.Fprintf(w, "errored: %s\n", strings.Join(errored, ", "))
		code = 1
	}
	if len(wrong) > 0 {
		fmt.Fprintf(w, "killed although argued unobservable (correct their headers): %s\n", strings.Join(wrong, ", "))
		code = 1
	}
	if counted == 0 || pct < floor {
		fmt.Fprintf(w, "below the floor of %.1f%%\n", floor)
		code = 1
	}
	return code
}

// moduleRoot finds the tcpconform module's directory from the working
// directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module github.com/tcpconform/tcpconform\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("not inside the tcpconform module (no go.mod of github.com/tcpconform/tcpconform above %s)", dir)
		}
		dir = parent
	}
}
