package main

import (
	"regexp"
	"strings"
	"testing"
)

// coverage maps every transition onto specs, shows verdicts, and ends with
// the summary line.
func TestCoverage(t *testing.T) {
	code, out, errs := runMain("coverage", "-target", "netstack")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if code != 0 || !regexp.MustCompile(`^transitions: 110/110 covered, requirements: \d+/119 covered$`).MatchString(last) {
		t.Fatalf("exit %d, last line %q\n%s", code, last, errs)
	}
	for _, want := range []string{
		"T043  SYN-SENT  SEGMENT ARRIVES: RST set with acceptable ACK (SND.UNA < SEG.ACK =< SND.NXT) [base]",
		"      PASS  T043 SYN-SENT: RST with an acceptable ACK resets the connection: CLOSED, ECONNREFUSED [IPv4]",
		"      XFAIL T047 SYN-SENT: SYN,ACK,FIN: the FIN is acknowledged, CLOSE-WAIT [IPv6]",
		"MUST-3   ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if code, _, _ := runMain("coverage", "-target", "nosuch"); code != 2 {
		t.Errorf("unknown target: exit %d", code)
	}
}

// matrix prints one column per target, one row per group and a total.
func TestMatrix(t *testing.T) {
	code, out, errs := runMain("matrix", "-targets", "netstack")
	if code != 0 || !strings.HasPrefix(out, "| cases | netstack |\n|---|---|\n") ||
		!regexp.MustCompile(`\n\| SYN-SENT \| \d+ / 0 / \d+ / \d+ / 0 \|\n`).MatchString(out) ||
		!regexp.MustCompile(`\n\| total \| \d+ / 0 / \d+ / \d+ / 0 \|\n`).MatchString(out) {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, _ := runMain("matrix", "-targets", "nosuch"); code != 2 {
		t.Errorf("unknown target: exit %d", code)
	}
}
