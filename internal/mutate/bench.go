package mutate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Verdict is what became of a mutant.
type Verdict int

const (
	// Killed: the suite failed at least one case.
	Killed Verdict = iota
	// Survived: the suite passed as it does on the unmutated module.
	Survived
	// Errored: the mutant did not build, or the run ended without a
	// verdict (a harness error, a crash, the time limit).
	Errored
)

func (v Verdict) String() string {
	return [...]string{"KILLED", "SURVIVED", "ERROR"}[v]
}

// Result is one mutant's outcome.
type Result struct {
	Mutant  *Mutant
	Verdict Verdict
	// Failed are the names of the cases that failed, in the run's order.
	Failed []string
	// Message says why a mutant errored.
	Message string
	Elapsed time.Duration
}

// Counted reports whether the result counts towards the score: a mutant
// argued unobservable does not.
func (r Result) Counted() bool { return r.Mutant == nil || r.Mutant.Unobservable == "" }

// Options tune a benchmark run.
type Options struct {
	// Parallel is how many mutants are built and run at once (at least 1).
	Parallel int
	// RunTimeout bounds one suite run; CaseTimeout one case in it.
	RunTimeout, CaseTimeout time.Duration
	// Args are more arguments for `tcpconform run` (after the target).
	Args []string
}

func (o Options) withDefaults() Options {
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	if o.RunTimeout == 0 {
		o.RunTimeout = 5 * time.Minute
	}
	if o.CaseTimeout == 0 {
		o.CaseTimeout = 10 * time.Second
	}
	return o
}

// Baseline builds and runs the unmutated module: the suite must pass on it,
// or no mutant's verdict means anything.
func (w *Workspace) Baseline(ctx context.Context, o Options) error {
	r := w.judge(ctx, nil, o.withDefaults())
	switch {
	case r.Verdict == Killed:
		return fmt.Errorf("the suite fails on the unmutated module %s@%s: %s", Target, w.Version, strings.Join(r.Failed, "; "))
	case r.Verdict == Errored:
		return fmt.Errorf("the unmutated module %s@%s: %s", Target, w.Version, r.Message)
	}
	return nil
}

// Run judges each mutant, Parallel at a time, calling done with each
// result as it comes; it returns the results in the mutants' order.
func (w *Workspace) Run(ctx context.Context, mutants []*Mutant, o Options, done func(Result)) []Result {
	o = o.withDefaults()
	results := make([]Result, len(mutants))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range o.Parallel {
		wg.Go(func() {
			for i := range next {
				r := w.judge(ctx, mutants[i], o)
				results[i] = r
				if done != nil {
					mu.Lock()
					done(r)
					mu.Unlock()
				}
			}
		})
	}
	for i := range mutants {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	return results
}

// judge builds the module with m applied and runs the built-in suite on
// the netstack target with it.
func (w *Workspace) judge(ctx context.Context, m *Mutant, o Options) (r Result) {
	begin := time.Now()
	r = Result{Mutant: m, Verdict: Errored}
	defer func() { r.Elapsed = time.Since(begin) }()
	bin, err := w.Build(ctx, m)
	if err != nil {
		r.Message = "build: " + err.Error()
		return r
	}
	defer os.Remove(bin)
	dir, err := os.MkdirTemp(w.dir, "run-")
	if err != nil {
		r.Message = err.Error()
		return r
	}
	defer os.RemoveAll(dir)
	report := filepath.Join(dir, "report.json")
	rctx, cancel := context.WithTimeout(ctx, o.RunTimeout)
	defer cancel()
	args := append([]string{"run", "-target", "netstack", "-json", report,
		"-pcap-dir", filepath.Join(dir, "pcap"), "-timeout", o.CaseTimeout.String()}, o.Args...)
	cmd := exec.CommandContext(rctx, bin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case rctx.Err() != nil:
		r.Message = fmt.Sprintf("the suite's run did not end within %v", o.RunTimeout)
		return r
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		r.Message = err.Error()
		return r
	}
	failed, errored, rerr := readReport(report)
	switch {
	case code == 0 && rerr == nil:
		r.Verdict = Survived
	case len(failed) > 0:
		r.Verdict, r.Failed = Killed, failed
	case rerr != nil:
		r.Message = fmt.Sprintf("exit status %d, no report (%v): %s", code, rerr, tail(stderr.String(), 10))
	case len(errored) > 0:
		r.Message = fmt.Sprintf("exit status %d: harness errors in %s", code, strings.Join(errored, "; "))
	default:
		r.Message = fmt.Sprintf("exit status %d: %s", code, tail(stderr.String(), 10))
	}
	return r
}

// readReport returns the failed and the errored cases of a JSON report.
func readReport(file string) (failed, errored []string, err error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	var rep struct {
		Cases []struct{ Name, Outcome string }
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, nil, err
	}
	for _, c := range rep.Cases {
		switch c.Outcome {
		case "FAIL":
			failed = append(failed, c.Name)
		case "ERROR":
			errored = append(errored, c.Name)
		}
	}
	return failed, errored, nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Score counts the killed mutants among those that count.
func Score(results []Result) (killed, counted int) {
	for _, r := range results {
		if !r.Counted() {
			continue
		}
		counted++
		if r.Verdict == Killed {
			killed++
		}
	}
	return killed, counted
}
