// Command tcpconform runs TCP conformance cases and packetdrill scripts
// against a target stack.
//
//	tcpconform run [flags] [PATH...]
//	tcpconform lint [-D SYM=value]... PATH...
//	tcpconform list [-run regexp]
//	tcpconform targets [-v]
//	tcpconform profile TARGET
//	tcpconform coverage [-target T]
//	tcpconform matrix -targets T,T...
//	tcpconform packetdrill [packetdrill's options] script.pkt...
//
// run runs the scripts under PATH (files or directories), or with no PATH the
// built-in Go cases and the scripts embedded from suites/scripts. It prints
// one line per case (PASS, FAIL, SKIP, XFAIL for a known deviation of the
// target, ERROR) and a last line "N passed, N failed, N skipped", and can
// write JUnit (-junit), JSON (-json), an HTML report (-report) and pcaps
// (-pcap-dir, -pcap failed|all). Exit status: 0 when the target conformed
// (or, with -baseline, when its failures are exactly the baseline's), 1 on
// nonconformance (a failure, or with -baseline a new failure or an
// unexpected pass), 2 on a usage, script or harness error. lint parses and
// checks scripts, printing file:line:col: message for each problem and
// "N ok, N bad"; it exits 2 if any script is bad.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/suites"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent"
	_ "github.com/tcpconform/tcpconform/targets/agentcmd"
	_ "github.com/tcpconform/tcpconform/targets/linux"
	_ "github.com/tcpconform/tcpconform/targets/lwip"
	_ "github.com/tcpconform/tcpconform/targets/netstack"
	_ "github.com/tcpconform/tcpconform/targets/seqs"
	"github.com/tcpconform/tcpconform/targets/uml"
	"github.com/tcpconform/tcpconform/targets/uml/guestinit"
)

// Exit statuses.
const (
	exitOK             = 0
	exitNonconformance = 1
	exitError          = 2 // a usage or harness error
)

const usage = `usage: tcpconform <command> [flags]

commands:
  run      run scripts (or, with no path, the built-in cases and scripts) against a target
  lint     parse and check packetdrill scripts
  list     list the built-in cases and scripts, with their labels
  targets  list the targets and whether each can run here (-v: with the
           command line of an agent target's agent)
  profile  print a target's built-in profile as a profile file (-profile)
  coverage run the built-in cases on a target and map them onto the
           transition table (T001–T110) and RFC 9293's requirement labels
  matrix   run the built-in cases on several targets; print the verdicts as a table
  agent    serve the agent protocol with this kernel's sockets (stdin and
           stdout, -serial DEVICE or -listen IP:PORT), for a harness elsewhere
  packetdrill
           run scripts with packetdrill's command line, output and exit
           codes (also: the binary under the name "packetdrill")

Exit status: 0 conformant (or matching -baseline), 1 nonconformance (or a
new failure or unexpected pass against -baseline), 2 usage, script or
harness error.

Run 'tcpconform <command> -h' for the flags of a command.
`

// This program is also the init of the uml target's guest, which boots
// it as PID 1.
func init() { uml.AgentExecutable = true }

