package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// One run writes JUnit that parses, with one testcase per case, the
// failure's text and the case's file, and its pcap as a property; and a JSON
// report with the same cases.
func TestJUnitAndJSON(t *testing.T) {
	dir := writeScripts(t, map[string]string{
		"a-good.pkt":  fmt.Sprintf(rstScript, 1),
		"b-wrong.pkt": fmt.Sprintf(rstScript, 2),
	})
	out := t.TempDir()
	junit, js := filepath.Join(out, "r", "junit.xml"), filepath.Join(out, "r.json")
	code, stdout, errs := runMain("run", "-ip", "4", "-pcap-dir", filepath.Join(out, "pcap"), "-junit", junit, "-json", js, dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, errs)
	}
	var doc junitSuites
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, b)
	}
	if len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 2 || doc.Tests != 2 || doc.Failures != 1 {
		t.Fatalf("JUnit: %+v", doc)
	}
	var failing *junitCase
	for i, c := range doc.Suites[0].Cases {
		if c.Failure != nil {
			failing = &doc.Suites[0].Cases[i]
		}
	}
	if failing == nil || failing.Name != dir+"/b-wrong.pkt [IPv4]" || failing.File != dir+"/b-wrong.pkt" ||
		!strings.Contains(failing.Failure.Message, "b-wrong.pkt:3: outbound packet does not match") ||
		!strings.Contains(failing.Failure.Text, "fields    ack: want 2 got 1") {
		t.Fatalf("failing testcase: %+v", failing)
	}
	var pcap string
	for _, p := range failing.Properties {
		if p.Name == "pcap" {
			pcap = p.Value
		}
	}
	if st, err := os.Stat(pcap); err != nil || st.Size() == 0 {
		t.Errorf("pcap property %q: %v", pcap, err)
	}

	var rep jsonReport
	b, err = os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("JSON does not parse: %v", err)
	}
	if rep.Target != "netstack" || len(rep.Cases) != 2 || rep.Summary["PASS"] != 1 || rep.Summary["FAIL"] != 1 ||
		rep.Cases[1].Outcome != "FAIL" || rep.Cases[1].Pcap != pcap || rep.Cases[1].Packets == 0 {
		t.Errorf("JSON report: %+v", rep)
	}
}

// Baselines gate a run: without one a known failure exits 1; with the
// baseline written from that run it exits 0; a case the baseline lists that
// passes exits 1; a baseline for another target is refused.
func TestBaselineGating(t *testing.T) {
	dir := writeScripts(t, map[string]string{
		"a-good.pkt":  fmt.Sprintf(rstScript, 1),
		"b-wrong.pkt": fmt.Sprintf(rstScript, 2),
	})
	base := filepath.Join(t.TempDir(), "netstack.txt")
	pcaps := t.TempDir()
	if code, out, _ := runMain("run", "-ip", "4", "-pcap-dir", pcaps, "-write-baseline", base, dir); code != 1 {
		t.Fatalf("without a baseline: exit %d, want 1\n%s", code, out)
	}
	text, err := os.ReadFile(base)
	if err != nil || !strings.Contains(string(text), dir+"/b-wrong.pkt [IPv4]\t"+dir+"/b-wrong.pkt:3: outbound packet does not match") ||
		strings.Contains(string(text), "a-good") {
		t.Fatalf("baseline %v:\n%s", err, text)
	}
	code, out, _ := runMain("run", "-ip", "4", "-pcap-dir", pcaps, "-baseline", base, dir)
	if code != 0 || !strings.Contains(out, "1 expected failures seen, 0 new failures, 0 unexpected passes") {
		t.Errorf("matching the baseline: exit %d\n%s", code, out)
	}
	stale := string(text) + dir + "/a-good.pkt [IPv4]\tsaid to fail\n"
	if err := os.WriteFile(base, []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runMain("run", "-ip", "4", "-pcap-dir", pcaps, "-baseline", base, dir)
	if code != 1 || !strings.Contains(out, "UNEXPECTED PASS  "+dir+"/a-good.pkt [IPv4]") {
		t.Errorf("an unexpected pass: exit %d\n%s", code, out)
	}
	if err := os.WriteFile(base, []byte("# tcpconform baseline for target linux: ...\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runMain("run", "-ip", "4", "-baseline", base, dir); code != 2 || !strings.Contains(errs, "a baseline for target linux, not netstack") {
		t.Errorf("another target's baseline: exit %d, %s", code, errs)
	}
	if code, _, errs := runMain("run", "-pcap", "sometimes", dir); code != 2 || !strings.Contains(errs, `-pcap "sometimes": want failed or all`) {
		t.Errorf("-pcap sometimes: exit %d, %s", code, errs)
	}
}

// Off a terminal the progress counter writes nothing: CI logs keep plain
// case lines.
func TestProgressIsQuietOffATerminal(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b, 3)
	p.show(nil)
	p.clear()
	if b.Len() != 0 {
		t.Errorf("progress wrote %q", b.String())
	}
}

// On a terminal (script(1) gives the run one) a live counter is redrawn
// under the case lines and erased at the end.
func TestProgressOnATerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) is not installed (util-linux): no way to give the run a terminal")
	}
	bin := filepath.Join(t.TempDir(), "tcpconform")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := bin + " run -pcap-dir " + t.TempDir() + " -run 'T04[3-4] '"
	out, err := exec.Command(script, "-qec", cmd, "/dev/null").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "\r\x1b[K[1/") || !strings.Contains(s, "passed, 0 failed, 0 skipped, 0 known deviations, 0 errors") ||
		!strings.Contains(s, "\r\x1b[K6 passed, 0 failed, 0 skipped") {
		t.Errorf("no live counter:\n%q", s)
	}
}
