package posix

import (
	"net/netip"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
)

// Lines of /proc/net/tcp and tcp6 read as the connections they show; the
// header and garbage do not.
func TestParseProcNetLine(t *testing.T) {
	for _, tt := range []struct {
		line          string
		local, remote string
		state         uint8
	}{
		{"   0: 010200C0:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0", "192.0.2.1:8080", "", 10},
		{"   1: 010200C0:1F90 020200C0:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0", "192.0.2.1:8080", "192.0.2.2:50000", 1},
		{"   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 0", "[::]:80", "", 10},
		{"   0: B80D0120000000000000000001000000:0050 B80D0120000000000000000002000000:9C40 03 0", "[2001:db8::1]:80", "[2001:db8::2]:40000", 3},
		{"   0: 0000000000000000FFFF0000010200C0:0050 0000000000000000FFFF0000020200C0:9C40 06 0", "192.0.2.1:80", "192.0.2.2:40000", 6},
	} {
		e, ok := parseProcNetLine(tt.line)
		want := netip.AddrPort{}
		if tt.remote != "" {
			want = netip.MustParseAddrPort(tt.remote)
		}
		if !ok || e.tuple.Local != netip.MustParseAddrPort(tt.local) || e.tuple.Remote != want || e.state != tt.state {
			t.Errorf("%q: %+v %v, want %s %s %d", tt.line, e, ok, tt.local, tt.remote, tt.state)
		}
	}
	for _, bad := range []string{"  sl  local_address rem_address   st tx_queue", "", "0: zz:1 00000000:0000 0A", "0: 0100007F 00000000:0000 0A"} {
		if e, ok := parseProcNetLine(bad); ok {
			t.Errorf("%q read as %+v", bad, e)
		}
	}
}

// A listener reads as LISTEN through sock_diag and through the fallback,
// in a namespace of the test's own.
func TestStateOfAListenerBothWays(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a network namespace of its own needs root")
	}
	th, err := NewThread()
	if err != nil {
		t.Fatal(err)
	}
	defer th.Stop()
	k := New(th)
	defer k.Release()
	fd, err := k.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Bind(fd, netip.MustParseAddrPort("0.0.0.0:8080")); err != nil {
		t.Fatal(err)
	}
	if err := k.Listen(fd, 1); err != nil {
		t.Fatal(err)
	}
	tuple := targets.Tuple{Local: netip.MustParseAddrPort("192.0.2.1:8080")}
	if s, ok := k.State(tuple); !ok || s != state.Listen {
		t.Errorf("State = %v %v, want LISTEN", s, ok)
	}
	es, err := k.procNetEntries(unix.AF_INET)
	if err != nil || len(es) != 1 || es[0].state != 10 || es[0].tuple.Local.Port() != 8080 || es[0].tuple.Remote.IsValid() {
		t.Errorf("from /proc/net/tcp: %+v %v", es, err)
	}
	if _, ok := k.State(targets.Tuple{Local: netip.MustParseAddrPort("192.0.2.1:8081")}); ok {
		t.Error("a port nobody listens on has a state")
	}
}

// A stack released stays released: a Reset after it does nothing, and
// calls fail with EBADF.
func TestResetAfterRelease(t *testing.T) {
	k := New(Here())
	k.Release()
	k.Reset()
	if err := k.Listen(3, 1); err != unix.EBADF {
		t.Errorf("listen on a released stack: %v, want EBADF", err)
	}
}
