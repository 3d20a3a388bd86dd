package main

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tcpconform/tcpconform/injector"
)

// outputFlags are run's files for CI systems and people: JUnit, JSON, the
// pcaps, and the baseline a run is judged against.
type outputFlags struct {
	junit, json, pcap   string
	baseline, writeBase string
	report              string
	trace               bool
}

func (o *outputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.junit, "junit", "", "write a JUnit XML report to this file (one testcase per case)")
	fs.StringVar(&o.json, "json", "", "write a JSON report to this file")
	fs.StringVar(&o.pcap, "pcap", "failed", "which cases get a pcap in -pcap-dir: failed or all")
	fs.StringVar(&o.baseline, "baseline", "", "judge the run against this baseline: exit 0 when the failures are exactly its entries, 1 on a new failure or an unexpected pass")
	fs.StringVar(&o.writeBase, "write-baseline", "", "write this run's failures to this file as a baseline")
	fs.StringVar(&o.report, "report", "", "write a static HTML report (verdicts, a ladder diagram of each case, the coverage map) into this directory")
	fs.BoolVar(&o.trace, "trace", false, "print each case's exchange as a ladder diagram")
}

// start checks the flags before the run and reads the baseline, if any.
func (o *outputFlags) start(target string) (*baseline, error) {
	if o.pcap != "failed" && o.pcap != "all" {
		return nil, fmt.Errorf("-pcap %q: want failed or all", o.pcap)
	}
	if o.baseline == "" {
		return nil, nil
	}
	return readBaseline(o.baseline, target)
}

// write writes the reports the flags ask for.
func (o *outputFlags) write(target string, results []injector.Result) error {
	var errs []error
	if o.junit != "" {
		errs = append(errs, writeFile(o.junit, func(w io.Writer) error { return writeJUnit(w, target, results) }))
	}
	if o.json != "" {
		errs = append(errs, writeFile(o.json, func(w io.Writer) error { return writeJSON(w, target, results) }))
	}
	if o.report != "" {
		errs = append(errs, writeHTMLReport(o.report, target, results))
	}
	if o.writeBase != "" {
		errs = append(errs, writeFile(o.writeBase, func(w io.Writer) error { return writeBaseline(w, target, results) }))
	}
	return errors.Join(errs...)
}

// writeFile creates path (and its directory) and fills it with fill.
func writeFile(path string, fill func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = fill(bw)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// firstLine is a message's first line, for one-line summaries.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

// JUnit XML as GitHub, GitLab and Jenkins test reporters read it: one
// testsuite per run, one testcase per case, a failure, error or skipped
// element for those outcomes, and the case's file, id and pcap as
// attributes and properties.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	File       string          `xml:"file,attr,omitempty"`
	Line       int             `xml:"line,attr,omitempty"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitMessage   `xml:"failure,omitempty"`
	Error      *junitMessage   `xml:"error,omitempty"`
	Skipped    *junitMessage   `xml:"skipped,omitempty"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }

