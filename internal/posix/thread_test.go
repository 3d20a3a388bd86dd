package posix

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Names of namespaces whose process is gone are reaped; those of live
// processes and names not the harness's are left.
func TestReapLeftovers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("naming network namespaces under /run/netns needs root")
	}
	if err := os.MkdirAll(NetnsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A name whose owner is gone (pid 2^22 is beyond pid_max's default
	// range of live pids here) and one whose owner is this process.
	dead := filepath.Join(NetnsDir, NetnsPrefix+"4194304-1")
	live := filepath.Join(NetnsDir, NetnsPrefix+strconv.Itoa(os.Getpid())+"-999999")
	other := filepath.Join(NetnsDir, "not-ours-"+strconv.Itoa(os.Getpid()))
	for _, p := range []string{dead, live, other} {
		if err := os.WriteFile(p, nil, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	defer os.Remove(live)
	defer os.Remove(other)
	reaped, err := ReapLeftovers()
	if err != nil {
		t.Fatal(err)
	}
	if len(reaped) != 1 || reaped[0] != filepath.Base(dead) {
		t.Errorf("reaped %v", reaped)
	}
	for p, want := range map[string]bool{dead: false, live: true, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", p, err == nil, want)
		}
	}
}
