package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/targets"
)

func runMain(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunPrintsOneLinePerCaseAndASummary(t *testing.T) {
	code, out, errs := runMain("run", "-pcap-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	m := regexp.MustCompile(`^(\d+) passed, 0 failed, (\d+) skipped(?:, (\d+) known deviations)?$`).FindStringSubmatch(last)
	if m == nil {
		t.Fatalf("last line %q", last)
	}
	var cases int
	for _, l := range lines[:len(lines)-1] {
		if strings.HasPrefix(l, " ") {
			continue // a skip's or a known deviation's reason
		}
		cases++
		if !regexp.MustCompile(`^(PASS |SKIP |XFAIL) `).MatchString(l) {
			t.Errorf("case line %q", l)
		}
	}
	passed, _ := strconv.Atoi(m[1])
	skipped, _ := strconv.Atoi(m[2])
	known, _ := strconv.Atoi(m[3])
	if passed+skipped+known != cases || passed < 8 {
		t.Errorf("summary %q but %d case lines", last, cases)
	}
	if !strings.Contains(out, "PASS  passive open: LISTEN to SYN-RECEIVED to ESTABLISHED [IPv4]") {
		t.Errorf("no passive open case:\n%s", out)
	}
}

func TestRunSelectsByLabel(t *testing.T) {
	code, out, _ := runMain("run", "-run", "T031")
	if code != 0 || !strings.Contains(out, " passed, 0 failed, ") || !strings.Contains(out, "suites/scripts/rst-closed-port.pkt [IPv6]") ||
		strings.Contains(out, "T030") {
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
	var known []string
	for _, t := range targets.All() {
		known = append(known, t.Name())
	}
	if len(known) < 4 || !strings.Contains(errs, `unknown target "nosuch" (known: [`+strings.Join(known, " ")+`])`) {
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

const rstScript = `// labels: T031
0 < 40000>9 S 0:0(0) win 1000
+0 > 9>40000 R. 0:0(0) ack %d win 0
`

func TestRunScripts(t *testing.T) {
	dir := writeScripts(t, map[string]string{
		"a-good.pkt":  fmt.Sprintf(rstScript, 1),
		"b-wrong.pkt": fmt.Sprintf(rstScript, 2),
		"c-bad.pkt":   "0 < S 0:0(0)\n+0 frobnicate(3) = 0\n",
	})
	code, out, errs := runMain("run", "-ip", "4", "-parallel", "2", "-pcap-dir", t.TempDir(), dir)
	if code != 2 {
		t.Errorf("exit %d, want 2 (a script did not parse)", code)
	}
	for _, want := range []string{
		"PASS  " + dir + "/a-good.pkt [IPv4]",
		"FAIL  " + dir + "/b-wrong.pkt [IPv4]",
		dir + "/b-wrong.pkt:3: outbound packet does not match",
		"fields    ack: want 2 got 1",
		"1 passed, 1 failed, 0 skipped, some scripts did not parse\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{
		dir + `/c-bad.pkt:1:3: inbound TCP packet needs a window ("win N")`,
		dir + `/c-bad.pkt:2:4: unknown system call "frobnicate"`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}

	code, out, _ = runMain("run", "-v", "-ip", "6", filepath.Join(dir, "a-good.pkt"))
	if code != 0 || !strings.Contains(out, "< +0.000000 2001:db8::2.40000 > 2001:db8::1.9: Flags [S]") {
		t.Errorf("verbose IPv6 run: exit %d\n%s", code, out)
	}
	if code, _, errs := runMain("run", "-ip", "5", dir); code != 2 || !strings.Contains(errs, `unknown IP version "5"`) {
		t.Errorf("-ip 5: exit %d, %s", code, errs)
	}
}

// The built-in cases and scripts hold on the Linux kernel too (where the
// target can run): each difference would be a kernel behaviour to declare.
func TestBuiltinOnLinux(t *testing.T) {
	tgt, err := targets.Lookup("linux")
	if err != nil {
		t.Fatal(err)
	}
	if err := tgt.Available(); err != nil {
		t.Skipf("linux target unavailable: %v", err)
	}
	// The kernel runs on the real clock, beside whatever else the machine
	// does: run runs a case that failed once more, alone (-confirm), and
	// a behaviour of the kernel fails twice.
	code, out, errs := runMain("run", "-target", "linux", "-parallel", "2", "-pcap-dir", t.TempDir())
	if code != 0 || !strings.Contains(out, " passed, 0 failed, ") {
		t.Errorf("exit %d\n%s\n%s", code, out, errs)
	}
}

// failedCases returns the full names of the cases a run reported as FAIL.
func failedCases(out string) []string {
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(line, "FAIL  "); ok {
			if i := strings.LastIndex(name, " ("); i > 0 {
				name = name[:i]
			}
			names = append(names, name)
		}
	}
	return names
}

// exactly is a -run pattern matching just these full names.
func exactly(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	return "^(" + strings.Join(quoted, "|") + ")$"
}

const inqScript = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 10) = 0
+0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <...>
+0 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
+0 setsockopt(4, SOL_TCP, TCP_INQ, [1], 4) = 0
+0 < P. 1:3001(3000) ack 1 win 257
+0~+0.2 > . 1:1(0) ack 3001
+0 recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 1000}], msg_flags=0,
               msg_control=[{cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=%d}]}, 0) = 1000
