package injector_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/injector"
)

// nplab's packetdrill (FreeBSD's suite) names the IPv6 hop limit "hlim" and
// the traffic class "class"; they are checked like "ttl" and "tos". Its
// other forms the engine cannot run skip with their reason.
func TestScriptNplabForms(t *testing.T) {
	data := handshake + "+0 write(4, ..., 10) = 10\n"
	tests := []struct {
		name    string
		src     string
		outcome injector.Outcome
		message string // a regexp the message must match
	}{
		{"hlim is checked as the TTL", data + "+0 > (hlim 64) P. 1:11(10) ack 1\n", injector.Passed, "^$"},
		{"...and a wrong one fails", data + "+0 > (hlim 3) P. 1:11(10) ack 1\n", injector.Failed, `ttl: want 3 got 64`},
		{"class is checked as the TOS byte", data + "+0 > (class 0x00) P. 1:11(10) ack 1\n", injector.Passed, "^$"},
		{"...and a wrong one fails", data + "+0 > (class 0x20) P. 1:11(10) ack 1\n", injector.Failed, `tos: want 0x20 got 0x00`},
		{"UDP encapsulation skips", data + "+0 > P. 1:11(10) ack 1/udp(9811 > 1)\n", injector.Skipped,
			`^t.pkt:9: UDP encapsulation of TCP \(nplab "/udp\(\.\.\.\)"\) is not supported by tcpconform$`},
		{"absolute sequence numbers skip", data + "+0 > P. 1:11(10)! ack 1\n", injector.Skipped,
			`^t.pkt:9: absolute sequence numbers \(nplab "start:end\(len\)!"\) are not supported by tcpconform$`},
		{"unchecked sequence numbers skip", data + "+0 > P. ...(10) ack 1\n", injector.Skipped,
			`^t.pkt:9: unchecked sequence numbers \(nplab "\.\.\.\(len\)"\) are not supported by tcpconform$`},
		{"md5 valid skips", data + "+0 > P. 1:11(10) ack 1 <md5 valid>\n", injector.Skipped,
			`^t.pkt:9: computed TCP-MD5 signatures \(nplab "md5 valid"\) are not supported by tcpconform$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runScript(t, tt.src)
			msg := strings.SplitN(res.Message, "\n  pcap ", 2)[0]
			if res.Outcome != tt.outcome || !regexp.MustCompile(tt.message).MatchString(msg) {
				t.Errorf("outcome %v, want %v; message:\n%s\nwant it to match %q", res.Outcome, tt.outcome, res.Message, tt.message)
			}
		})
	}
}
