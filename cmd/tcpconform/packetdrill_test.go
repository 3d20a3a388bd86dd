package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The command line is read as packetdrill's getopt_long reads it.
func TestPacketdrillArgs(t *testing.T) {
	type want struct {
		opts    []string // name=value of the engine's options, in order
		defines map[string]string
		scripts []string
		verbose bool
		dry     bool
		target  string
	}
	tests := []struct {
		args []string
		want want
	}{
		{[]string{"--ip_version=ipv6", "a.pkt"}, want{opts: []string{"ip_version=ipv6"}, scripts: []string{"a.pkt"}}},
		{[]string{"--ip_version", "ipv6", "a.pkt", "--mtu=1520"}, want{opts: []string{"ip_version=ipv6", "mtu=1520"}, scripts: []string{"a.pkt"}}},
		{[]string{"--ip=ipv4-mapped-ipv6", "a.pkt", "b.pkt"}, want{opts: []string{"ip_version=ipv4-mapped-ipv6"}, scripts: []string{"a.pkt", "b.pkt"}}},
		{[]string{"-D", "A=1", "-DB=x=y", "-vD", "C=", "--define=E=2", "a.pkt"},
			want{defines: map[string]string{"A": "1", "B": "x=y", "C": "", "E": "2"}, verbose: true, scripts: []string{"a.pkt"}}},
		{[]string{"--send_omit_free", "--dry_run", "--verbose", "--", "-x.pkt"},
			want{opts: []string{"send_omit_free"}, dry: true, verbose: true, scripts: []string{"-x.pkt"}}},
		{[]string{"--target=netstack", "--non_fatal", "packet", "a.pkt"}, want{opts: []string{"non_fatal=packet"}, target: "netstack", scripts: []string{"a.pkt"}}},
	}
	for _, tt := range tests {
		c, err := parsePacketdrillArgs(tt.args)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		var opts []string
		for _, o := range c.options {
			s := o.Name
			if o.HasValue {
				s += "=" + o.Value
			}
			opts = append(opts, s)
		}
		w := tt.want
		if w.defines == nil {
			w.defines = map[string]string{}
		}
		if w.target == "" {
			w.target = c.target // the environment's or linux
		}
		got := want{opts, c.defines, c.scripts, c.verbose, c.dry, c.target}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.args, got, w)
		}
	}
	for args, msg := range map[string]string{
		"--frob a.pkt":            "unknown option --frob",
		"--wire_server a.pkt":     "", // accepted: the script run skips on it
		"--wire_s a.pkt":          "option --wire_s is ambiguous: ",
		"a.pkt --tolerance_usecs": "option --tolerance_usecs needs a value",
		"--dry_run=1 a.pkt":       "command line: option --dry_run takes no value",
		"--mtu=big a.pkt":         `command line: option --mtu needs an integer, not "big"`,
		"-x a.pkt":                "unknown option -x",
		"-D X a.pkt":              `bad definition "X": want SYM=value`,
		"--timeout=soon a.pkt":    `--timeout="soon": want a duration such as 180s`,
	} {
		_, err := parsePacketdrillArgs(strings.Fields(args))
		switch {
		case msg == "" && err != nil:
			t.Errorf("%s: %v", args, err)
		case msg != "" && (err == nil || !strings.HasPrefix(err.Error(), msg)):
			t.Errorf("%s: error %v, want %q", args, err, msg)
		}
	}
}

