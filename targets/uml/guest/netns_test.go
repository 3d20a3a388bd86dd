//go:build linux

package main

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
)

// The namespace's thread is one OS thread that runs nothing but the calls
// given to it, and it ends with stop. (No namespace is made here: unshare
// and moving links stay out of tests on the host.)
func TestNetnsThread(t *testing.T) {
	n := &netns{calls: make(chan func())}
	go n.thread()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	caller := syscall.Gettid()
	var tids []int
	for i := 0; i < 20; i++ {
		n.do(func() { tids = append(tids, syscall.Gettid()) })
		runtime.Gosched()
	}
	tid := tids[0]
	for _, x := range tids {
		if x != tid {
			t.Fatalf("calls ran on threads %v, want one", tids)
		}
	}
	if tid == caller {
		t.Fatalf("calls ran on the caller's thread %d", caller)
	}
	task := "/proc/self/task/" + strconv.Itoa(tid)
	if _, err := os.Stat(task); err != nil {
		t.Fatalf("the namespace's thread: %v", err)
	}
	n.stop()
	// Whether the thread then ends is the runtime's affair: a locked
	// goroutine that exits on the process's main thread leaves it wedged,
	// not gone.
}

// With a namespace per case, knobs are written in the stack's namespace,
// or in the agent's own when the stack's has no such knob (the global
// ones), and restored where they were written.
func TestSysctlViews(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, v string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	write("net/ipv4/tcp_sack", "1")
	write("net/core/rmem_max", "212992")
	// The stack's namespace is simulated: net/core is hidden in it.
	hidden := filepath.Join(dir, "net", "core")
	aside := filepath.Join(dir, "core-aside")
	var inside int
	inNetns := func(f func()) {
		inside++
		if err := os.Rename(hidden, aside); err != nil {
			t.Fatal(err)
		}
		defer os.Rename(aside, hidden)
		f()
	}
	c := &sysctls{dir: dir, inNetns: inNetns, saved: map[string]string{}}

	if err := c.set("net.ipv4.tcp_sack", "0"); err != nil {
		t.Fatal(err)
	}
	if inside != 1 || read("net/ipv4/tcp_sack") != "0\n" {
		t.Fatalf("tcp_sack: %d calls in the namespace, value %q", inside, read("net/ipv4/tcp_sack"))
	}
	if err := c.set("net.core.rmem_max", "4096"); err != nil {
		t.Fatalf("a knob of the first namespace only: %v", err)
	}
	if inside != 2 || read("net/core/rmem_max") != "4096\n" {
		t.Fatalf("rmem_max: %d calls in the namespace, value %q", inside, read("net/core/rmem_max"))
	}
	if err := c.set("net.ipv4.no_such_knob", "1"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing knob: %v", err)
	}
	if errs := c.restore(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if read("net/ipv4/tcp_sack") != "1\n" || read("net/core/rmem_max") != "212992\n" {
		t.Fatalf("after restore: tcp_sack %q, rmem_max %q", read("net/ipv4/tcp_sack"), read("net/core/rmem_max"))
	}
}

// A zone is looked up in the socket's own namespace, not in sysfs.
func TestZoneIndex(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no IPv6: %v", err)
	}
	defer syscall.Close(fd)
	b, err := os.ReadFile("/sys/class/net/lo/ifindex")
	if err != nil {
		t.Skip(err)
	}
	want, _ := strconv.Atoi(string(b[:len(b)-1]))
	if got := zoneIndex(fd, "lo"); int(got) != want {
		t.Errorf("zoneIndex(lo) = %d, want %d", got, want)
	}
	if got := zoneIndex(fd, "7"); got != 7 {
		t.Errorf("zoneIndex(7) = %d", got)
	}
	if got := zoneIndex(fd, "no-such-if"); got != 0 {
		t.Errorf("zoneIndex(no-such-if) = %d", got)
	}
}

func TestHasLocalRoute6(t *testing.T) {
	// /proc/net/ipv6_route of a guest namespace: the prefix route, the
	// local route of 2001:db8::1 (RTF_LOCAL|RTF_NONEXTHOP|RTF_UP), the
	// link-local's, multicast and lo.
	table := `20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     vec0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     vec0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
20010db8000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001     vec0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     vec0
`
	for _, c := range []struct {
		table, addr string
		want        bool
	}{
		{table, "2001:db8::1", true},
		{table, "::1", true},
		{table, "2001:db8::2", false},
		{table, "2001:db8::", false}, // the prefix route is no local route
		{"", "2001:db8::1", false},
		// A /128 route to the address that is not local (RTF_UP only).
		{"20010db8000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000001 00000000 00000001     vec0\n", "2001:db8::1", false},
	} {
		if got := hasLocalRoute6(c.table, netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("hasLocalRoute6(%s) = %v in\n%s", c.addr, got, c.table)
		}
	}
}
