package suites_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/suites"
	"github.com/tcpconform/tcpconform/targets"
	_ "github.com/tcpconform/tcpconform/targets/linux"
	_ "github.com/tcpconform/tcpconform/targets/lwip"
	_ "github.com/tcpconform/tcpconform/targets/netstack"
	_ "github.com/tcpconform/tcpconform/targets/uml"
)

var (
	targetName = flag.String("tcpconform.target", envOr("TCPCONFORM_TARGET", "netstack"),
		"target to run the built-in cases against (also $TCPCONFORM_TARGET)")
	artifacts = flag.String("tcpconform.artifacts", filepath.Join(os.TempDir(), "tcpconform", "pcap"),
		"directory for the pcap of every failing case")
	seed      = flag.Uint64("tcpconform.seed", 1, "seed for the target's randomness")
	scriptDir = flag.String("tcpconform.scripts", "",
		"also run the .pkt scripts under this directory (the embedded ones always run)")
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// ginkgoReporter ends a case the Ginkgo way: nonconformance fails the spec,
// an unsupported case skips it, and a harness error panics, which Ginkgo
// reports apart from failures.
type ginkgoReporter struct{}

func (ginkgoReporter) Fail(msg string)  { Fail(msg, caseFrame()) }
func (ginkgoReporter) Skip(msg string)  { Skip(msg, caseFrame()) }
func (ginkgoReporter) Error(msg string) { panic(msg) }

// caseFrame counts the frames from the reporter method that calls it up to
// the case body's own, so that Ginkgo reports the case's line rather than
// the engine's.
func caseFrame() int {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs) // from the reporter method
	frames := runtime.CallersFrames(pcs[:n])
	for i := 0; ; i++ {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, "github.com/tcpconform/tcpconform/suites.") {
			return i
		}
		if !more {
			return 1
		}
	}
}

// location turns a case's "suites/file.go:line" into a Ginkgo code location,
// so that reports and --focus-file point at the case.
func location(loc string) types.CodeLocation {
	file, line, _ := strings.Cut(loc, ":")
	n, _ := strconv.Atoi(line)
	return types.CodeLocation{FileName: file, LineNumber: n}
}

func TestBuiltinCases(t *testing.T) {
	RegisterFailHandler(Fail)
	tgt, err := targets.Lookup(*targetName)
	if err != nil {
		t.Fatalf("-tcpconform.target: %v", err)
	}
	opts := injector.RunOptions{Seed: *seed, PcapDir: *artifacts, Log: GinkgoWriter}
	// Scripts are parsed here, before RunSpecs builds the tree: a script
	// that does not parse fails the suite at once, pointing at its line.
	scripts, err := suites.BuiltinScriptCases(suites.ScriptOptions{})
	if err != nil {
		t.Fatalf("built-in scripts:\n%v", err)
	}
	if *scriptDir != "" {
		paths, err := suites.ScriptPaths([]string{*scriptDir})
		if err != nil {
			t.Fatalf("-tcpconform.scripts: %v", err)
		}
		more, err := suites.LoadScriptCases(paths, suites.ScriptOptions{})
		if err != nil {
			t.Fatalf("-tcpconform.scripts:\n%v", err)
		}
		scripts = append(scripts, more...)
	}
	Describe(fmt.Sprintf("target %s", tgt.Name()), Label("target:"+tgt.Name()), func() {
		Describe("Go cases", func() { specs(tgt, suites.Cases(), opts) })
		Describe("scripts", func() { specs(tgt, scripts, opts) })
	})
	// A target that keeps a guest running across specs stops it at the end.
	AfterSuite(targets.ShutdownAll)
	RunSpecs(t, "tcpconform built-in cases", Label("suite:builtin"))
}

// specs makes one spec per case, located at the case's own file:line (a Go
// file, or the script for scripts) and labelled with its labels. Cases of a
// group (the state a transition spec describes) share a Describe.
func specs(tgt targets.Target, cases []*injector.Case, opts injector.RunOptions) {
	var groups []string
	byGroup := map[string][]*injector.Case{}
	for _, c := range cases {
		if c.Group == "" {
			it(tgt, c, opts)
			continue
		}
		if byGroup[c.Group] == nil {
			groups = append(groups, c.Group)
		}
		byGroup[c.Group] = append(byGroup[c.Group], c)
	}
	for _, g := range groups {
		Describe(g, func() {
			for _, c := range byGroup[g] {
				it(tgt, c, opts)
			}
		})
	}
}

// it is one case's spec. A case the target's profile declares a known
// deviation passes when it fails as declared (the report says so), and
// fails when it fails otherwise or passes (injector.JudgeDeviation).
func it(tgt targets.Target, c *injector.Case, opts injector.RunOptions) {
	It(c.FullName(), Label(labels(c.Labels)...), location(c.Location), SpecTimeout(injector.DefaultCaseTimeout),
		func(ctx SpecContext) {
			deviation, known := injector.KnownDeviation(opts.ProfileOf(tgt), c)
			var rep injector.Reporter = ginkgoReporter{}
			if known {
				rep = deviationReporter{}
			}
			tc, cleanup := injector.Start(ctx, tgt, c, rep, opts)
			DeferCleanup(cleanup)
			DeferOnFailure(func() {
				if tc.PcapPath != "" {
					AddReportEntry("pcap", tc.PcapPath, ReportEntryVisibilityFailureOrVerbose)
				}
			})
			if known {
				runExpectingFailure(tgt, c, tc, deviation)
				return
			}
			c.Run(tc)
		})
}

