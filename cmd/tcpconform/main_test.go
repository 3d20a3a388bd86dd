package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func runMain(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunPrintsOneLinePerCaseAndASummary(t *testing.T) {
	code, out, errs := runMain("run", "-pcap", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	m := regexp.MustCompile(`^(\d+) passed, 0 failed, 0 skipped$`).FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q", last)
	}
	if m[1] != strconv.Itoa(len(lines)-1) || len(lines)-1 < 8 {
		t.Errorf("%s passed but %d case lines", m[1], len(lines)-1)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "PASS  ") {
			t.Errorf("case line %q", l)
		}
	}
}

func TestRunSelectsByLabel(t *testing.T) {
	code, out, _ := runMain("run", "-run", "T031")
	if code != 0 || !strings.HasSuffix(out, "2 passed, 0 failed, 0 skipped\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"run", "-target", "nosuch"},
		{"run", "-run", "("},
		{"run", "-run", "no case is called this"},
		{"run", "extra"},
		{"run", "-bogus"},
		{"targets", "x"},
	} {
		code, _, errs := runMain(args...)
		if code != 2 || errs == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, errs)
		}
	}
	_, _, errs := runMain("run", "-target", "nosuch")
	if !strings.Contains(errs, `unknown target "nosuch" (known: [netstack])`) {
		t.Errorf("unknown target message: %q", errs)
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"run", "-h"}, {"list", "-h"}, {"targets", "-h"}} {
		if code, _, _ := runMain(args...); code != 0 {
			t.Errorf("%q: exit %d, want 0", args, code)
		}
	}
}

func TestTargets(t *testing.T) {
	code, out, _ := runMain("targets")
	if code != 0 || !strings.Contains(out, "netstack   available") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = runMain("list", "-run", "passive open")
	if code != 0 || !strings.Contains(out, "passive open: LISTEN to SYN-RECEIVED to ESTABLISHED [IPv4]\n    suites/passive_open.go:") {
		t.Errorf("list: exit %d:\n%s", code, out)
	}
}
