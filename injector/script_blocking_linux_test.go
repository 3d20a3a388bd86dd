package injector_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/targets/linux"
)

// On linux a call on a blocking socket sleeps in the kernel. A case that
// fails while one is blocked (an accept no connection comes to, a read no
// data comes to, unmarked) still ends at once, and leaves no namespace.
func TestLinuxBlockedCallsEndWithTheCase(t *testing.T) {
	runLinuxCases(t, []linuxCase{
		{name: "a marked accept that never returns",
			src:     "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n+0...0.1 accept(3, ..., ...) = 4\n",
			outcome: injector.Failed, message: `^t.pkt:4: accept\(3, \.\.\., \.\.\.\) had not returned by 0\.\d+ s; the script expects it to return at 0\.1\d+ s`},
		{name: "an unmarked read that blocks", src: linuxAccepted + "+0 read(4, ..., 10) = 10\n",
			outcome: injector.Failed, message: `^t.pkt:9: read\(4, \.\.\., 10\) blocked for 2s, but the script does not mark it as blocking`},
		{name: "a real blocking read returns the data that wakes it", src: linuxAccepted + "+0...0.05 read(4, ..., 10) = 10\n+.05 < P. 1:11(10) ack 1 win 514\n",
			outcome: injector.Passed, message: `^$`},
	})
	linux.WaitClosed()
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tcpconform-"+strconv.Itoa(os.Getpid())+"-") {
			t.Errorf("namespace %s left behind", e.Name())
		}
	}
}

// The failures above end within moments of their verdict, not at a timeout.
func TestLinuxBlockedAcceptEndsPromptly(t *testing.T) {
	start := time.Now()
	res := runLinux(t, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n+0...0.1 accept(3, ..., ...) = 4\n", nil)
	if res.Outcome != injector.Failed {
		t.Fatalf("%v %q", res.Outcome, res.Message)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the case took %v to end with a blocked accept", took)
	}
}
