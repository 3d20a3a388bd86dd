package injector_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/targets"
)

// handshake is the opening most test scripts share: a listener, the peer's
// SYN (with timestamps), the SYN,ACK, the ACK, and accept.
const handshake = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 10) = 0
+0 < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <...>
+0 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
`

// activeOpen is a non-blocking connect and its SYN.
const activeOpen = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <...>
`

// sackSYN is a SYN offering SACK and the SYN,ACK expected without it, after
// prefix.
func sackSYN(prefix string) string {
	return prefix + `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 10) = 0
+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>
`
}

// tsTick is a handshake with timestamps under --tcp_ts_tick_usecs=1000,
// then rest. netstack's TS clock ticks in milliseconds from its own base;
// the SYN,ACK's TSval names 500.
func tsTick(rest string) string {
	return `--tcp_ts_tick_usecs=1000
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 10) = 0
+0 < S 0:0(0) win 20000 <mss 1000,sackOK,TS val 100 ecr 0>
+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 500 ecr 100>
+.1 < . 1:1(0) ack 1 win 20000 <nop,nop,TS val 200 ecr 500>
+0 accept(3, ..., ...) = 4
` + rest
}

// runScript parses src as t.pkt and runs it over IPv4 on netstack.
func runScript(t *testing.T, src string) injector.Result {
	t.Helper()
	return runScriptOn(t, netstack(t), src, nil)
}

// runScriptOn parses src as t.pkt, with defines, and runs it over IPv4 on
// tgt, keeping the packet log.
func runScriptOn(t *testing.T, tgt targets.Target, src string, defines map[string]string) injector.Result {
	t.Helper()
	f, err := script.Parse("t.pkt", []byte(src), script.ParseOptions{Defines: defines})
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	mode := injector.IPModeV4
	c, err := injector.ScriptCase(f, injector.ScriptOptions{IP: &mode})
	if err != nil {
		t.Fatal(err)
	}
	return injector.Run(context.Background(), tgt, c, injector.RunOptions{Verbose: true})
}

func TestScriptOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		outcome injector.Outcome
		message string // a regexp the message must match
	}{
		{"a clean run", handshake + "+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1\n", injector.Passed, "^$"},
		{"an extra segment is named as such",
			handshake + "+0 < P. 1:101(100) ack 1 win 257\n+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 101\n",
			injector.Failed, `^t.pkt:10: unexpected outbound packet: it came before the expected one\n  expected  > P. 1:11\(10\) ack 101\n  actual    > . 1:1\(0\) ack 101 `},
		{"a packet that leaves early is a timing error",
			handshake + "+0 write(4, ..., 10) = 10\n+1 > P. 1:11(10) ack 1\n",
			injector.Failed, `^t.pkt:9: timing error: expected outbound packet at 1.000000 s but it left at 0.000000 s; tolerance 0.125000 s`},
		{"a range accepts what falls inside it",
			handshake + "+0 write(4, ..., 10) = 10\n+0~+0.5 > P. 1:11(10) ack 1\n", injector.Passed, "^$"},
		{"a range rejects what falls outside it",
			handshake + "+0 write(4, ..., 10) = 10\n+0.5~+1.5 > P. 1:11(10) ack 1\n",
			injector.Failed, `^t.pkt:9: timing error: expected outbound packet in 0.500000~1.500000 s but it left at 0.000000 s`},
		{"a call that blocks unmarked fails",
			handshake + "+0 read(4, ..., 10) = 10\n", injector.Failed,
			`^t.pkt:8: read\(4, \.\.\., 10\) blocked for 2s, but the script does not mark it as blocking \(T\.\.\.END read\)`},
		{"an errno is checked",
			"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 accept(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)\n",
			injector.Failed, `^t.pkt:3: accept\(3, \.\.\., \.\.\.\) returned -1 EINVAL \(invalid argument\); the script expects -1 EAGAIN`},
		{"TCP_INFO asserts hold", handshake + "+0 %{ assert tcpi_state == TCP_ESTABLISHED, tcpi_state }%\n", injector.Passed, "^$"},
		{"a false assert fails with the values",
			handshake + "+0 %{ assert tcpi_snd_cwnd == 0, tcpi_snd_cwnd }%\n",
			injector.Failed, `^t.pkt:8: assertion failed: tcpi_snd_cwnd == 0\n  tcpi_snd_cwnd = \d+`},
		{"a field the target lacks skips",
			handshake + "+0 %{ assert tcpi_lost == 0 }%\n", injector.Skipped, `^t.pkt:8: target netstack does not report tcpi_lost$`},
		{"a sysctl without an equivalent skips",
			"`sysctl -q net.ipv4.tcp_frto=2`\n" + handshake, injector.Skipped,
			`^t.pkt:1: sysctl net.ipv4.tcp_frto: unsupported on this target: netstack has no equivalent$`},
		{"a sysctl reaches the stack: no SACK-permitted once tcp_sack=0", sackSYN("`sysctl -q net.ipv4.tcp_sack=0`\n"),
			injector.Passed, "^$"},
		{"...and without it the same line fails", sackSYN(""), injector.Failed,
			`options: want \[mss 1460,nop,wscale 7\] got \[mss 1460,nop,nop,sackOK,nop,wscale 7\]`},
		{"segments merge up to a line's length, as TSO would send them",
			handshake + "+0 write(4, ..., 3000) = 3000\n+0 > P. 1:3001(3000) ack 1\n", injector.Passed, "^$"},
		{"...unless --strict_segments",
			"--strict_segments\n" + handshake + "+0 write(4, ..., 3000) = 3000\n+0 > P. 1:3001(3000) ack 1\n",
			injector.Failed, `payload: want 3000 bytes`},
		{"a SYN into an established connection does not move the peer's ISN",
			handshake + "+0 < S 500:500(0) win 32792 <mss 1000>\n+0 < . 1:1(0) ack 1 win 257\n+0 < P. 1:11(10) ack 1 win 257\n+0 read(4, ..., 100) = 10\n",
			injector.Passed, "^$"},
		{"segments before the SYN,ACK count from 0, and the SYN,ACK sets the peer's ISN", activeOpen +
			"+.01 < . 1:1(0) ack 1 win 257\n+.01 < S. 1000:1000(0) ack 1 win 5840 <mss 1000>\n+0 > . 1:1(0) ack 1\n",
			injector.Passed, "^$"},
		{"a SYN an earlier connection still retransmits is not the new connection's", activeOpen +
			"+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4\n+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n" +
			"+1.4 connect(4, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n+0 > S 0:0(0) <...>\n",
			injector.Passed, "^$"},
		{"TS vals follow the target's clock under --tcp_ts_tick_usecs", tsTick("+1 close(4) = 0\n+0 > F. 1:1(0) ack 1 <nop,nop,TS val 1600 ecr 200>\n"),
			injector.Passed, "^$"},
		{"...and a TS val the clock does not reach fails", tsTick("+1 close(4) = 0\n+0 > F. 1:1(0) ack 1 <nop,nop,TS val 1900 ecr 200>\n"),
			injector.Failed, `^t.pkt:10: TS val 1600 is -300ms off the script's 1900 \(-300 ticks of 1ms\); tolerance 137.5ms`},
		{"an unsupported call skips", handshake + "+0 psp_tx_assoc(4, 1) = 0\n", injector.Skipped,
			`^t.pkt:8: psp_tx_assoc \(PSP encryption\) is not supported by tcpconform$`},
		{"a call the target lacks skips", handshake + "+0 epoll_create(1) = 5\n", injector.Skipped,
			`^t.pkt:8: epoll_create is not supported on target netstack$`},
		{"a second blocking call waits for the first, which must return in its range",
			"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 10) = 0\n+0...0.1 accept(3, ..., ...) = 4\n+0...0.1 accept(3, ..., ...) = 5\n",
			injector.Failed, `^t.pkt:4: accept\(3, \.\.\., \.\.\.\) had not returned by 0\.1\d+ s; the script expects it to return at 0\.100000 s \(tolerance 0\.012500 s\)$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runScript(t, tt.src)
			msg := strings.SplitN(res.Message, "\n  pcap ", 2)[0]
			if res.Outcome != tt.outcome || !regexp.MustCompile(tt.message).MatchString(msg) {
				t.Errorf("outcome %v, want %v; message:\n%s\nwant it to match %q\nlog:\n%s", res.Outcome, tt.outcome, res.Message, tt.message, res.Log)
			}
		})
	}
}

// The peer echoes the target's timestamp: the script names the target's
// TSval 500, and the ACK's "ecr 500" goes out as the live value. netstack
// drops a final ACK whose timestamps are missing, so accept() succeeding
// shows the echo went out; the log shows its value.
func TestScriptEchoesTimestamps(t *testing.T) {
	res := runScript(t, `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 10) = 0
+0 < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 500 ecr 100,nop,wscale 7>
+.01 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 110 ecr 500>
+0 accept(3, ..., ...) = 4
`)
	if res.Outcome != injector.Passed {
		t.Fatalf("%v: %s\n%s", res.Outcome, res.Message, res.Log)
	}
	m := regexp.MustCompile(`Flags \[S\.\].*TS val (\d+) ecr 100`).FindStringSubmatch(res.Log)
	if m == nil || !strings.Contains(res.Log, "TS val 110 ecr "+m[1]+"]") {
		t.Errorf("the ACK does not echo the SYN,ACK's TSval:\n%s", res.Log)
	}
}

// tsPassiveOpen answers a SYN with timestamps; the SYN,ACK must echo the
// SYN's TS val in its TS ecr (RFC 7323 section 4.3), which %d writes.
const tsPassiveOpen = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 10) = 0
+0 < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 500 ecr %d,nop,wscale 7>
`

// An outbound TS ecr is compared exactly, and the failure names the field
// and says that packetdrill would not have compared it.
func TestOutboundTSEcrIsCompared(t *testing.T) {
	if res := runScript(t, fmt.Sprintf(tsPassiveOpen, 100)); res.Outcome != injector.Passed {
		t.Fatalf("echo of the SYN's TS val: %v: %s", res.Outcome, res.Message)
	}
	res := runScript(t, fmt.Sprintf(tsPassiveOpen, 99))
	want := "  fields    TS ecr: want 99 got 100 (stricter than packetdrill, which does not compare the TS ecr; RFC 7323 section 4.3)\n"
	if res.Outcome != injector.Failed || !strings.HasPrefix(res.Message, "t.pkt:5: outbound packet does not match") ||
		!strings.Contains(res.Message, want) {
		t.Errorf("%v: %s\nwant it to contain %q", res.Outcome, res.Message, want)
	}
}

// Under --non_fatal=packet a wrong outbound packet is a warning and the
// script goes on to pass; a wrong call result still fails.
func TestNonFatalPacket(t *testing.T) {
	src := "--non_fatal=packet\n" + handshake + "+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 2\n+0 write(4, ..., 10) = 10\n+0 > P. 11:21(10) ack 1\n"
	res := runScript(t, src)
	if res.Outcome != injector.Passed || len(res.Warnings) != 1 ||
		!strings.HasPrefix(res.Warnings[0], "t.pkt:10: outbound packet does not match\n  expected  > P. 1:11(10) ack 2\n") {
		t.Errorf("%v: %s\nwarnings %q", res.Outcome, res.Message, res.Warnings)
	}
	res = runScript(t, "--non_fatal=packet\n"+handshake+"+0 write(4, ..., 10) = 11\n")
	if res.Outcome != injector.Failed {
		t.Errorf("a wrong result under --non_fatal=packet: %v: %s", res.Outcome, res.Message)
	}
	res = runScript(t, "--non_fatal=packets\n"+handshake)
	if res.Outcome != injector.Errored || !strings.Contains(res.Message, `--non_fatal="packets": want packet, syscall or both`) {
		t.Errorf("a bad --non_fatal: %v: %s", res.Outcome, res.Message)
	}
}

// Options given on a command line come after the header's and win, as on
// packetdrill's; the rule table says what each option does.
func TestCommandLineOptionsWin(t *testing.T) {
	f, err := script.Parse("t.pkt", []byte("--ip_version=ipv6\n--tolerance_usecs=1\n"+handshake), script.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pos := script.Pos{File: "command line"}
	var cl []*script.Option
	for _, o := range [][2]string{{"ip_version", "ipv4"}, {"tolerance_usecs", "4000"}, {"so_filename", "stack.so"}} {
		opt, err := script.NewOption(pos, o[0], o[1], true)
		if err != nil {
			t.Fatal(err)
		}
		cl = append(cl, opt)
	}
	c, err := injector.ScriptCase(f, injector.ScriptOptions{CommandLine: cl[:2]})
	if err != nil {
		t.Fatal(err)
	}
	if c.Family != injector.IPv4 {
		t.Errorf("family %v: the command line's --ip_version=ipv4 did not win", c.Family)
	}
	if res := injector.Run(context.Background(), netstack(t), c, injector.RunOptions{}); res.Outcome != injector.Passed {
		t.Errorf("%v: %s", res.Outcome, res.Message)
	}
	c, _ = injector.ScriptCase(f, injector.ScriptOptions{CommandLine: cl})
	res := injector.Run(context.Background(), netstack(t), c, injector.RunOptions{})
	if res.Outcome != injector.Skipped || res.Message != "command line: option --so_filename is not supported by tcpconform" {
		t.Errorf("an option that skips, from the command line: %v: %q", res.Outcome, res.Message)
	}
}

// Every packetdrill option the parser knows has a rule, and every rule
// names an option the parser knows.
func TestEveryOptionHasARule(t *testing.T) {
	names := script.OptionNames()
	for _, n := range names {
		r, ok := injector.OptionRules[n]
		if !ok {
			t.Errorf("option --%s has no rule in injector.OptionRules", n)
		} else if r.Doc == "" || r.Status == "" {
			t.Errorf("option --%s: rule without status or doc", n)
		}
	}
	for n := range injector.OptionRules {
		if known, _ := script.OptionTakesValue(n); !known {
			t.Errorf("rule for --%s, which the parser does not know", n)
		}
	}
}