// expectedFailure carries a declared deviation's failure out of the case.
type expectedFailure struct{ msg string }

// deviationReporter ends a known deviation's failure by unwinding to
// runExpectingFailure; skips and harness errors go the usual way.
type deviationReporter struct{ ginkgoReporter }

func (deviationReporter) Fail(msg string) { panic(expectedFailure{msg}) }

// runExpectingFailure runs a known deviation: the spec passes when the case
// fails as declared, and fails when it fails otherwise or passes.
func runExpectingFailure(tgt targets.Target, c *injector.Case, tc *injector.T, d expectations.Deviation) {
	outcome, msg := runDeclared(tgt, c, tc, d)
	if outcome == injector.Deviated {
		AddReportEntry("known deviation", msg)
		return
	}
	Fail(msg)
}

// runDeclared runs c, which tgt's profile declares the deviation d, with
// deviationReporter, and returns the verdict (injector.JudgeDeviation).
func runDeclared(tgt targets.Target, c *injector.Case, tc *injector.T, d expectations.Deviation) (outcome injector.Outcome, msg string) {
	defer func() {
		if p := recover(); p != nil {
			e, ok := p.(expectedFailure)
			if !ok {
				panic(p)
			}
			outcome, msg = injector.JudgeDeviation(tgt.Name(), c, d, true, e.msg)
		}
	}()
	c.Run(tc)
	return injector.JudgeDeviation(tgt.Name(), c, d, false, "")
}

// A declared deviation in the Ginkgo suite: an expected failure only when
// the case fails as declared; a failure when it fails another way or
// passes.
func TestDeclaredDeviationVerdicts(t *testing.T) {
	tgt, err := targets.Lookup("netstack")
	if err != nil {
		t.Fatal(err)
	}
	d := expectations.Deviation{Reason: "a FIN on the SYN,ACK is ignored", Fails: "ack: want IRS+2"}
	for _, tc := range []struct {
		name string
		body func(*injector.T)
		want injector.Outcome
		msg  string
	}{
		{"as declared", func(tt *injector.T) { tt.Fatalf("fields  ack: want IRS+2 got IRS+1") }, injector.Deviated, "failed as declared:"},
		{"otherwise", func(tt *injector.T) { tt.Fatalf("no segment arrived within 3s") }, injector.Failed, `expected to fail with "ack: want IRS+2"; it failed with:`},
		{"passing", func(*injector.T) {}, injector.Failed, "but it passed: remove it from the profile"},
	} {
		c := &injector.Case{Name: tc.name, ID: "T047.SYN-SENT", Family: injector.IPv4, Location: "suite_test.go:1", Run: tc.body}
		tt, cleanup := injector.Start(context.Background(), tgt, c, deviationReporter{}, injector.RunOptions{})
		outcome, msg := runDeclared(tgt, c, tt, d)
		cleanup()
		if outcome != tc.want || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %v %q, want %v and %q", tc.name, outcome, msg, tc.want, tc.msg)
		}
	}
}

// labels drops what Ginkgo does not allow in a label (& | ! , ( ) /), so a
// script's header cannot break the tree.
func labels(ls []string) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		if l = strings.Map(func(r rune) rune {
			if strings.ContainsRune("&|!,()/", r) {
				return -1
			}
			return r
		}, l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestCasesAreLabelled keeps every case and script traceable to the
// transition table.
func TestCasesAreLabelled(t *testing.T) {
	scripts, err := suites.BuiltinScriptCases(suites.ScriptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(suites.Cases()) < 8 || len(scripts) < 8 {
		t.Fatalf("only %d built-in cases and %d scripts", len(suites.Cases()), len(scripts))
	}
	for _, c := range append(suites.Cases(), scripts...) {
		var hasT, hasRFC bool
		for _, l := range c.Labels {
			hasT = hasT || (len(l) == 4 && l[0] == 'T') || requirementLabel.MatchString(l)
			hasRFC = hasRFC || strings.HasPrefix(l, "rfc9293:")
			// A row that RFC 9293 does not describe (RFC 1337's fix, the
			// FIN-WAIT-2 timeout of implementations) is traced by its id.
			if tr, ok := expectations.TransitionByID(l); ok && !slices.ContainsFunc(tr.Sections(), func(s string) bool { return strings.HasPrefix(s, "rfc9293:") }) {
				hasRFC = true
			}
		}
		if !hasT || !hasRFC {
			t.Errorf("%s (%s) needs a transition id or requirement label and an RFC 9293 section among its labels %v", c.FullName(), c.Location, c.Labels)
		}
	}
}

var requirementLabel = regexp.MustCompile(`^(MUST|SHLD|MAY|REC)-\d+$`)
