package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/lwip"
)

// verdictLine is a case line of run's output: the verdict, then the name.
var verdictLine = regexp.MustCompile(`^(PASS|FAIL|SKIP|XFAIL|ERROR) +(.+) \([^()]*\)$`)

// verdicts returns run's verdict of each case, by name.
func verdicts(t *testing.T, out string) map[string]string {
	v := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if m := verdictLine.FindStringSubmatch(l); m != nil {
			v[m[2]] = m[1]
		}
	}
	if len(v) == 0 {
		t.Fatalf("no verdicts in:\n%s", out)
	}
	return v
}

// The lwIP agent started by -target agent, with a profile file equal to
// lwip's built-in profile, gets the verdicts of -target lwip: the same
// code starts it, and it announces the same capabilities.
func TestAgentCommandGivesTheVerdictsOfLwip(t *testing.T) {
	lw, err := targets.Lookup("lwip")
	if err != nil {
		t.Fatal(err)
	}
	if err := lw.Available(); err != nil {
		t.Skipf("lwip target: %v", err)
	}
	cmd, err := lwip.Target{}.Command()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	profile := filepath.Join(dir, "lwip.yaml")
	if err := os.WriteFile(profile, expectations.FormatProfile(expectations.ProfileFor("lwip")), 0o644); err != nil {
		t.Fatal(err)
	}
	// Scripts, and specs of states only an agent with "syn-received" can
	// show, with known deviations among them.
	const subset = `suites/scripts/(rst|close)|^passive open|T03[4-6]|T058|T066`
	run := func(args ...string) map[string]string {
		args = append([]string{"run", "-pcap-dir", dir, "-parallel", "2", "-run", subset}, args...)
		code, out, errs := runMain(args...)
		if code == exitError {
			t.Fatalf("%q: exit %d\n%s\n%s", args, code, out, errs)
		}
		return verdicts(t, out)
	}
	want := run("-target", "lwip")
	got := run("-target", "agent", "-agent-cmd", cmd.String(), "-profile", profile)
	counts := map[string]int{}
	for name, v := range want {
		counts[v]++
		if got[name] != v {
			t.Errorf("%s: -target lwip %s, -target agent %q", name, v, got[name])
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: run on -target agent only", name)
		}
	}
	if counts["XFAIL"] == 0 || counts["PASS"] == 0 {
		t.Errorf("the subset should hold passes and known deviations: %v", counts)
	}
	t.Logf("%d cases: %v", len(want), counts)
}

func TestAgentTargetUsage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("target: x\nvariants: [base, rfc9999]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	typo := filepath.Join(t.TempDir(), "typo.yaml")
	if err := os.WriteFile(typo, []byte("known:\n  T036.LISTEN: {reason: fine, fails: flags}\n  T036.LISTN [IPv4]: {reason: misspelt, fails: flags}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-target", "agent"}, "target agent needs -agent-cmd"},
		{[]string{"-target", "agent", "-agent-cmd", "prog 'x"}, "-agent-cmd: unterminated single quote"},
		{[]string{"-target", "agent", "-agent-cmd", "true {adr4}"}, "unknown placeholder {adr4}"},
		{[]string{"-target", "agent", "-agent-cmd", "true", "-device-ip4", "10.0.0.1/24", "-harness-ip4", "10.0.1.1"}, "-device-ip4, -harness-ip4: the peer 10.0.1.1 is not in the stack's 10.0.0.0/24"},
		{[]string{"-target", "agent", "-agent-cmd", "/nonexistent/agent"}, "cannot run here"},
		{[]string{"-target", "netstack", "-agent-cmd", "true"}, "target netstack takes no options"},
		{[]string{"-target", "netstack", "-profile", bad}, bad + ":2: variants: unknown variant \"rfc9999\""},
		{[]string{"-target", "netstack", "-profile", bad + ".none"}, "-profile: open "},
		{[]string{"-target", "netstack", "-profile", typo}, typo + ":3: known: no case has the ID \"T036.LISTN\""},
	} {
		code, _, errs := runMain(append([]string{"run", "-run", "T036"}, tc.args...)...)
		if code != exitError || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

// A profile file overrides a built-in target's profile: declared there, a
// case netstack passes is a stale deviation, which fails the run.
func TestProfileOverridesBuiltin(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(p, []byte("target: mine\nknown:\n  T036.LISTEN:\n    reason: declared to see the declaration go stale\n    fails: flags\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runMain("run", "-pcap-dir", dir, "-target", "netstack", "-run", "T036", "-profile", p)
	if code != exitNonconformance || !strings.Contains(out, "the mine profile declares T036.LISTEN a known deviation") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestTargetsShowsAgentCommand(t *testing.T) {
	if err := (lwip.Target{}).Available(); err != nil {
		t.Skipf("lwip target: %v", err)
	}
	code, out, _ := runMain("targets", "-v")
	if code != 0 || !regexp.MustCompile(`(?m)^ +agent command: \S*lwip_agent-[0-9a-f]+ \{addr4\} \{prefix4\} \{addr6\} \{seed\}$`).MatchString(out) {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestProfileCommandPrintsAReadableProfile(t *testing.T) {
	code, out, _ := runMain("profile", "lwip")
	p, err := expectations.ParseProfile("stdout", []byte(out), "x", nil)
	if code != 0 || err != nil || !reflect.DeepEqual(p, expectations.ProfileFor("lwip")) {
		t.Errorf("exit %d, %v\n%s", code, err, out)
	}
	if code, _, errs := runMain("profile", "nosuch"); code != exitError || !strings.Contains(errs, "unknown target") {
		t.Errorf("profile nosuch: exit %d, %q", code, errs)
	}
}
