// Command tcpconform runs TCP conformance cases against a target stack.
//
//	tcpconform run [-target name] [-run regexp] [-seed n] [-pcap dir] [-v]
//	tcpconform list [-run regexp]
//	tcpconform targets
//
// run prints one line per case and a last line "N passed, N failed, N
// skipped". It exits 0 when nothing failed, 1 when the target failed a case
// (nonconformance), and 2 on a usage or harness error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/suites"
	"github.com/tcpconform/tcpconform/targets"
	_ "github.com/tcpconform/tcpconform/targets/netstack"
)

// Exit statuses.
const (
	exitOK             = 0
	exitNonconformance = 1
	exitError          = 2 // a usage or harness error
)

const usage = `usage: tcpconform <command> [flags]

commands:
  run      run the built-in cases against a target
  list     list the built-in cases and their labels
  targets  list the targets and whether each can run here

Run 'tcpconform <command> -h' for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Main runs the command line args and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "list":
		return cmdList(args[1:], stdout, stderr)
	case "targets":
		return cmdTargets(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "tcpconform: unknown command %q\n\n%s", args[0], usage)
	return exitError
}

// parse parses flags. When it reports false the command ends with the status
// it returns: 0 after -h, exitError for bad flags and stray arguments.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) (int, bool) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitError, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tcpconform %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitError, false
	}
	return exitOK, true
}

// selectCases returns the built-in cases whose full name or a label matches
// pattern.
func selectCases(pattern string) ([]*injector.Case, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("-run: %w", err)
	}
	var out []*injector.Case
	for _, c := range suites.Cases() {
		if re.MatchString(c.FullName()) || re.MatchString(strings.Join(c.Labels, " ")) {
			out = append(out, c)
		}
	}
	return out, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	targetName := fs.String("target", envOr("TCPCONFORM_TARGET", "netstack"), "target to test (see 'tcpconform targets'; also $TCPCONFORM_TARGET)")
	pattern := fs.String("run", "", "run only cases whose name or labels match this regexp")
	seed := fs.Uint64("seed", 1, "seed for the target's randomness (ISNs, ports)")
	pcapDir := fs.String("pcap", filepath.Join("out", "pcap"), "directory for the pcap of every failing case")
	timeout := fs.Duration("timeout", injector.DefaultCaseTimeout, "wall-time limit per case")
	verbose := fs.Bool("v", false, "print the labels and location of every case")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	tgt, err := targets.Lookup(*targetName)
	if err != nil {
		fmt.Fprintf(stderr, "tcpconform run: -target: %v\n", err)
		return exitError
	}
	if err := tgt.Available(); err != nil {
		fmt.Fprintf(stderr, "tcpconform run: target %s cannot run here: %v\n", tgt.Name(), err)
		return exitError
	}
	cases, err := selectCases(*pattern)
	if err != nil {
		fmt.Fprintf(stderr, "tcpconform run: %v\n", err)
		return exitError
	}
	if len(cases) == 0 {
		fmt.Fprintf(stderr, "tcpconform run: no case matches -run %q\n", *pattern)
		return exitError
	}

	opts := injector.RunOptions{Seed: *seed, PcapDir: *pcapDir, Timeout: *timeout}
	counts := map[injector.Outcome]int{}
	for _, c := range cases {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "tcpconform run: interrupted")
			break
		}
		r := injector.Run(ctx, tgt, c, opts)
		counts[r.Outcome]++
		fmt.Fprintf(stdout, "%-5s %s (%s)\n", r.Outcome, c.FullName(), round(r.Elapsed))
		if *verbose {
			fmt.Fprintf(stdout, "      %s  %s\n", c.Location, strings.Join(c.Labels, " "))
		}
		if r.Outcome != injector.Passed && r.Message != "" {
			fmt.Fprintln(stdout, indent(r.Message, "      "))
		}
	}
	summary := fmt.Sprintf("%d passed, %d failed, %d skipped", counts[injector.Passed], counts[injector.Failed], counts[injector.Skipped])
	if n := counts[injector.Errored]; n > 0 {
		summary += fmt.Sprintf(", %d harness errors", n)
	}
	fmt.Fprintln(stdout, summary)
	switch {
	case counts[injector.Errored] > 0 || ctx.Err() != nil:
		return exitError
	case counts[injector.Failed] > 0:
		return exitNonconformance
	}
	return exitOK
}

func cmdList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	pattern := fs.String("run", "", "list only cases whose name or labels match this regexp")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	cases, err := selectCases(*pattern)
	if err != nil {
		fmt.Fprintf(stderr, "tcpconform list: %v\n", err)
		return exitError
	}
	for _, c := range cases {
		fmt.Fprintf(stdout, "%s\n    %s  %s\n", c.FullName(), c.Location, strings.Join(c.Labels, " "))
	}
	return exitOK
}

func cmdTargets(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("targets", flag.ContinueOnError)
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	for _, t := range targets.All() {
		status := "available"
		if err := t.Available(); err != nil {
			status = "unavailable: " + err.Error()
		}
		fmt.Fprintf(stdout, "%-10s %s\n           %s\n", t.Name(), status, t.Describe())
	}
	return exitOK
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

func round(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}
