package netstack

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/tcpconform/tcpconform/targets"
)

func newInstance(t *testing.T) *instance {
	t.Helper()
	inst, err := Target{}.New(context.Background(), targets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	return inst.(*instance)
}

func TestSysctlsReachTheStack(t *testing.T) {
	in := newInstance(t)
	for _, kv := range [][2]string{
		{"net.ipv4.tcp_sack", "0"},
		{"net.ipv4.tcp_rmem", "4096 65536 1048576"},
		{"net.ipv4.tcp_congestion_control", "cubic"},
		{"net.ipv4.tcp_timestamps", "1"},
		{"net.ipv4.tcp_recovery", "0"},
	} {
		if err := in.SetSysctl(kv[0], kv[1]); err != nil {
			t.Fatalf("%s=%s: %v", kv[0], kv[1], err)
		}
	}
	var sack tcpip.TCPSACKEnabled
	var rmem tcpip.TCPReceiveBufferSizeRangeOption
	var cc tcpip.CongestionControlOption
	var rec tcpip.TCPRecovery
	for _, o := range []tcpip.GettableTransportProtocolOption{&sack, &rmem, &cc, &rec} {
		if err := in.s.TransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			t.Fatal(err)
		}
	}
	if sack || rmem.Max != 1048576 || rmem.Default != 65536 || cc != "cubic" || rec != 0 {
		t.Errorf("stack options: sack %v rmem %+v cc %v recovery %v", sack, rmem, cc, rec)
	}
}

func TestSysctlsWithoutEquivalentAreUnsupported(t *testing.T) {
	in := newInstance(t)
	for _, kv := range [][2]string{
		{"net.ipv4.tcp_frto", "2"},
		{"net.ipv4.tcp_syn_retries", "3"},
		{"net.ipv4.tcp_timestamps", "0"},
		{"net.ipv4.tcp_congestion_control", "bbr"},
	} {
		err := in.SetSysctl(kv[0], kv[1])
		if !errors.Is(err, targets.ErrUnsupported) {
			t.Errorf("%s=%s: %v, want ErrUnsupported", kv[0], kv[1], err)
		}
	}
	if err := in.SetSysctl("net.ipv4.tcp_sack", "yes"); err == nil || errors.Is(err, targets.ErrUnsupported) || !strings.Contains(err.Error(), `want 0 or 1, got "yes"`) {
		t.Errorf("bad value: %v", err)
	}
}

func TestTCPInfo(t *testing.T) {
	in := newInstance(t)
	so := in.Sockets()
	fd, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM, syscall.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	info, err := in.TCPInfo(fd)
	if err != nil {
		t.Fatal(err)
	}
	if info["tcpi_state"] != 7 || len(info) != 7 {
		t.Errorf("a new socket's info: %v (want tcpi_state 7, CLOSE)", info)
	}
	if _, err := in.TCPInfo(99); err == nil {
		t.Error("TCPInfo of a bad descriptor must fail")
	}
}
