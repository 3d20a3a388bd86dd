package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/suites"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"
)

// runOnNetstack runs cases on the netstack target, in order.
func runOnNetstack(t *testing.T, o injector.RunOptions, cases ...*injector.Case) []injector.Result {
	t.Helper()
	tgt, err := targets.Lookup("netstack")
	if err != nil {
		t.Fatal(err)
	}
	var out []injector.Result
	for _, c := range cases {
		out = append(out, injector.Run(context.Background(), tgt, c, o))
	}
	return out
}

// builtin returns the built-in case with this full name.
func builtin(t *testing.T, fullName string) *injector.Case {
	t.Helper()
	for _, c := range suites.Cases() {
		if c.FullName() == fullName {
			return c
		}
	}
	t.Fatalf("no built-in case %q", fullName)
	return nil
}

const passiveOpen = "passive open: LISTEN to SYN-RECEIVED to ESTABLISHED [IPv4]"

// wrongAck is a case that fails on purpose: the SYN,ACK acknowledges the
// SYN with IRS+1 and carries ACK, the case wants IRS+2 and SYN alone.
func wrongAck() *injector.Case {
	return &injector.Case{
		Name: "report: a SYN,ACK that acknowledges IRS+2 (wrong on purpose)", ID: "REPORT.wrong-ack",
		Group: "LISTEN", Labels: []string{"T036", "MUST-2", "state:LISTEN"}, Family: injector.IPv4,
		Location: "cmd/tcpconform/trace_test.go",
		Run: func(t *injector.T) {
			t.Listen(8080)
			c := t.Dial(8080)
			c.Send(wire.SYN)
			c.Expect(expectations.BeSegment(expectations.Flags(wire.SYN), expectations.Ack(2)))
		},
	}
}

// traceOf runs one case and returns its trace, one string a line.
func traceOf(t *testing.T, c *injector.Case) []string {
	t.Helper()
	var b strings.Builder
	writeTrace(&b, runOnNetstack(t, injector.RunOptions{}, c)[0])
	t.Logf("trace:\n%s", b.String())
	return strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
}

// findLines returns the index of the first line matching each pattern,
// each after the one before, and fails when one is missing.
func findLines(t *testing.T, lines []string, patterns ...string) []int {
	t.Helper()
	var at []int
	from := 0
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		i := from
		for i < len(lines) && !re.MatchString(lines[i]) {
			i++
		}
		if i == len(lines) {
			t.Fatalf("no line matching %q after line %d", p, from)
		}
		at = append(at, i)
		from = i + 1
	}
	return at
}

func TestTracePassingCase(t *testing.T) {
	lines := traceOf(t, builtin(t, passiveOpen))
	findLines(t, lines,
		`^passive open: LISTEN to SYN-RECEIVED to ESTABLISHED \[IPv4\] \(suites/passive_open\.go\): PASS$`,
		`^ +time +peer 192\.0\.2\.2 \| +\| target 192\.0\.2\.1$`,
		`^ +CLOSED \| +\|$`,
		`^ +\+0\.000000 +\| +\| LISTEN \(listener :8080\)$`,
		`^ +\+0\.000000 +SYN-SENT \|--S 0:0\(0\) win \d+ <mss 1460,[^>]*>-+>\|$`,
		`^ +\+0\.000000 +ESTABLISHED \|<--S\. 0:0\(0\) ack 1 win \d+ <mss \d+,[^>]*>-+\|$`,
		`^ +\+0\.000000 +\| +\| SYN-RECEIVED$`,
		`^ +\+0\.000000 +\|--\. 1:1\(0\) ack 1 win \d+ <nop,nop,TS val \d+ ecr \d+>-+>\|$`,
		`^ +\+0\.000000 +\| +\| ESTABLISHED$`,
		`^ +\+1\.000000 == PASS$`,
	)
	// The lifelines run straight down.
	left, right := strings.Index(lines[1], "|"), strings.LastIndex(lines[1], "|")
	for _, l := range lines[1 : len(lines)-1] {
		if strings.Index(l, "|") != left || strings.LastIndex(l, "|") != right {
			t.Errorf("lifelines out of line in %q", l)
		}
	}
}

func TestTraceFailingCase(t *testing.T) {
	lines := traceOf(t, wrongAck())
	at := findLines(t, lines,
		`^report: a SYN,ACK that acknowledges IRS\+2 \(wrong on purpose\) \[IPv4\] \(REPORT\.wrong-ack\): FAIL$`,
		`SYN-SENT \|--S 0:0\(0\) win`,
		`ESTABLISHED \|<--S\. 0:0\(0\) ack 1 win .*\| <== the actual segment of the failure$`,
		`\| SYN-RECEIVED$`,
		`^ +\+0\.000000 ## FAIL here: cmd/tcpconform/trace_test\.go:\d+: segment does not match$`,
		`^ {14}expected  flags S, ack IRS\+2$`,
		`^ {14}actual    192\.0\.2\.1\.8080 > 192\.0\.2\.2\.40000: Flags \[S\.\], seq \d+, ack 1000001, `,
		`^ {14}fields    flags: want S got S\.$`,
		`^ {24}ack: want IRS\+2 got IRS\+1 \(1000001\)$`,
	)
	if fail := at[4]; fail != len(lines)-6 {
		t.Errorf("the failure is line %d of %d, want it after the ladder with its 5 details", fail, len(lines))
	}
}

// With several connections each arrow and state names its peer port, and
// the peer's inferred state follows each one: a RST,ACK to its SYN closes
// it.
func TestTraceSeveralConnections(t *testing.T) {
	lines := traceOf(t, builtin(t, "T031 CLOSED: segments without ACK (SYN, SYN with data, FIN with data, bare data) draw <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> [IPv4]"))
	findLines(t, lines,
		`SYN-SENT \(:40000\) \|--:40000 S 0:0\(0\) `,
		`CLOSED \(:40000\) \|<--:40000 R\. 0:0\(0\) ack 1 win 0-+\|$`,
		`\| UNKNOWN \(:40000\)$`,
		`SYN-SENT \(:40001\) \|--:40001 S 0:5\(5\) `,
		`\|<--:40001 R\. 0:0\(0\) ack 6 win 0-+\|$`,
		`\|--:40003 P 0:10\(10\) win \d+-+>\|$`,
	)
}

// The peer's inferred states mirror an active close by the target, and
// ICMP errors show as such.
func TestTraceInference(t *testing.T) {
	lines := traceOf(t, builtin(t, "active close: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT for its full duration, CLOSED [IPv4]"))
	findLines(t, lines,
		`CLOSE-WAIT \|<--F\. 1:1\(0\) ack 1 `,
		`\| FIN-WAIT-1$`,
		`\|--\. 1:1\(0\) ack 2 `,
		`\| FIN-WAIT-2$`,
		`LAST-ACK \|--F\. 1:1\(0\) ack 2 `,
		`CLOSED \|<--\. 2:2\(0\) ack 2 `,
		`\| TIME-WAIT$`,
		`^ *\+60\.\d+ +\| +\| CLOSED$`,
	)
	var icmp *injector.Case
	for _, c := range suites.Cases() {
		if c.Family == injector.IPv6 && strings.Contains(c.Name, "ICMP") {
			icmp = c
			break
		}
	}
	if icmp == nil {
		t.Skip("no built-in ICMP case")
	}
	findLines(t, traceOf(t, icmp), `\|~~ICMPv6 \w[^~]* \(type \d+ code \d+\)~+>\|$`)
}
