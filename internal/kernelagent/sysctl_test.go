package kernelagent

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tcpconform/tcpconform/targets"
)

// Knobs are written in the stack's namespace, or in the agent's own when
// the stack's has no such knob (the global ones), and restored where they
// were written.
func TestSysctlViews(t *testing.T) {
	dir := t.TempDir()
	path := func(rel string) string { return filepath.Join(dir, rel) }
	for rel, v := range map[string]string{"net/ipv4/tcp_sack": "1", "net/core/rmem_max": "212992"} {
		if err := os.MkdirAll(filepath.Dir(path(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path(rel), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(rel string) string {
		b, _ := os.ReadFile(path(rel))
		return string(b)
	}
	// The stack's namespace is simulated: net/core is hidden in it.
	var inside int
	netns := func(f func() error) error {
		inside++
		if err := os.Rename(path("net/core"), path("core-aside")); err != nil {
			t.Fatal(err)
		}
		defer os.Rename(path("core-aside"), path("net/core"))
		return f()
	}
	c := &sysctls{dir: dir, netns: netns, saved: map[string]string{}, global: true}
	if err := c.set("net.ipv4.tcp_sack", "0"); err != nil || inside != 1 || read("net/ipv4/tcp_sack") != "0\n" {
		t.Fatalf("tcp_sack: %v, %d calls in the namespace, value %q", err, inside, read("net/ipv4/tcp_sack"))
	}
	if err := c.set("net.core.rmem_max", "4096"); err != nil || inside != 2 || read("net/core/rmem_max") != "4096\n" {
		t.Fatalf("a knob of the first namespace only: %v, %d calls in the namespace, value %q", err, inside, read("net/core/rmem_max"))
	}
	if err := c.set("net.ipv4.no_such_knob", "1"); !errors.Is(err, targets.ErrUnsupported) {
		t.Fatalf("a missing knob: %v, want unsupported", err)
	}
	if err := c.set("net/../../etc/passwd", "1"); err == nil {
		t.Fatalf("a name leaving the directory was taken")
	}
	local := &sysctls{dir: dir, netns: netns, saved: map[string]string{}}
	if err := local.set("net.core.rmem_max", "8192"); !errors.Is(err, targets.ErrUnsupported) || read("net/core/rmem_max") != "4096\n" {
		t.Fatalf("a knob outside the namespace, not global: %v, value %q", err, read("net/core/rmem_max"))
	}
	if errs := c.restore(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if read("net/ipv4/tcp_sack") != "1\n" || read("net/core/rmem_max") != "212992\n" {
		t.Fatalf("after restore: tcp_sack %q, rmem_max %q", read("net/ipv4/tcp_sack"), read("net/core/rmem_max"))
	}
}
