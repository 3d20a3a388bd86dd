package linux

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/internal/hoststate"
	"github.com/tcpconform/tcpconform/internal/posix"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"
)

// need skips a test that needs root and /dev/net/tun where they are missing.
func need(t testing.TB) {
	t.Helper()
	if err := (Target{}).Available(); err != nil {
		t.Skipf("linux target unavailable: %v", err)
	}
}

func newInstance(t testing.TB) *instance {
	t.Helper()
	need(t)
	inst, err := Target{}.New(context.Background(), targets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	return inst.(*instance)
}

// ourNamespaces lists the names this process holds under /run/netns.
func ourNamespaces(t testing.TB) []string {
	entries, _ := os.ReadDir(posix.NetnsDir)
	var out []string
	prefix := posix.NetnsPrefix + fmtInt(os.Getpid()) + "-"
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func fmtInt(n int) string {
	b := []byte{}
	for n > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// hostView is what the host's network looks like from outside.
func hostView(t testing.TB) string {
	v, err := hoststate.Snapshot()
	if err != nil {
		t.Skip(err)
	}
	return v
}

func syn(src, dst uint16) []byte {
	b, err := wire.Encode(wire.Segment{
		IP:      wire.IP{Src: addrs.Peer4, Dst: addrs.Local4, TTL: 64},
		SrcPort: src, DstPort: dst, Flags: wire.SYN, Window: 65535,
		Options: []wire.Option{wire.MSS(1460)},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func TestHandshakeStatesAndCleanup(t *testing.T) {
	need(t)
	before := hostView(t)
	in := newInstance(t)
	so := in.Sockets()
	fd, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM, syscall.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	local := addrPortOf(addrs.Local4, 8080)
	if err := so.Bind(fd, local); err != nil {
		t.Fatal(err)
	}
	if err := so.Listen(fd, 10); err != nil {
		t.Fatal(err)
	}
	if s, ok := in.State(targets.Tuple{Local: local}); !ok || s != state.Listen {
		t.Errorf("listener state %v %v", s, ok)
	}
	// TCP_INFO reports the listener, with the kernel's later fields too.
	info, err := in.TCPInfo(fd)
	if err != nil || info["tcpi_state"] != 10 { // TCP_LISTEN
		t.Errorf("TCP_INFO of the listener: state %d (%v), want 10", info["tcpi_state"], err)
	}
	for _, f := range []string{"tcpi_last_data_recv", "tcpi_rwnd_limited", "tcpi_sndbuf_limited", "tcpi_reord_seen", "tcpi_total_rto"} {
		if _, ok := info[f]; !ok {
			t.Errorf("TCP_INFO lacks %s", f)
		}
	}
	if err := in.link.Inject(syn(40000, 8080)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p, err := in.link.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := wire.Decode(p.Data)
	if err != nil || sa.Flags != wire.SYN|wire.ACK || sa.Ack != 1 {
		t.Fatalf("reply %v (%v)", sa, err)
	}
	remote := addrPortOf(addrs.Peer4, 40000)
	if s, ok := in.State(targets.Tuple{Local: local, Remote: remote}); !ok || s != state.SynReceived {
		t.Errorf("child before accept: %v %v, want SYN-RECEIVED (a request socket, via sock_diag)", s, ok)
	}
	// Shell commands run inside the namespace: it has tun0 and the host
	// does not see it.
	out, err := in.RunShell(context.Background(), "ip -o addr show dev tun0", t.TempDir())
	if err != nil || !strings.Contains(string(out), "192.0.2.1/24") {
		t.Errorf("shell in the namespace: %v\n%s", err, out)
	}
	if err := in.SetSysctl("net.ipv4.tcp_sack", "0"); err != nil {
		t.Fatal(err)
	}
	in.Close()
	WaitClosed()
	if left := ourNamespaces(t); len(left) != 0 {
		t.Errorf("namespaces left after Close: %v", left)
	}
	if after := hostView(t); after != before {
		t.Errorf("the host's network changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestUnsupportedSysctl(t *testing.T) {
	in := newInstance(t)
	if err := in.SetSysctl("net.ipv4.tcp_no_such_knob", "1"); err == nil || !strings.Contains(err.Error(), "this kernel has no such setting") {
		t.Errorf("unknown sysctl: %v", err)
	}
}

// BenchmarkInstance is the fixed cost of a case on this target: namespace,
// TUN, addresses, pinned sysctls, and teardown (the background part of the
// teardown is waited for inside the timing, so it is counted too). It also
// reports the median of New+Close as the next case sees it.
func BenchmarkInstance(b *testing.B) {
	need(b)
	var lat []time.Duration
	begin := time.Now()
	for b.Loop() {
		start := time.Now()
		inst, err := Target{}.New(context.Background(), targets.Config{})
		if err != nil {
			b.Fatal(err)
		}
		inst.Close()
		lat = append(lat, time.Since(start))
	}
	WaitClosed()
	total := time.Since(begin)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(total.Microseconds())/1000/float64(len(lat)), "with-teardown-ms/op")
}

// BenchmarkRoundTrip injects a SYN to a closed port and waits for the RST.
func BenchmarkRoundTrip(b *testing.B) {
	in := newInstance(b)
	ctx := context.Background()
	var lat []time.Duration
	port := uint16(1)
	for b.Loop() {
		port++
		start := time.Now()
		if err := in.link.Inject(syn(port, 9)); err != nil {
			b.Fatal(err)
		}
		if _, err := in.link.Next(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

func addrPortOf(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

// A shell command's background children die with it: the shell is the
// first process of its own PID namespace.
func TestShellChildrenDoNotOutliveTheCommand(t *testing.T) {
	in := newInstance(t)
	start := time.Now()
	out, err := in.RunShell(context.Background(), "sleep 3117 & echo started", t.TempDir())
	if err != nil || strings.TrimSpace(string(out)) != "started" {
		t.Fatalf("RunShell: %v %q", err, out)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("RunShell waited %v for a background child", d)
	}
	time.Sleep(50 * time.Millisecond)
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), "3117") && strings.HasPrefix(string(b), "sleep") {
			t.Errorf("the background child is still running: %s", p)
		}
	}
}

func TestSysctlsOutsideTheNetworkNamespaceAreRefused(t *testing.T) {
	in := newInstance(t)
	for _, name := range []string{"kernel.pid_max", "vm.swappiness", "net.ipv4/../../kernel/pid_max", "net.ipv4.tcp_sack/../x"} {
		if err := in.SetSysctl(name, "1"); err == nil || !strings.Contains(err.Error(), "only net.* settings belong to the namespace") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Scripts name packetdrill's pid as $PPID and PACKETDRILL_PID (the restore
// file /tmp/sysctl_restore_${PPID}.sh): the same number for every command
// of an instance, a different one for each instance running beside it.
func TestShellSeesAPidPerInstance(t *testing.T) {
	ids := map[string]bool{}
	for range 2 {
		in := newInstance(t)
		var first string
		for range 2 {
			out, err := in.RunShell(context.Background(), `echo "$PPID $PACKETDRILL_PID"`, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			f := strings.Fields(string(out))
			if len(f) != 2 || f[0] != f[1] || f[0] == "0" || first != "" && f[0] != first {
				t.Fatalf("got %q, want the same nonzero number twice, as before (%q)", out, first)
			}
			first = f[0]
		}
		ids[first] = true
	}
	if len(ids) != 2 {
		t.Errorf("two live instances share the pid %v", ids)
	}
}

// The namespace's congestion control is cubic where the host allows it, and
// Reno otherwise: never the host's own choice.
func TestCongestionControlIsPinned(t *testing.T) {
	allowed, err := os.ReadFile("/proc/sys/net/ipv4/tcp_allowed_congestion_control")
	if err != nil {
		t.Skipf("no congestion control settings: %v", err)
	}
	want := "reno"
	if slices.Contains(strings.Fields(string(allowed)), "cubic") {
		want = "cubic"
	}
	in := newInstance(t)
	out, err := in.RunShell(context.Background(), "cat /proc/sys/net/ipv4/tcp_congestion_control", t.TempDir())
	if got := strings.TrimSpace(string(out)); err != nil || got != want {
		t.Errorf("namespace runs %q (%v), want %q (host allows %q)", got, err, want, strings.TrimSpace(string(allowed)))
	}
}

// A namespace named while `ip netns add` runs for the first time (as a
// packetdrill runner's in_netns.sh does) can still be unnamed: /run/netns
// is already a mount point of its own, so iproute2 does not mount over it.
func TestNamesOutliveIPNetnsAdd(t *testing.T) {
	need(t)
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("iproute2's ip is not installed")
	}
	inst := newInstance(t)
	other := "tcpconform-test-other-" + fmtInt(os.Getpid())
	if out, err := exec.Command(ip, "netns", "add", other).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	if out, err := exec.Command(ip, "netns", "del", other).CombinedOutput(); err != nil {
		t.Fatalf("ip netns del: %v\n%s", err, out)
	}
	inst.Close()
	if left := ourNamespaces(t); len(left) > 0 {
		t.Errorf("names left after close: %v", left)
	}
}

// Each instance's shell keeps its own nstat history, so scripts running in
// parallel do not take each other's counter increments; it goes with the
// instance.
func TestNstatHistoryPerInstance(t *testing.T) {
	a, b := newInstance(t), newInstance(t)
	var paths []string
	for _, in := range []*instance{a, b} {
		out, err := in.RunShell(context.Background(), "echo $NSTAT_HISTORY; nstat -n 2>/dev/null; true", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, strings.TrimSpace(string(out)))
	}
	if paths[0] == "" || paths[0] == paths[1] {
		t.Fatalf("NSTAT_HISTORY %q", paths)
	}
	a.Close()
	if _, err := os.Stat(paths[0]); !os.IsNotExist(err) {
		t.Errorf("%s left after close: %v", paths[0], err)
	}
}
