package injector_test

import (
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/injector"
)

// netstack takes injected ICMP: a port unreachable about the SYN ends the
// connect with ECONNREFUSED (RFC 9293 section 3.9.2.2, SHLD-26), and a
// fragmentation needed about a full-sized segment makes it send that data
// again in segments that fit (RFC 1191).
func TestICMPOnNetstack(t *testing.T) {
	unreach := `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <...>
+.01 < icmp unreachable port_unreachable [0:0(0)]
+0 write(3, ..., 10) = -1 ECONNREFUSED (Connection refused)
`
	if r := runScript(t, unreach); r.Outcome != injector.Passed {
		t.Errorf("port unreachable: %v: %s\n%s", r.Outcome, r.Message, r.Log)
	}
	frag := "--strict_segments\n" + strings.Replace(handshake, "mss 1000", "mss 1460", 1) + `+0 write(4, ..., 1460) = 1460
+0 > P. 1:1461(1460) ack 1
+.01 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]
+0 > . 1:1161(1160) ack 1
`
	if r := runScript(t, frag); r.Outcome != injector.Passed {
		t.Errorf("frag_needed: %v: %s\n%s", r.Outcome, r.Message, r.Log)
	}
	// An MTU that is no smaller changes nothing: the data goes again
	// whole when it times out, and the expectation fails.
	same := strings.Replace(frag, "mtu 1200", "mtu 1500", 1)
	if r := runScript(t, same); r.Outcome != injector.Failed || !strings.Contains(r.Message, "payload") {
		t.Errorf("frag_needed with MTU 1500: %v: %s\n%s", r.Outcome, r.Message, r.Log)
	}
}
