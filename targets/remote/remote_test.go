package remote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/suites"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent/agenttest"
	_ "github.com/tcpconform/tcpconform/targets/linux"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Target{}.Shutdown()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// The tcpconform binary the device's agent runs: built once per test
// process.
var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

func tcpconformBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "tcpconform-remote-test-"); binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", binDir, "../../cmd/tcpconform").CombinedOutput()
		if err != nil {
			binErr = &buildError{err, string(out)}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "tcpconform")
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string {
	return "go build ./cmd/tcpconform: " + e.err.Error() + ": " + e.out
}

// labTarget gives a test a device in a veth lab, running `tcpconform agent
// -listen`, and the remote target configured to reach it from the lab's
// harness namespace.
func labTarget(t testing.TB) targets.Target {
	t.Helper()
	bin := tcpconformBinary(t)
	lab := newLab(t)
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	if err := lab.StartAgent(bin, token); err != nil {
		t.Fatal(err)
	}
	tgt, err := targets.Open("remote", lab.TargetOptions(token))
	if err != nil {
		t.Fatal(err)
	}
	if err := tgt.Available(); err != nil {
		t.Fatal(err)
	}
	// Runs before the lab's cleanup: the connection goes before the
	// namespaces.
	t.Cleanup(func() { Target{}.Shutdown() })
	return tgt
}

// A harness with the wrong token gets no stack: the instance fails to
// start, saying what the agent said.
func TestWrongToken(t *testing.T) {
	tgt := labTarget(t)
	opts := tgt.(Target).cfg
	bad := *opts
	bad.token = "not-the-token"
	in, err := Target{cfg: &bad}.New(context.Background(), targets.Config{})
	if err == nil {
		in.Close()
		t.Fatal("an instance with the wrong token")
	}
	if !strings.Contains(err.Error(), "bad token") {
		t.Errorf("error %q, want the agent's bad token", err)
	}
}

func TestSynGetsSynAck(t *testing.T) {
	tgt := labTarget(t)
	agenttest.SynGetsSynAck(t, func(t *testing.T) targets.Instance {
		in, err := tgt.New(context.Background(), targets.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close() })
		return in
	})
}

// ciCases picks the built-in cases the verdict comparison runs: the
// transitions out of CLOSED, LISTEN and SYN-SENT and the RST rules, quick
// cases that still cover both families, both opens, resets and states.
var ciCases = regexp.MustCompile(`^T00[0-9] |^T01[0-9] `)

// The remote target over veth gives the verdicts of the linux target, case
// by case: both are this machine's kernel, one behind a TUN device in a
// fresh namespace, the other behind a veth pair, an AF_PACKET socket and an
// agent's control connection. A case the remote profile declares as a
// deviation of the device path must fail there, as its profile says.
func TestVerdictsMatchLinux(t *testing.T) {
	remote := labTarget(t)
	linux, err := targets.Lookup("linux")
	if err != nil {
		t.Fatal(err)
	}
	if err := linux.Available(); err != nil {
		t.Skipf("linux target unavailable: %v", err)
	}
	var ran, passed int
	for _, c := range suites.Cases() {
		if !ciCases.MatchString(c.Name) {
			continue
		}
		ctx := context.Background()
		want := injector.Run(ctx, linux, c, injector.RunOptions{})
		got := injector.Run(ctx, remote, c, injector.RunOptions{})
		ran++
		if got.Outcome == injector.Passed {
			passed++
		}
		if got.Outcome != want.Outcome {
			t.Errorf("%s: remote %v, linux %v\n  remote: %s\n  linux:  %s", c.Name, got.Outcome, want.Outcome, oneLine(got.Message), oneLine(want.Message))
		}
	}
	t.Logf("%d cases, %d passed on remote", ran, passed)
	if ran == 0 || passed == 0 {
		t.Fatalf("%d cases ran, %d passed: the comparison shows nothing", ran, passed)
	}
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " | ") }

// BenchmarkCase is the per-case cost of a passive open (listen, SYN,
// SYN-ACK, ACK, accept, states) on a device over veth, beside the linux
// target on the same case.
func BenchmarkCase(b *testing.B) {
	var c *injector.Case
	for _, x := range suites.Cases() {
		if strings.HasPrefix(x.Name, "T036 ") && x.Family == injector.IPv4 {
			c = x
			break
		}
	}
	if c == nil {
		b.Fatal("no T036 case")
	}
	remote := labTarget(b)
	linux, _ := targets.Lookup("linux")
	for _, tgt := range []targets.Target{remote, linux} {
		b.Run(tgt.Name(), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if r := injector.Run(context.Background(), tgt, c, injector.RunOptions{}); r.Outcome != injector.Passed {
					b.Fatalf("%s: %v %s", c.Name, r.Outcome, r.Message)
				}
			}
		})
	}
}
