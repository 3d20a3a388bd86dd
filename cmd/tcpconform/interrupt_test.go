package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/internal/hoststate"
	"github.com/tcpconform/tcpconform/targets"
)

// Interrupting runs on the Linux target at random moments must leave no
// namespace and no TUN device behind, and the host as it was.
func TestInterruptedLinuxRunsLeaveNothing(t *testing.T) {
	tgt, err := targets.Lookup("linux")
	if err != nil {
		t.Fatal(err)
	}
	if err := tgt.Available(); err != nil {
		t.Skipf("linux target unavailable: %v", err)
	}
	if testing.Short() {
		t.Skip("interrupts 20 runs; skipped in -short mode")
	}
	before, err := hoststate.Snapshot()
	if err != nil {
		t.Skip(err)
	}
	bin := filepath.Join(t.TempDir(), "tcpconform")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	pcaps := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		cmd := exec.Command(bin, "run", "-target", "linux", "-parallel", "2", "-pcap-dir", pcaps)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.IntN(1500)) * time.Millisecond)
		sig := os.Interrupt
		if i%4 == 3 {
			sig = syscall.SIGTERM
		}
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("run %d did not end within 15 s of %v", i, sig)
		}
		if left := namespacesOf(cmd.Process.Pid); len(left) > 0 {
			t.Errorf("run %d (%v) left namespaces %v", i, sig, left)
		}
	}
	if out, _ := exec.Command("ip", "-o", "link", "show", "type", "tun").Output(); len(out) > 0 {
		t.Errorf("TUN devices in the host namespace:\n%s", out)
	}
	after, err := hoststate.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("the host's network changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// namespacesOf lists the namespace names a process created.
func namespacesOf(pid int) []string {
	entries, _ := os.ReadDir("/run/netns")
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tcpconform-"+strconv.Itoa(pid)+"-") {
			out = append(out, e.Name())
		}
	}
	return out
}