func writeJUnit(w io.Writer, target string, results []injector.Result) error {
	suite := junitSuite{Name: "tcpconform " + target, Timestamp: time.Now().UTC().Format(time.RFC3339)}
	var total time.Duration
	for _, r := range results {
		c := r.Case
		file, line := splitLocation(c.Location)
		jc := junitCase{Name: c.FullName(), Classname: classname(c), File: file, Line: line, Time: seconds(r.Elapsed)}
		for _, p := range []junitProperty{{"id", c.ID}, {"location", c.Location}, {"labels", strings.Join(c.Labels, " ")}, {"pcap", r.Pcap}} {
			if p.Value != "" {
				jc.Properties = append(jc.Properties, p)
			}
		}
		msg := &junitMessage{Message: firstLine(r.Message), Text: r.Message}
		switch r.Outcome {
		case injector.Failed:
			msg.Type = "nonconformance"
			jc.Failure = msg
			suite.Failures++
		case injector.Errored:
			msg.Type = "harness error"
			jc.Error = msg
			suite.Errors++
		case injector.Skipped:
			jc.Skipped = msg
			suite.Skipped++
		case injector.Deviated:
			// An expected failure passes; the report keeps why.
			jc.SystemOut = r.Message
		}
		suite.Cases = append(suite.Cases, jc)
		total += r.Elapsed
	}
	suite.Tests, suite.Time = len(results), seconds(total)
	doc := junitSuites{Name: "tcpconform", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	return enc.Encode(doc)
}

// classname groups cases the way reporters show them: by the state or
// behaviour they describe, or by their file.
func classname(c *injector.Case) string {
	if c.Group != "" {
		return "tcpconform." + c.Group
	}
	file, _ := splitLocation(c.Location)
	return "tcpconform." + strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
}

// splitLocation splits "suites/x.go:12" into its file and line.
func splitLocation(loc string) (string, int) {
	i := strings.LastIndexByte(loc, ':')
	if i < 0 {
		return loc, 0
	}
	n, err := strconv.Atoi(loc[i+1:])
	if err != nil {
		return loc, 0
	}
	return loc[:i], n
}

// jsonReport is the JSON report: the run, its counts, and every case.
type jsonReport struct {
	Target  string         `json:"target"`
	Time    string         `json:"time"`
	Summary map[string]int `json:"summary"`
	Cases   []jsonCase     `json:"cases"`
}

type jsonCase struct {
	Name      string   `json:"name"`
	ID        string   `json:"id,omitempty"`
	Family    string   `json:"family"`
	Location  string   `json:"location"`
	Labels    []string `json:"labels"`
	Outcome   string   `json:"outcome"`
	Message   string   `json:"message,omitempty"`
	ElapsedMS float64  `json:"elapsed_ms"`
	Pcap      string   `json:"pcap,omitempty"`
	Packets   int      `json:"packets"`
	// FirstFailure is the message of a first run that failed, when the
	// case was run again alone (run -confirm).
	FirstFailure string `json:"first_failure,omitempty"`
}

func writeJSON(w io.Writer, target string, results []injector.Result) error {
	rep := jsonReport{Target: target, Time: time.Now().UTC().Format(time.RFC3339), Summary: map[string]int{}, Cases: []jsonCase{}}
	for _, r := range results {
		c := r.Case
		rep.Summary[r.Outcome.String()]++
		rep.Cases = append(rep.Cases, jsonCase{
			Name: c.FullName(), ID: c.ID, Family: c.Family.String(), Location: c.Location, Labels: c.Labels,
			Outcome: r.Outcome.String(), Message: r.Message, ElapsedMS: float64(r.Elapsed.Microseconds()) / 1000,
			Pcap: r.Pcap, Packets: len(r.Packets), FirstFailure: r.FirstFailure,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// baseline is a project's record of the cases its stack is known to fail
// on one target, each with why: a run matching it passes the gate.
type baseline struct {
	path, target string
	failing      map[string]string // case name -> reason
}

// Baseline files are text: comment lines start with '#'; every other line
// is a case's full name, a tab, and the reason.
const baselineHeader = "# tcpconform baseline for target %s: the cases this stack is known to fail,\n# one per line: the case's name, a tab, the reason. Written by -write-baseline;\n# edit the reasons, keep the names.\n"

func readBaseline(path, target string) (*baseline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-baseline: %w", err)
	}
	defer f.Close()
	b := &baseline{path: path, target: target, failing: map[string]string{}}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			if t, ok := strings.CutPrefix(line, "# tcpconform baseline for target "); ok {
				if name, _, _ := strings.Cut(t, ":"); name != target {
					return nil, fmt.Errorf("%s:%d: a baseline for target %s, not %s", path, n, name, target)
				}
			}
			continue
		}
		name, reason, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("%s:%d: want a case name, a tab and a reason", path, n)
		}
		b.failing[name] = strings.TrimSpace(reason)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// writeBaseline records the run's failures (not its skips, known
// deviations or harness errors) with their first message line as reason.
func writeBaseline(w io.Writer, target string, results []injector.Result) error {
	fmt.Fprintf(w, baselineHeader, target)
	var lines []string
	for _, r := range results {
		if r.Outcome == injector.Failed {
			lines = append(lines, r.Case.FullName()+"\t"+firstLine(r.Message))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// judge compares the run with the baseline, prints what differs, and
// reports whether the gate fails: a failure the baseline does not name, or
// a case it names that passed (the baseline is then out of date). Cases of
// the baseline that did not run (-run) are not judged.
func (b *baseline) judge(w io.Writer, results []injector.Result) bool {
	var news, passes []string
	matched := 0
	for _, r := range results {
		name := r.Case.FullName()
		_, listed := b.failing[name]
		switch {
		case r.Outcome == injector.Failed && listed:
			matched++
		case r.Outcome == injector.Failed:
			news = append(news, name)
		case listed && (r.Outcome == injector.Passed || r.Outcome == injector.Deviated):
			passes = append(passes, name)
		}
	}
	for _, n := range news {
		fmt.Fprintf(w, "NEW FAILURE  %s (not in baseline %s)\n", n, b.path)
	}
	for _, n := range passes {
		fmt.Fprintf(w, "UNEXPECTED PASS  %s (baseline %s says: %s): update the baseline\n", n, b.path, b.failing[n])
	}
	fmt.Fprintf(w, "baseline %s: %d expected failures seen, %d new failures, %d unexpected passes\n", b.path, matched, len(news), len(passes))
	return len(news) > 0 || len(passes) > 0
}