func main() {
	if os.Getpid() == 1 {
		guestinit.Main(hereOptions()) // `tcpconform agent` in its init mode; never returns
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	args := os.Args[1:]
	if invokedAsPacketdrill(os.Args[0]) {
		args = append([]string{"packetdrill"}, args...)
	}
	code := Main(ctx, args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Main runs the command line args and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// A target that keeps a guest running across cases stops it here, on
	// every way out (an interrupted run returns through here too).
	defer targets.ShutdownAll()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "lint":
		return cmdLint(args[1:], stdout, stderr)
	case "list":
		return cmdList(args[1:], stdout, stderr)
	case "targets":
		return cmdTargets(args[1:], stdout, stderr)
	case "profile":
		return cmdProfile(args[1:], stdout, stderr)
	case "coverage":
		return cmdCoverage(ctx, args[1:], stdout, stderr)
	case "matrix":
		return cmdMatrix(ctx, args[1:], stdout, stderr)
	case "packetdrill":
		return cmdPacketdrill(ctx, args[1:], stdout, stderr)
	case "agent":
		return cmdAgent(ctx, args[1:], stdout, stderr)
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

// defines collects repeated -D SYM=value flags.
type defines map[string]string

func (d defines) String() string { return fmt.Sprint(map[string]string(d)) }
func (d defines) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want SYM=value, got %q", v)
	}
	d[name] = value
	return nil
}

// runFlags are the flags of run.
type runFlags struct {
	target, pattern, pcapDir, ip string
	targetOpts                   targets.Options
	seed                         uint64
	timeout                      time.Duration
	verbose                      bool
	parallel                     int
	tolUsecs                     int64
	tolPct                       float64
	defines                      defines
	likeRunAll, confirm, strict  bool
	options                      packetdrillOptions
	outputs                      outputFlags
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.target, "target", envOr("TCPCONFORM_TARGET", "netstack"), "target to test (see 'tcpconform targets'; also $TCPCONFORM_TARGET)")
	fs.StringVar(&f.pattern, "run", "", "run only cases whose name or labels match this regexp")
	fs.Uint64Var(&f.seed, "seed", 1, "seed for the target's randomness (ISNs, ports)")
	fs.StringVar(&f.pcapDir, "pcap-dir", filepath.Join("out", "pcap"), "directory for the pcap files (see -pcap)")
	fs.DurationVar(&f.timeout, "timeout", injector.DefaultCaseTimeout, "wall-time limit per case")
	fs.BoolVar(&f.verbose, "v", false, "print every packet sent and received, and each case's labels")
	fs.BoolVar(&f.verbose, "verbose", false, "same as -v")
	fs.IntVar(&f.parallel, "parallel", 1, "run this many cases at once")
	fs.BoolVar(&f.strict, "strict-segments", false, "wire-exact scripts: a device without segmentation or checksum offload (scripts otherwise get packetdrill's, with TSO), and each outbound line matches one segment (packetdrill's --strict_segments)")
	fs.BoolVar(&f.confirm, "confirm", true, "run a case that failed once more, alone, after the others; the second run's verdict counts (a real clock's timing under load is the harness's, not the stack's)")
	fs.StringVar(&f.ip, "ip", "", "IP version of scripts: 4, 6 or 4in6 (default: what the script says, else both 4 and 6)")
	fs.Int64Var(&f.tolUsecs, "tolerance-usecs", -1, "timing tolerance of scripts in microseconds (default: the script's, else 4000)")
	fs.Float64Var(&f.tolPct, "tolerance-percent", -1, "timing tolerance of scripts as a percentage of the gap (default: the script's, else 12.5)")
	fs.Var(f.defines, "D", "define a script symbol, SYM=value (repeatable)")
	fs.Var(&f.options, "O", "give scripts one of packetdrill's options, NAME[=VALUE], as on its command line: it wins over the script's own (repeatable)")
	fs.BoolVar(&f.likeRunAll, "like-run-all", false, "run each script file as packetdrill's run_all.py does: in ipv4, ipv4-mapped-ipv6 and ipv6 (by its name rule; only -ip's when given), each with run_all.py's options and -D definitions for it")
	f.outputs.register(fs)
	registerTargetOptions(fs, f.targetOpts)
}

// scriptOptions turns the flags into script options.
func (f *runFlags) scriptOptions() (suites.ScriptOptions, error) {
	o := suites.ScriptOptions{Defines: f.defines, LikeRunAll: f.likeRunAll}
	o.CommandLine = f.options
	if f.strict {
		strict, err := script.NewOption(script.Pos{File: "-strict-segments"}, "strict_segments", "", false)
		if err != nil {
			return o, err
		}
		o.CommandLine = append(o.CommandLine, strict)
	}
	if f.ip != "" {
		m, err := injector.ParseIPMode(f.ip)
		if err != nil {
			return o, fmt.Errorf("-ip: %w", err)
		}
		o.IP = &m
	}
	if f.tolUsecs >= 0 {
		o.ToleranceUsecs = &f.tolUsecs
	}
	if f.tolPct >= 0 {
		o.TolerancePercent = &f.tolPct
	}
	return o, nil
}

