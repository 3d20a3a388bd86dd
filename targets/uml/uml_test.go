package uml

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent/agenttest"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
	}
	code := m.Run()
	Target{}.Shutdown()
	os.Exit(code)
}

// newInstance gives a test the run's guest, booting it if needed; it skips
// where User-mode Linux is not installed.
func newInstance(t *testing.T) targets.Instance {
	t.Helper()
	if err := (Target{}).Available(); err != nil {
		t.Skipf("uml target unavailable: %v", err)
	}
	if _, err := Image(); err != nil { // build outside the timings
		t.Fatal(err)
	}
	begin := time.Now()
	in, err := Target{}.New(context.Background(), targets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("instance ready in %v", time.Since(begin))
	t.Cleanup(func() { in.Close() })
	return in
}

func TestSynGetsSynAck(t *testing.T) { agenttest.SynGetsSynAck(t, newInstance) }

// A case meets nothing the last one left: its sockets are closed, and a
// connection it left in TIME-WAIT on the service port does not keep the next
// case's listener from binding that port (each case has a fresh network
// namespace in the guest).
func TestCasesGetAFreshStack(t *testing.T) {
	newInstance(t).Close()
	var left int
	timeWait := &injector.Case{Name: "active close to TIME-WAIT", Family: injector.IPv4, Location: "uml_test.go:1",
		Run: func(tt *injector.T) {
			lfd := tt.Listen(8080)
			c := tt.Dial(8080)
			c.Send(wire.SYN)
			c.Expect(BeSegment(Flags(wire.SYN | wire.ACK)))
			c.Send(wire.ACK)
			fd := tt.Accept(lfd)
			tt.Close(fd)
			c.Expect(BeSegment(Flags(wire.FIN | wire.ACK)))
			c.Send(wire.FIN | wire.ACK)
			c.Expect(BeSegment(Flags(wire.ACK)))
			left = tt.Socket()
		}}
	next := &injector.Case{Name: "listen on the same port", Family: injector.IPv4, Location: "uml_test.go:2",
		Run: func(tt *injector.T) {
			if err := tt.Sockets().Close(left); err != syscall.EBADF {
				tt.Errorf("close of the last case's socket: %v, want EBADF (reset closes it)", err)
			}
			tt.Listen(8080)
		}}
	for _, c := range []*injector.Case{timeWait, next} {
		if res := injector.Run(context.Background(), Target{}, c, injector.RunOptions{}); res.Outcome != injector.Passed {
			t.Errorf("%s: %v %s", c.Name, res.Outcome, res.Message)
		}
	}
}

// A guest killed in the middle of a case fails that case with the reason;
// the next case boots a new guest and passes.
func TestKilledGuestFailsOnlyItsCase(t *testing.T) {
	newInstance(t).Close()
	agenttest.KilledStackFailsOnlyItsCase(t, Target{}, func(in targets.Instance) (int, error) {
		pgid := in.(*Instance).Guest()
		return pgid, syscall.Kill(-pgid, syscall.SIGKILL)
	}, "the target failed: uml guest")
}

// After Shutdown no UML process, socket file or scratch directory is left,
// and nothing was written to $HOME/.uml.
func TestNothingLeftAfterShutdown(t *testing.T) {
	home, _ := os.UserHomeDir()
	before, _ := filepath.Glob(filepath.Join(home, ".uml", "*"))
	newInstance(t).Close()
	dirs, pids := Leftovers()
	if len(dirs) == 0 {
		t.Fatalf("no scratch directory while the guest runs")
	}
	sock := filepath.Join(dirs[0], "net.sock")
	if _, err := os.Stat(sock); err != nil {
		t.Errorf("the guest's network socket: %v", err)
	}
	Target{}.Shutdown()
	if dirs, pids = Leftovers(); len(dirs) != 0 || len(pids) != 0 {
		t.Errorf("after Shutdown: directories %v, UML processes %v", dirs, pids)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket file %s: %v", sock, err)
	}
	after, _ := filepath.Glob(filepath.Join(home, ".uml", "*"))
	if len(after) != len(before) {
		t.Errorf("$HOME/.uml changed: %v -> %v", before, after)
	}
}

// BenchmarkBoot measures a guest's boot to the agent's hello.
func BenchmarkBoot(b *testing.B) {
	if err := (Target{}).Available(); err != nil {
		b.Skipf("uml target unavailable: %v", err)
	}
	if _, err := Image(); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		Target{}.Shutdown()
		in, err := Target{}.New(context.Background(), targets.Config{})
		if err != nil {
			b.Fatal(err)
		}
		in.Close()
	}
	b.StopTimer()
	Target{}.Shutdown()
}

// BenchmarkScript is the cost of one script case on the booted guest.
func BenchmarkScript(b *testing.B) { agenttest.BenchmarkScript(b, Target{}, "passive-open.pkt") }

// crashChildEnv makes the test binary a harness that boots a guest, says
// where, and waits to be killed.
const crashChildEnv = "TCPCONFORM_UML_CRASH_CHILD"

func crashChild() {
	in, err := Target{}.New(context.Background(), targets.Config{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	dirs, _ := Leftovers()
	fmt.Println("booted", in.(*Instance).Guest(), strings.Join(dirs, " "))
	select {}
}

// A harness killed outright (SIGKILL: no Shutdown) leaves its guest's
// directory, and perhaps processes; the next run's boot reaps them.
func TestLeftoversOfAKilledRunAreReaped(t *testing.T) {
	newInstance(t).Close() // skips where UML is missing; builds the image
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "booted" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child harness: %q", line)
	}
	pgid, _ := strconv.Atoi(f[1])
	dir := f[2]
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the killed run's directory %s: %v", dir, err)
	}
	reapLeftovers()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("after reaping, %s: %v", dir, err)
	}
	if pids := guestProcesses(pgid); len(pids) != 0 {
		t.Errorf("after reaping, the killed run's UML processes %v remain", pids)
	}
}
