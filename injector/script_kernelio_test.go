package injector_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/injector"
)

// netstack has none of the optional calls, so each skips with the reason
// rather than passing or failing.
func TestKernelCallsSkipWhereTheTargetLacksThem(t *testing.T) {
	for _, tt := range []struct{ line, reason string }{
		{"+0 write(4, NULL, 1000) = -1 EFAULT (Bad address)", `write with a NULL buffer is not supported on target netstack`},
		{"+0 recv(4, NULL, 1000, 0) = -1 EFAULT (Bad address)", `recv with a NULL buffer is not supported on target netstack`},
		{"+0 connect(4, AF_UNSPEC, ...) = 0", `connect with a bare address family is not supported on target netstack`},
		{"+0 sendto(4, ..., 0, MSG_FASTOPEN, AF_UNSPEC, ...) = -1 EOPNOTSUPP (Operation not supported)", `sendto with a bare address family is not supported on target netstack`},
		{`+0 open("/tmp/x", O_RDONLY) = 5`, `open is not supported on target netstack`},
		{"+0 sendfile(4, 3, [0], 5) = 5", `sendfile is not supported on target netstack`},
		{"+0 pipe([5, 6]) = 0", `pipe is not supported on target netstack`},
		{"+0 splice(4, NULL, 3, NULL, 99, 0) = 99", `splice is not supported on target netstack`},
		{"+0 cap_set(CAP_NET_ADMIN, CAP_EFFECTIVE, CAP_CLEAR) = 0", `cap_set is not supported by tcpconform`},
	} {
		res := runScript(t, handshake+tt.line+"\n")
		if res.Outcome != injector.Skipped || !strings.HasPrefix(res.Message, "t.pkt:8: ") || !strings.Contains(res.Message, tt.reason) {
			t.Errorf("%s: %v %q; want a skip at t.pkt:8 saying %q", tt.line, res.Outcome, res.Message, tt.reason)
		}
	}
}

// A code block's assignment defines a name for that block and the ones
// after it, as packetdrill's Python does.
func TestCodeAssignments(t *testing.T) {
	for _, tt := range []struct {
		name, code string
		outcome    injector.Outcome
		message    string
	}{
		{"a name holds in later blocks", "+0 %{ BIG = 0x7fffffff }%\n+0 %{ assert BIG == 2147483647, BIG }%\n", injector.Passed, "^$"},
		{"...and is compared as assigned", "+0 %{ BIG = 0x7fffffff }%\n+0 %{ assert BIG == 1, BIG }%\n", injector.Failed, `^t.pkt:9: assertion failed: BIG == 1`},
		{"a name can hold a TCP_INFO field", "+0 %{\nCWND = tcpi_snd_cwnd\nassert tcpi_snd_cwnd == CWND\n}%\n", injector.Passed, "^$"},
		{"...against which later fields compare", "+0 %{ CWND = tcpi_snd_cwnd + 1 }%\n+0 %{ assert tcpi_snd_cwnd == CWND }%\n", injector.Failed, `^t.pkt:9: assertion failed: tcpi_snd_cwnd == CWND`},
		{"other statements skip", "+0 %{ for i in range(3): pass }%\n", injector.Skipped, `only assert, print and assignments are`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runScript(t, handshake+tt.code)
			if res.Outcome != tt.outcome || !regexp.MustCompile(tt.message).MatchString(res.Message) {
				t.Errorf("%v %q; want %v matching %q", res.Outcome, res.Message, tt.outcome, tt.message)
			}
		})
	}
}