// loadCases returns the cases to run: the scripts under paths, or with no
// paths the built-in Go cases and embedded scripts. Scripts that do not
// parse come back as loadErr, one problem a line.
func loadCases(f *runFlags, paths []string) (cases []*injector.Case, loadErr error, err error) {
	so, err := f.scriptOptions()
	if err != nil {
		return nil, nil, err
	}
	if len(paths) == 0 {
		cases = suites.Cases()
		scripts, lerr := suites.BuiltinScriptCases(so)
		cases = append(cases, scripts...)
		loadErr = lerr
	} else {
		files, err := suites.ScriptPaths(paths)
		if err != nil {
			return nil, nil, err
		}
		cases, loadErr = suites.LoadScriptCases(files, so)
	}
	re, err := regexp.Compile(f.pattern)
	if err != nil {
		return nil, nil, fmt.Errorf("-run: %w", err)
	}
	var out []*injector.Case
	for _, c := range cases {
		if re.MatchString(c.FullName()) || re.MatchString(strings.Join(c.Labels, " ")) {
			out = append(out, c)
		}
	}
	return out, loadErr, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	f := &runFlags{defines: defines{}, targetOpts: targets.Options{}}
	f.register(fs)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	tgt, err := openTarget(f.target, f.targetOpts)
	if err != nil {
		fmt.Fprintf(stderr, "tcpconform run: -target: %v\n", err)
		return exitError
	}
	if f.parallel < 1 {
		fmt.Fprintf(stderr, "tcpconform run: -parallel must be at least 1\n")
		return exitError
	}
	cases, loadErr, err := loadCases(f, fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "tcpconform run: %v\n", err)
		return exitError
	}
	if loadErr != nil {
		fmt.Fprintln(stderr, loadErr)
	}
	if len(cases) == 0 && loadErr == nil {
		fmt.Fprintf(stderr, "tcpconform run: no case matches -run %q\n", f.pattern)
		return exitError
	}
	profile, err := loadProfile(tgt, f.targetOpts, cases)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}

	base, err := f.outputs.start(tgt.Name())
	if err != nil {
		fmt.Fprintf(stderr, "tcpconform run: %v\n", err)
		return exitError
	}
	opts := injector.RunOptions{Seed: f.seed, PcapDir: f.pcapDir, PcapAll: f.outputs.pcap == "all", Timeout: f.timeout, Verbose: f.verbose, NoOffload: f.strict, Profile: profile}
	counts := map[injector.Outcome]int{}
	var results []injector.Result
	prog := newProgress(stdout, len(cases))
	all := runAll(ctx, tgt, cases, opts, f.parallel)
	if f.confirm {
		all = confirmAlone(ctx, tgt, all, opts)
	}
	for r := range all {
		c := r.Case
		counts[r.Outcome]++
		results = append(results, r)
		prog.clear()
		fmt.Fprintf(stdout, "%-5s %s (%s)\n", r.Outcome, c.FullName(), round(r.Elapsed))
		if f.verbose {
			fmt.Fprintf(stdout, "      %s  %s\n", c.Location, strings.Join(c.Labels, " "))
			if r.Log != "" {
				fmt.Fprintln(stdout, indent(r.Log, "      "))
			}
		}
		if r.Outcome != injector.Passed && r.Message != "" {
			fmt.Fprintln(stdout, indent(r.Message, "      "))
		}
		if r.FirstFailure != "" {
			fmt.Fprintf(stdout, "      failed the first time, beside the other cases (this is the verdict run alone):\n%s\n", indent(r.FirstFailure, "        "))
		}
		if f.outputs.trace {
			writeTrace(stdout, r)
		}
		prog.show(counts)
	}
	prog.clear()
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "tcpconform run: interrupted")
	}
	summary := fmt.Sprintf("%d passed, %d failed, %d skipped", counts[injector.Passed], counts[injector.Failed], counts[injector.Skipped])
	if n := counts[injector.Deviated]; n > 0 {
		summary += fmt.Sprintf(", %d known deviations", n)
	}
	if n := counts[injector.Errored]; n > 0 {
		summary += fmt.Sprintf(", %d harness errors", n)
	}
	if loadErr != nil {
		summary += ", some scripts did not parse"
	}
	fmt.Fprintln(stdout, summary)
	if err := f.outputs.write(tgt.Name(), results); err != nil {
		fmt.Fprintf(stderr, "tcpconform run: %v\n", err)
		return exitError
	}
	failed := counts[injector.Failed] > 0
	if base != nil {
		failed = base.judge(stdout, results)
	}
	switch {
	case counts[injector.Errored] > 0 || loadErr != nil || ctx.Err() != nil:
		return exitError
	case failed:
		return exitNonconformance
	}
	return exitOK
}

