package injector

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tcpconform/tcpconform/wire"
)

func TestReadSettings(t *testing.T) {
	dir := t.TempDir()
	helper := "#!/bin/bash\n# comment\nip tcp_metrics flush all > /dev/null 2>&1\n" +
		"sysctl -q net.ipv4.tcp_rmem=\"4096 540000 $((15*1024*1024))\"\nsysctl -q net.ipv4.tcp_sack=1\n"
	if err := os.WriteFile(filepath.Join(dir, "defaults.sh"), []byte(helper), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &scriptRun{dir: dir, t: &T{target: "test"}}
	got, err := r.readSettings("defaults.sh; sysctl -w net.ipv4.tcp_syn_retries=2 \\\n net.ipv4.tcp_timestamps=1 # why\n"+
		"echo 0 > /proc/sys/net/ipv4/tcp_sack\n../x/set_sysctls.py /proc/sys/net/ipv4/tcp_wmem=\"1 2 3\" /proc/sys/net/core/somaxconn=9", dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []setting{
		{"net.ipv4.tcp_rmem", "4096 540000 15728640"},
		{"net.ipv4.tcp_sack", "1"},
		{"net.ipv4.tcp_syn_retries", "2"},
		{"net.ipv4.tcp_timestamps", "1"},
		{"net.ipv4.tcp_sack", "0"},
		{"net.ipv4.tcp_wmem", "1 2 3"},
		{"net.core.somaxconn", "9"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings\n got  %v\n want %v", got, want)
	}
	for cmd, msg := range map[string]string{
		"tc qdisc add dev tun0 root fq": `"tc qdisc add dev tun0 root fq" cannot run on target test`,
		"sysctl net.ipv4.tcp_sack":      `reading a sysctl ("net.ipv4.tcp_sack") is not supported`,
		"sysctl -q a=$((1/2))":          "", // not arithmetic we evaluate: kept as text
		"nosuchfile.sh":                 `"nosuchfile.sh" cannot run on target test`,
		"sysctl -q a=\"$((2*x))\"":      "",
	} {
		_, err := r.readSettings(cmd, dir, 0)
		if msg == "" {
			continue
		}
		if err == nil || err.Error() != msg {
			t.Errorf("%q: %v, want %q", cmd, err, msg)
		}
	}
}

func TestTSMap(t *testing.T) {
	var m tsMap
	if _, ok := m.toLive(5); ok {
		t.Error("no outbound TS val named yet, yet an echo was inferred")
	}
	if v, ok := m.toLive(0); !ok || v != 0 {
		t.Error("an echo of 0 needs no mapping")
	}
	m.learn(100, 9000)
	m.learn(150, 9050)
	if v, _ := m.toLive(150); v != 9050 {
		t.Errorf("echo of 150 = %d, want 9050", v)
	}
	if v, _ := m.toLive(120); v != 9020 {
		t.Errorf("echo of an unseen 120 = %d, want 9020 (from 100)", v)
	}
	if _, ok := m.toLive(99); ok {
		t.Error("an echo below every named value cannot be inferred")
	}
}

func TestCodeStatements(t *testing.T) {
	got := statements("print(tcpi_snd_cwnd); assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd # why\n# note\nassert (a ==\n  b)\nassert c \\\n == d")
	if !reflect.DeepEqual(got, []string{"print(tcpi_snd_cwnd)", "assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd", "assert (a ==   b)", "assert c   == d"}) {
		t.Errorf("statements %q", got)
	}
	cond, msg := splitTopLevelComma(`max(a, b) < 3, "x, y"`)
	if cond != "max(a, b) < 3" || msg != `"x, y"` {
		t.Errorf("split %q / %q", cond, msg)
	}
}

func TestAceFlags(t *testing.T) {
	if aceFlags(-1) != 0 || aceFlags(5) != aceFlags(4)|aceFlags(1) || aceFlags(7).String() != "EWe" {
		t.Errorf("ACE 5 = %v, ACE 7 = %v", aceFlags(5), aceFlags(7))
	}
}

// A flow label the script writes is a name for the stack's label: the same
// name must keep the same label, a new name must bring a new one.
func TestFlowLabels(t *testing.T) {
	six := func(label uint32) wire.Segment {
		return wire.Segment{IP: wire.IP{Src: netip.MustParseAddr("2001:db8::1"), FlowLabel: label}}
	}
	u := func(v uint32) *uint32 { return &v }
	var m flowLabels
	steps := []struct {
		want *uint32
		live wire.Segment
		msg  string
	}{
		{nil, six(0x5), ""},
		{u(1), six(0), "flow label: the script expects one, and the packet carries none"},
		{u(1), six(0xabc), ""},
		{u(1), six(0xabc), ""},
		{u(1), six(0xdef), "flow label: want the same label as before (0xabc), got 0xdef"},
		{u(2), six(0xabc), "flow label: want a new label, got the one before (0xabc)"},
		{u(2), six(0x123), ""},
		{u(2), six(0x123), ""},
		{u(3), wire.Segment{IP: wire.IP{Src: netip.MustParseAddr("192.0.2.1")}}, ""},
	}
	for i, s := range steps {
		if got := m.check(s.want, s.live); got != s.msg {
			t.Errorf("step %d: %q, want %q", i, got, s.msg)
		}
	}
}
