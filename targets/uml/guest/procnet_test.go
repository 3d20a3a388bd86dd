//go:build linux

package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Lines as a little-endian kernel prints them.
const (
	tcpTable = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 547 1 000000006a922006 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 548 1 000000006a922006 100 0 0 10 0
   2: 010200C0:1F90 640200C0:C350 01 00000000:00000000 00:00000000 00000000     0        0 549 1 000000006a922006 20 4 30 10 -1
   3: 010200C0:1F91 640200C0:C351 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
`
	tcp6Table = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0
   1: 00000000000000000000000001000000:A000 00000000000000000000000001000000:A001 02 00000000:00000000 00:00000000 00000000     0        0 2 1 0
   2: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000200007F:D431 08 00000000:00000000 00:00000000 00000000     0        0 3 1 0
   3: B80D0120000000000000000001000000:0050 B80D0120000000000000000002000000:D432 0C 00000000:00000000 00:00000000 00000000     0        0 4 1 0
`
)

func TestParseTCPRow(t *testing.T) {
	for _, tc := range []struct {
		line          string
		local, remote string
		state         int
	}{
		{"   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 548 1 0",
			"127.0.0.1:8080", "0.0.0.0:0", 10},
		{"   2: 010200C0:1F90 640200C0:C350 01 00000000:00000000 00:00000000 00000000     0        0 549 1 0",
			"192.0.2.1:8080", "192.0.2.100:50000", 1},
		{"   1: 00000000000000000000000001000000:A000 00000000000000000000000001000000:A001 02 0",
			"[::1]:40960", "[::1]:40961", 2},
		{"   2: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000200007F:D431 08 0",
			"[::ffff:127.0.0.1]:80", "[::ffff:127.0.0.2]:54321", 8},
		{"   3: B80D0120000000000000000001000000:0050 B80D0120000000000000000002000000:D432 0C 0",
			"[2001:db8::1]:80", "[2001:db8::2]:54322", 12},
	} {
		r, ok := parseTCPRow(tc.line)
		if !ok {
			t.Errorf("%q: not parsed", tc.line)
			continue
		}
		if r.local.String() != tc.local || r.remote.String() != tc.remote || r.state != tc.state {
			t.Errorf("%q: got %v %v %d, want %s %s %d", tc.line, r.local, r.remote, r.state, tc.local, tc.remote, tc.state)
		}
	}
	for _, bad := range []string{
		"",
		"  sl  local_address rem_address   st tx_queue",
		"   0: 0100007F 00000000:0000 0A",
		"   0: 0100007F:1F90 00000000:0000",
		"   0: 01007F:1F90 00000000:0000 0A",
		"   0: 0100007G:1F90 00000000:0000 0A",
	} {
		if r, ok := parseTCPRow(bad); ok {
			t.Errorf("%q parsed as %+v", bad, r)
		}
	}
}

func TestState(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tcp"), []byte(tcpTable), 0o644)
	os.WriteFile(filepath.Join(dir, "tcp6"), []byte(tcp6Table), 0o644)
	c := start(t, serveOptions{IPv4: true, ProcNet: dir})
	for _, tc := range []struct{ req, want string }{
		{"state 192.0.2.1 8080 192.0.2.100 50000", "ok ESTABLISHED"},
		{"state 192.0.2.1 8081 192.0.2.100 50001", "ok TIME-WAIT"},
		{"state 192.0.2.100 50000 192.0.2.1 8080", "err ENOENT no such connection"},
		{"state 127.0.0.1 8080 -", "ok LISTEN"},
		{"state 192.0.2.1 2024 -", "ok LISTEN"}, // 0.0.0.0:2024
		{"state 2001:db8::1 2024 -", "err ENOENT no such connection"},
		{"state 192.0.2.1 8080 -", "err ENOENT no such connection"},
		{"state 2001:db8::1 22 -", "ok LISTEN"}, // [::]:22
		{"state 192.0.2.1 22 -", "ok LISTEN"},
		{"state ::1 40960 ::1 40961", "ok SYN-SENT"},
		{"state 127.0.0.1 80 127.0.0.2 54321", "ok CLOSE-WAIT"},
		{"state ::ffff:127.0.0.1 80 ::ffff:127.0.0.2 54321", "ok CLOSE-WAIT"},
		{"state 2001:db8::1 80 2001:db8::2 54322", "ok SYN-RECEIVED"},
		{"state 2001:db8::1 80 -", "err ENOENT no such connection"},
		{"state 2001:db8::1 80", "err EINVAL usage: state LADDR LPORT RADDR RPORT | state LADDR LPORT -"},
	} {
		if got := c.do(tc.req); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.req, got, tc.want)
		}
	}
}

func TestFindStatePrefersExactListener(t *testing.T) {
	rows := []tcpRow{
		{local: netip.MustParseAddrPort("[::]:80"), remote: netip.MustParseAddrPort("[::]:0"), state: linuxListen},
		{local: netip.MustParseAddrPort("192.0.2.1:80"), remote: netip.MustParseAddrPort("0.0.0.0:0"), state: linuxListen},
	}
	if _, ok := findState(rows, netip.MustParseAddrPort("192.0.2.1:80"), netip.AddrPort{}); !ok {
		t.Fatal("no listener found")
	}
	if _, ok := findState(rows[1:], netip.MustParseAddrPort("192.0.2.2:80"), netip.AddrPort{}); ok {
		t.Error("a listener on another address matched")
	}
}

func TestStateNames(t *testing.T) {
	// Every name must be one the harness's state.Parse accepts; spelled
	// out here, as the agent builds without the module.
	valid := "LISTEN SYN-SENT SYN-RECEIVED ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 CLOSE-WAIT CLOSING LAST-ACK TIME-WAIT CLOSED"
	for n := 1; n <= 12; n++ {
		name, ok := linuxStates[n]
		if !ok || !strings.Contains(" "+valid+" ", " "+name+" ") {
			t.Errorf("Linux state %d: %q", n, name)
		}
	}
}

func TestParseParams(t *testing.T) {
	p, errs := parseParams("console=tty0 quiet tcpconform.ip4=192.0.2.1/24 tcpconform.ip6=2001:db8::1/64 tcpconform.peer=192.0.2.2,02:00:00:00:00:01 tcpconform.bogus=1\n")
	if p.ip4 != "192.0.2.1/24" || p.ip6 != "2001:db8::1/64" || p.ctl != "/dev/ttyS0" || p.peer != "192.0.2.2,02:00:00:00:00:01" || p.nic != "" {
		t.Errorf("parsed %+v", p)
	}
	if len(errs) != 1 {
		t.Errorf("errors %v, want one for tcpconform.bogus", errs)
	}
	p, _ = parseParams("tcpconform.ctl=/dev/ttyS1 tcpconform.nic=vec0")
	if p.ctl != "/dev/ttyS1" || p.nic != "vec0" || p.ip4 != "" {
		t.Errorf("parsed %+v", p)
	}
	if hw, err := parseMAC("02:00:0a:ff:00:01"); err != nil || hw != [6]byte{2, 0, 0xa, 0xff, 0, 1} {
		t.Errorf("parseMAC: %x %v", hw, err)
	}
	if _, err := parseMAC("02:00:0a:ff:00"); err == nil {
		t.Error("parseMAC took five bytes")
	}
}