// runAll runs the cases on up to n at once and yields their results in the
// cases' order.
func runAll(ctx context.Context, tgt targets.Target, cases []*injector.Case, o injector.RunOptions, n int) iter.Seq[injector.Result] {
	return func(yield func(injector.Result) bool) {
		results := make([]chan injector.Result, len(cases))
		for i := range results {
			results[i] = make(chan injector.Result, 1)
		}
		sem := make(chan struct{}, n)
		go func() {
			for i, c := range cases {
				sem <- struct{}{}
				if ctx.Err() != nil {
					results[i] <- injector.Result{Case: c, Outcome: injector.Errored, Message: "not run: interrupted"}
					<-sem
					continue
				}
				go func() {
					defer func() { <-sem }()
					results[i] <- injector.Run(ctx, tgt, c, o)
				}()
			}
		}()
		for _, ch := range results {
			if !yield(<-ch) {
				return
			}
		}
	}
}

// confirmAlone passes results through, but holds back each failure and,
// once the others are done, runs its case again, alone, and yields that
// run's result in its place. On a real clock a machine under load (other
// cases of a -parallel run, other programs) can make a packet late; a
// behaviour of the stack fails twice. The verdict is then the same run
// serially or in parallel. On a virtual clock the second run repeats the
// first.
func confirmAlone(ctx context.Context, tgt targets.Target, results iter.Seq[injector.Result], o injector.RunOptions) iter.Seq[injector.Result] {
	return func(yield func(injector.Result) bool) {
		var failed []injector.Result
		for r := range results {
			if r.Outcome == injector.Failed && ctx.Err() == nil {
				failed = append(failed, r)
				continue
			}
			if !yield(r) {
				return
			}
		}
		for _, first := range failed {
			r := first
			if ctx.Err() == nil {
				r = injector.Run(ctx, tgt, first.Case, o)
				r.FirstFailure = first.Message
				if r.Outcome == injector.Failed {
					r.FirstFailure = "" // failed twice: the first run says nothing more
				}
			}
			if !yield(r) {
				return
			}
		}
	}
}

func cmdList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	f := &runFlags{defines: defines{}, targetOpts: targets.Options{}}
	fs.StringVar(&f.pattern, "run", "", "list only cases whose name or labels match this regexp")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	cases, loadErr, err := loadCases(f, nil)
	if err != nil {
		fmt.Fprintf(stderr, "tcpconform list: %v\n", err)
		return exitError
	}
	for _, c := range cases {
		fmt.Fprintf(stdout, "%s\n    %s  id %s  %s\n", c.FullName(), c.Location, c.ID, strings.Join(c.Labels, " "))
	}
	if loadErr != nil {
		fmt.Fprintln(stderr, loadErr)
		return exitError
	}
	return exitOK
}

func cmdTargets(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("targets", flag.ContinueOnError)
	verbose := fs.Bool("v", false, "also print, for a target whose stack runs in an agent, the command line it starts the agent with (what -target agent -agent-cmd takes)")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	for _, t := range targets.All() {
		status := "available"
		if err := t.Available(); err != nil {
			status = "unavailable: " + err.Error()
		}
		fmt.Fprintf(stdout, "%-10s %s\n           %s\n", t.Name(), status, t.Describe())
		if c, ok := t.(agent.Commander); ok && *verbose && status == "available" {
			if cmd, err := c.Command(); err != nil {
				fmt.Fprintf(stdout, "           agent command: none: %v\n", err)
			} else {
				fmt.Fprintf(stdout, "           agent command: %s\n", cmd)
			}
		}
	}
	return exitOK
}

// cmdProfile prints the built-in profile of a target as a profile file,
// to start one's own from (-profile).
func cmdProfile(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("profile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "usage: tcpconform profile TARGET\n")
		return exitError
	}
	if _, err := targets.Lookup(fs.Arg(0)); err != nil {
		fmt.Fprintf(stderr, "tcpconform profile: %v\n", err)
		return exitError
	}
	stdout.Write(expectations.FormatProfile(expectations.ProfileFor(fs.Arg(0))))
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