`

// recvmsg's control messages are compared: after reading 1000 of 3000
// bytes, TCP_CM_INQ says 2000 remain.
func TestRecvmsgControlMessagesOnLinux(t *testing.T) {
	goodAndWrongOnLinux(t, fmt.Sprintf(inqScript, 2000), fmt.Sprintf(inqScript, 1999),
		"control message 0 data d0070000, the script expects cf070000")
}

// goodAndWrongOnLinux runs a script that must pass and a variant that must
// fail on the Linux target, over IPv4, and looks for why in the output.
func goodAndWrongOnLinux(t *testing.T, good, wrong, why string) {
	t.Helper()
	needLinux(t)
	dir := writeScripts(t, map[string]string{"good.pkt": good, "wrong.pkt": wrong})
	code, out, errs := runMain("run", "-target", "linux", "-ip", "4", "-pcap-dir", t.TempDir(), dir)
	for _, want := range []string{"PASS  " + dir + "/good.pkt [IPv4]", "FAIL  " + dir + "/wrong.pkt [IPv4]", why} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q: exit %d\n%s\n%s", want, code, out, errs)
		}
	}
}

// needLinux skips a test, with the reason, where the Linux target cannot run.
func needLinux(t *testing.T) {
	t.Helper()
	tgt, err := targets.Lookup("linux")
	if err != nil {
		t.Fatal(err)
	}
	if err := tgt.Available(); err != nil {
		t.Skipf("linux target unavailable: %v", err)
	}
}

// fastOpenScript asks for a cookie from addresses other than the harness's
// (so the written cookie is the one Linux made for those), then opens a
// connection with data on the SYN using TFO_COOKIE, left undefined.
const fastOpenScript = `--local_ip=192.168.0.2
--remote_ip=10.248.0.2
` + "`echo 0x30403 > /proc/sys/net/ipv4/tcp_fastopen; echo a0bf63f7-ed803d81-cd641d30-cebc4a90 > /proc/sys/net/ipv4/tcp_fastopen_key`" + `
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 10) = 0
+0 < S 0:0(0) win 10000 <mss 1012,FOEXP,sackOK,TS val 1 ecr 0,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 10000 ecr 1,nop,wscale 7,FOEXP %s>
+0 < R 1:1(0) win 0
+0 close(3) = 0
+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 10) = 0
+0 < S 5000:5100(100) win 10000 <mss 1012,FOEXP TFO_COOKIE,sackOK,TS val 1 ecr 0,nop,wscale 7>
+0 > S. 0:0(0) ack 5101 <mss 1460,sackOK,TS val 10000 ecr 1,nop,wscale 7>
`

// Fast Open cookies a script spells out for other addresses are carried
// over to the harness's, and TFO_COOKIE is the live one; a cookie the kernel
// would not have made for the script's addresses still fails.
func TestFastOpenCookiesOnLinux(t *testing.T) {
	goodAndWrongOnLinux(t, fmt.Sprintf(fastOpenScript, "00abaaabe8e954c2"), fmt.Sprintf(fastOpenScript, "00abaaabe8e954c3"),
		"wrong.pkt:8: outbound packet does not match")
}

// The re-run of failed cases selects exactly those cases.
func TestRerunSelectsExactlyTheFailedCases(t *testing.T) {
	out := "PASS  a [IPv4] (1ms)\nFAIL  T043 SYN-SENT: RST with an acceptable ACK resets the connection: CLOSED, ECONNREFUSED [IPv6] (2ms)\n      why\n1 passed, 1 failed, 0 skipped\n"
	failed := failedCases(out)
	if len(failed) != 1 {
		t.Fatalf("failedCases = %q", failed)
	}
	code, got, _ := runMain("run", "-pcap-dir", t.TempDir(), "-run", exactly(failed))
	if code != 0 || !strings.HasSuffix(got, "1 passed, 0 failed, 0 skipped\n") || !strings.Contains(got, failed[0]) {
		t.Errorf("exit %d\n%s", code, got)
	}
}

// A case that fails is run again alone after the others; a failure that
// does not repeat becomes the second run's verdict and keeps the first
// message, and one that repeats stays a failure.
func TestFailuresAreConfirmedAlone(t *testing.T) {
	tgt, err := targets.Lookup("netstack")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex // cases run two at a time
	runs := map[string]int{}
	mk := func(name string, failures int) *injector.Case {
		return &injector.Case{Name: name, Location: "x.go:1", Run: func(t *injector.T) {
			mu.Lock()
			runs[name]++
			n := runs[name]
			mu.Unlock()
			if n <= failures {
				t.FailAt("x.go:2", "late by 6 ms")
			}
		}}
	}
	cases := []*injector.Case{mk("flaky", 1), mk("broken", 2), mk("fine", 0)}
	var got []string
	for r := range confirmAlone(context.Background(), tgt, runAll(context.Background(), tgt, cases, injector.RunOptions{}, 2), injector.RunOptions{}) {
		got = append(got, fmt.Sprintf("%s %v %q", r.Case.Name, r.Outcome, r.FirstFailure))
	}
	want := []string{`fine PASS ""`, `flaky PASS "x.go:2: late by 6 ms"`, `broken FAIL ""`}
	if !slices.Equal(got, want) {
		t.Errorf("results %q, want %q", got, want)
	}
	if runs["flaky"] != 2 || runs["broken"] != 2 || runs["fine"] != 1 {
		t.Errorf("runs %v", runs)
	}
}
