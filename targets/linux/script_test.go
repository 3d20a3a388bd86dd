package linux

import (
	"context"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/script"
)

// runScript plays src on a linux instance in the given IP mode, with the
// offload-free device when noOffload is set.
func runScript(t *testing.T, src string, mode injector.IPMode, noOffload bool) injector.Result {
	t.Helper()
	need(t)
	f, err := script.Parse("t.pkt", []byte(src), script.ParseOptions{})
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	c, err := injector.ScriptCase(f, injector.ScriptOptions{IP: &mode})
	if err != nil {
		t.Fatal(err)
	}
	return injector.Run(context.Background(), Target{}, c, injector.RunOptions{Verbose: true, NoOffload: noOffload})
}

func wantPass(t *testing.T, r injector.Result) {
	t.Helper()
	if r.Outcome != injector.Passed {
		t.Fatalf("%v: %s\n%s", r.Outcome, r.Message, r.Log)
	}
}

// established is a passive open with MSS 1460 and no options besides.
const established = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+.01 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
`

// An ICMP fragmentation needed about a full-sized segment lowers the path
// MTU (RFC 1191): the kernel at once sends the data again in segments that
// fit 1200 bytes, 1160 of payload. On the offload-free device each segment is
// seen as it would be on the wire.
func TestICMPFragNeededLowersTheMSS(t *testing.T) {
	wantPass(t, runScript(t, "--strict_segments\n"+established+`+0 write(4, ..., 1460) = 1460
+0 > P. 1:1461(1460) ack 1
+.01 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]
+0 > . 1:1161(1160) ack 1
+0 > P. 1161:1461(300) ack 1
`, injector.IPModeV4, true))
}

// And without the error the segment stays as it was: the test can fail.
func TestICMPFragNeededIsNeeded(t *testing.T) {
	r := runScript(t, "--strict_segments\n"+established+`+0 write(4, ..., 1460) = 1460
+0 > P. 1:1461(1460) ack 1
+.01 < icmp unreachable frag_needed mtu 1500 [1:1461(1460)]
+0 > . 1:1161(1160) ack 1
`, injector.IPModeV4, true)
	if r.Outcome != injector.Failed || !strings.Contains(r.Message, "payload: want 1160 bytes") {
		t.Fatalf("%v: %s\n%s", r.Outcome, r.Message, r.Log)
	}
}

// ICMPv6 address unreachable about the SYN ends a connect in SYN-SENT: the
// socket reports EHOSTUNREACH.
func TestICMPv6UnreachableEndsConnect(t *testing.T) {
	wantPass(t, runScript(t, `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <...>
+.01 < icmp unreachable address_unreachable [0:0(0)]
+0 write(3, ..., 10) = -1 EHOSTUNREACH (No route to host)
`, injector.IPModeV6, false))
}

// --mtu sets the device's MTU before the script starts: over IPv6 an MTU
// of 1520 gives an MSS of 1460 (1520 - 40 - 20), as packetdrill's runner
// has it.
func TestMTUOption(t *testing.T) {
	src := `--mtu=1520
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 7>
`
	wantPass(t, runScript(t, src, injector.IPModeV6, false))
	r := runScript(t, strings.TrimPrefix(src, "--mtu=1520\n"), injector.IPModeV6, false)
	if r.Outcome != injector.Failed || !strings.Contains(r.Message, "mss 1440") {
		t.Fatalf("without --mtu: %v: %s\n%s", r.Outcome, r.Message, r.Log)
	}
}

// With TSO, as packetdrill's device, the kernel hands the device segments
// larger than the MSS (two MSS at first: tcp_min_tso_segs); the offload-free
// device gets MSS-sized ones.
func TestOffloadSegments(t *testing.T) {
	src := "--strict_segments\n" + established + `+0 write(4, ..., 4000) = 4000
+0 > P. 1:2921(2920) ack 1
+0 > P. 2921:4001(1080) ack 1
`
	wantPass(t, runScript(t, src, injector.IPModeV4, false))
	r := runScript(t, src, injector.IPModeV4, true)
	if r.Outcome != injector.Failed || !strings.Contains(r.Message, "payload") {
		t.Fatalf("offload-free device: %v: %s\n%s", r.Outcome, r.Message, r.Log)
	}
}

// --mss hands injected TCP to the kernel as a receive offload's merge of
// segments that size: the largest segment the kernel saw is 1000 bytes,
// not the 10000 the line carries.
func TestMSSOptionMergesInjectedSegments(t *testing.T) {
	src := established + `+0 < . 1:10001(10000) ack 1 win 320
+0 > . 1:1(0) ack 10001
+0 %{ assert tcpi_rcv_mss == 1000, tcpi_rcv_mss }%
`
	wantPass(t, runScript(t, "--mss=1000\n"+src, injector.IPModeV4, false))
	r := runScript(t, src, injector.IPModeV4, false)
	if r.Outcome != injector.Failed || !strings.Contains(r.Message, "tcpi_rcv_mss") {
		t.Fatalf("without --mss: %v: %s\n%s", r.Outcome, r.Message, r.Log)
	}
}
