package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/targets/agent"
)

// byosDoc is the guide this test follows.
const byosDoc = "../../docs/bring-your-own-stack.md"

// fenced returns the text of every block of the markdown fenced with
// ```lang, in order.
func fenced(t *testing.T, md, lang string) []string {
	var out []string
	for _, m := range regexp.MustCompile("(?ms)^```"+lang+"\n(.*?)^```$").FindAllStringSubmatch(md, -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatalf("%s has no ```%s block", byosDoc, lang)
	}
	return out
}

// indentedLine returns the first line of the markdown's indented code
// blocks that starts with prefix, unindented.
func indentedLine(t *testing.T, md, prefix string) string {
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "    "+prefix) {
			return strings.TrimSpace(strings.TrimSuffix(l, `\`))
		}
	}
	t.Fatalf("%s has no indented line starting %q", byosDoc, prefix)
	return ""
}

// The guide's C agent, compiled as the guide says, runs under -target agent
// with the command line and the profile file the guide shows, and the
// Linux kernel behind it passes cases it passes as -target linux.
func TestBringYourOwnStackGuide(t *testing.T) {
	b, err := os.ReadFile(byosDoc)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	src := fenced(t, md, "c")[0]
	profile := fenced(t, md, "yaml")[0]
	build := indentedLine(t, md, "cc ")
	run := indentedLine(t, md, "tcpconform run -target agent -agent-cmd ")
	if _, err := expectations.ParseProfile("guide.yaml", []byte(profile), "agent", builtinCaseIDs(t)); err != nil {
		t.Errorf("the guide's profile: %v", err)
	}
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler (cc) to build the guide's agent")
	}
	if os.Geteuid() != 0 {
		t.Skip("the guide's agent needs root, for its network namespace and TUN device")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("the guide's agent needs a TUN device: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kagent.c"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kagent.yaml"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	cc := exec.Command("sh", "-c", build)
	cc.Dir = dir
	if out, err := cc.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	// The run line as the guide gives it, with the profile, in the agent's
	// directory (its command line says ./kagent).
	line := strings.TrimPrefix(run, "tcpconform run ")
	args, err := agent.SplitCommand(line)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	args = append([]string{"run"}, args...)
	args = append(args, "-profile", "kagent.yaml", "-pcap-dir", dir, "-run",
		`^T03[56] |^passive open|suites/scripts/(passive-open|rst-closed-port)\.pkt|rst-syn-received-passive`)
	code, out, errs := runMain(args...)
	if code == exitError {
		t.Fatalf("%q: exit %d\n%s\n%s", args, code, out, errs)
	}
	got := verdicts(t, out)
	for _, name := range []string{
		"T035 LISTEN: SYN,ACK draws <SEQ=SEG.ACK><CTL=RST>, LISTEN",
		"T036 LISTEN: SYN draws <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK>, SYN-RECEIVED",
		"passive open: LISTEN to SYN-RECEIVED to ESTABLISHED",
		"suites/scripts/passive-open.pkt",
		"suites/scripts/rst-closed-port.pkt",
		// It reads TCP_INFO: the agent announces tcpinfo.
		"suites/scripts/rst-syn-received-passive.pkt",
	} {
		for _, fam := range []string{" [IPv4]", " [IPv6]"} {
			if got[name+fam] != "PASS" {
				t.Errorf("%s: %q, want PASS\n%s", name+fam, got[name+fam], out)
			}
		}
	}
	for name, v := range got {
		if v != "PASS" {
			t.Errorf("%s: %s, want PASS", name, v)
		}
	}
}

// The guide's Go agent, built as a module of its own against this working
// tree (the guide's "go get" fetches the published module instead), runs
// under -target agent and passes cases gVisor passes as -target netstack.
func TestBringYourOwnStackGuideGo(t *testing.T) {
	b, err := os.ReadFile(byosDoc)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	src := fenced(t, md, "go")[0]
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod := "module example.com/gvagent\n\ngo 1.26\n\nrequire github.com/tcpconform/tcpconform v0.0.0\n\nreplace github.com/tcpconform/tcpconform => " + root + "\n"
	for name, text := range map[string][]byte{"main.go": []byte(src), "go.mod": []byte(mod), "go.sum": sum} {
		if err := os.WriteFile(filepath.Join(dir, name), text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command("go", "build", "-mod=mod", "-o", "gvagent", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=", "GOPROXY=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Chdir(dir)
	args := []string{"run", "-target", "agent", "-agent-cmd", "./gvagent {seed}", "-pcap-dir", dir,
		"-run", `^T035 |suites/scripts/(passive-open|rst-closed-port|retransmit-synack)\.pkt|^T036 `}
	code, out, errs := runMain(args...)
	if code == exitError {
		t.Fatalf("%q: exit %d\n%s\n%s", args, code, out, errs)
	}
	got := verdicts(t, out)
	for name, want := range map[string]string{
		"T035 LISTEN: SYN,ACK draws <SEQ=SEG.ACK><CTL=RST>, LISTEN": "PASS",
		"suites/scripts/passive-open.pkt":                           "PASS",
		"suites/scripts/rst-closed-port.pkt":                        "PASS",
		"suites/scripts/retransmit-synack.pkt":                      "PASS", // timers in real time
		// Its hello lacks syn-received.
		"T036 LISTEN: SYN draws <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK>, SYN-RECEIVED": "SKIP",
	} {
		for _, fam := range []string{" [IPv4]", " [IPv6]"} {
			if got[name+fam] != want {
				t.Errorf("%s: %q, want %s\n%s", name+fam, got[name+fam], want, out)
			}
		}
	}
}

// builtinCaseIDs is whether a built-in case has the ID.
func builtinCaseIDs(t *testing.T) func(string) bool {
	isCase, err := caseIDs(nil)
	if err != nil {
		t.Fatal(err)
	}
	return isCase
}