// Exit codes and messages as packetdrill's, on the netstack target so that
// no privileges are needed: 0 and silence on a pass, 1 and file:line: on a
// failure, 2 on a script error, 4 on a skip.
func TestPacketdrillExitCodes(t *testing.T) {
	dir := writeScripts(t, map[string]string{
		"pass.pkt":   tsPassiveOpenScript(100),
		"fail.pkt":   tsPassiveOpenScript(1),
		"bad.pkt":    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 frob(3 = 0\n",
		"skip.pkt":   "--wire_client\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n",
		"define.pkt": "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = FD\n+0 close(FD) = 0\n",
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		args   []string
		code   int
		stderr string // a regexp
	}{
		{[]string{p("pass.pkt")}, 0, `^$`},
		{[]string{p("pass.pkt"), p("fail.pkt"), p("bad.pkt")}, 1,
			`^` + regexp.QuoteMeta(p("fail.pkt")) + `:5: outbound packet does not match\n(.*\n)*  fields    TS ecr: want 1 got 100`},
		{[]string{p("bad.pkt"), p("pass.pkt")}, 2, `^` + regexp.QuoteMeta(p("bad.pkt")) + `:2:\d+: `},
		{[]string{p("skip.pkt")}, 4, `^` + regexp.QuoteMeta(p("skip.pkt")) + `:1: option --wire_client is not supported by tcpconform\n\(skipped: target netstack cannot run this script\)\n$`},
		{[]string{"--dry_run", p("fail.pkt"), p("skip.pkt")}, 0, `^$`},
		{[]string{"--dry_run", p("bad.pkt")}, 2, `bad.pkt:2:`},
		{[]string{"-D", "FD=3", p("define.pkt")}, 0, `^$`},
		{[]string{p("define.pkt")}, 2, `define.pkt:1: harness error: result: unknown symbol FD`},
		{[]string{"--so_filename=x.so", p("pass.pkt")}, 4, `^command line: option --so_filename is not supported by tcpconform\n`},
		{[]string{}, 2, `^packetdrill: missing script path\n`},
		{[]string{"--target=nosuch", p("pass.pkt")}, 2, `^packetdrill: target nosuch: unknown target "nosuch"`},
	}
	for _, tt := range tests {
		code, _, errs := runMain(append([]string{"packetdrill", "--target=netstack"}, tt.args...)...)
		if code != tt.code || !regexp.MustCompile(tt.stderr).MatchString(errs) {
			t.Errorf("%q: exit %d, want %d; stderr:\n%s\nwant it to match %q", tt.args, code, tt.code, errs, tt.stderr)
		}
	}
}

// tsPassiveOpenScript answers a SYN that carries TS val 100 and expects the
// SYN,ACK to echo ecr.
func tsPassiveOpenScript(ecr int) string {
	return "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 10) = 0\n" +
		"+0 < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>\n" +
		"+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 500 ecr " + strconv.Itoa(ecr) + ",nop,wscale 7>\n"
}

// A runner that calls "packetdrill" from PATH runs tcpconform unchanged when
// the binary is linked under that name.
func TestBinaryNamedPacketdrill(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH, so the binary cannot be built here")
	}
	bin := t.TempDir()
	build := exec.Command(gobin, "build", "-o", filepath.Join(bin, "packetdrill"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := writeScripts(t, map[string]string{"pass.pkt": tsPassiveOpenScript(100), "fail.pkt": tsPassiveOpenScript(7)})
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("TCPCONFORM_TARGET", "netstack")
	for name, want := range map[string]int{"pass.pkt": 0, "fail.pkt": 1} {
		cmd := exec.Command("packetdrill", "--send_omit_free", "--ip_version=ipv4", name)
		cmd.Dir = dir
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != want {
			t.Errorf("packetdrill %s: exit %d, want %d\n%s", name, code, want, out)
		}
		if want == 1 && !strings.HasPrefix(string(out), "fail.pkt:5: ") {
			t.Errorf("packetdrill fail.pkt: output does not start at the script's line:\n%s", out)
		}
	}
}

// blockingConnect's connect blocks over the handshake that follows it and
// must return at +0, before the write and the close run (packetdrill's
// rule); before calls waited for it, the close raced the connect and about
// half the runs failed with EBADF.
const blockingConnect = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4
+0...0 connect(4, ..., ...) = 0
+0 > S 0:0(0) <...>
+0 < S. 0:0(0) ack 1 win 32792 <mss 1000>
+0 > . 1:1(0) ack 1
+0 write(4, ..., 100) = 100
+0 > P. 1:101(100) ack 1
+0 close(4) = 0
+0 > F. 101:101(0) ack 1
`

// Fifty runs of a script with a blocking call give one verdict, on every
// target that runs here.
func TestBlockingCallVerdictIsStable(t *testing.T) {
	dir := writeScripts(t, map[string]string{"c.pkt": blockingConnect})
	for _, target := range []string{"netstack", "linux"} {
		t.Run(target, func(t *testing.T) {
			if target == "linux" {
				needLinux(t)
			}
			for i := range 50 {
				code, _, errs := runMain("packetdrill", "--target="+target, filepath.Join(dir, "c.pkt"))
				if code != 0 {
					t.Fatalf("run %d: exit %d\n%s", i+1, code, errs)
				}
			}
		})
	}
}

// segmentsScript writes 4000 bytes after a handshake with MSS 1460 and
// expects them as the line says.
const segmentsScript = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>
+0 < . 1:1(0) ack 1 win 1000
+0 accept(3, ..., ...) = 4
+0 write(4, ..., 4000) = 4000
%s`

// -strict-segments gives scripts a device without segmentation offload and
// matches one segment per line: 4000 bytes leave as 1460-byte segments and
// a line of 4000 fails; without it the 4000-byte line passes.
func TestStrictSegmentsOnLinux(t *testing.T) {
	needLinux(t)
	one := "+0 > P. 1:4001(4000) ack 1\n"
	three := "+0 > . 1:1461(1460) ack 1\n+0 > . 1461:2921(1460) ack 1\n+0 > P. 2921:4001(1080) ack 1\n"
	dir := writeScripts(t, map[string]string{"one.pkt": fmt.Sprintf(segmentsScript, one), "three.pkt": fmt.Sprintf(segmentsScript, three)})
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"-strict-segments"}, []string{"PASS  " + dir + "/three.pkt [IPv4]", "FAIL  " + dir + "/one.pkt [IPv4]"}},
		{nil, []string{"PASS  " + dir + "/one.pkt [IPv4]"}},
	} {
		args := append([]string{"run", "-target", "linux", "-ip", "4", "-pcap-dir", t.TempDir()}, tt.args...)
		_, out, errs := runMain(append(args, dir)...)
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%q: output lacks %q\n%s\n%s", tt.args, w, out, errs)
			}
		}
	}
}

// A script that fails is run once more and the second verdict counts; the
// first failure is still printed. The init script turns timestamps off the
// first time only, so the first SYN-ACK lacks the option the script wants.
func TestDropInConfirmsFailures(t *testing.T) {
	needLinux(t)
	dir := writeScripts(t, map[string]string{
		"once.sh": "#!/bin/sh\n[ -e first-done ] && exit 0\ntouch first-done\nsysctl -q -w net.ipv4.tcp_timestamps=0\n",
		"ts.pkt":  tsPassiveOpenScript(100),
	})
	if err := os.Chmod(filepath.Join(dir, "once.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	code, _, errs := runMain("packetdrill", "--init_scripts=./once.sh", "ts.pkt")
	if code != 0 || !strings.Contains(errs, "ts.pkt:5: outbound packet does not match") ||
		!strings.HasSuffix(errs, "(failed the first time; passed when run again, which is the verdict)\n") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
	os.Remove("first-done")
	code, _, errs = runMain("packetdrill", "--confirm=false", "--init_scripts=./once.sh", "ts.pkt")
	if code != 1 {
		t.Errorf("--confirm=false: exit %d, stderr:\n%s", code, errs)
	}
}
