//go:build linux

package main

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Linux's TCP states (include/net/tcp_states.h) in RFC 9293 spelling.
// TCP_NEW_SYN_RECV (12), a request socket, is a connection in SYN-RECEIVED;
// /proc/net/tcp shows request sockets as 3 anyway.
var linuxStates = map[int]string{
	1:  "ESTABLISHED",
	2:  "SYN-SENT",
	3:  "SYN-RECEIVED",
	4:  "FIN-WAIT-1",
	5:  "FIN-WAIT-2",
	6:  "TIME-WAIT",
	7:  "CLOSED",
	8:  "CLOSE-WAIT",
	9:  "LAST-ACK",
	10: "LISTEN",
	11: "CLOSING",
	12: "SYN-RECEIVED",
}

const linuxListen = 10

// tcpRow is one line of /proc/net/tcp or /proc/net/tcp6.
type tcpRow struct {
	local, remote netip.AddrPort
	state         int
}

// parseTCPRow reads one table line:
//
//	0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 12345 …
//
// It reports false for the header and anything else it cannot read.
func parseTCPRow(line string) (tcpRow, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasSuffix(f[0], ":") {
		return tcpRow{}, false
	}
	l, err1 := parseHexAddrPort(f[1])
	r, err2 := parseHexAddrPort(f[2])
	st, err3 := strconv.ParseUint(f[3], 16, 8)
	if err1 != nil || err2 != nil || err3 != nil {
		return tcpRow{}, false
	}
	return tcpRow{local: l, remote: r, state: int(st)}, true
}

// parseHexAddrPort reads "0100007F:1F90" or its 32-digit IPv6 form. The
// kernel prints the address as 32-bit words in the host's byte order, the
// port as a big-endian number.
func parseHexAddrPort(s string) (netip.AddrPort, error) {
	a, p, found := strings.Cut(s, ":")
	if !found {
		return netip.AddrPort{}, errors.New("no port in " + s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	raw, err := hex.DecodeString(a)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if len(raw) != 4 && len(raw) != 16 {
		return netip.AddrPort{}, errors.New("bad address length in " + s)
	}
	var b [16]byte
	for i := 0; i < len(raw); i += 4 {
		w := binary.BigEndian.Uint32(raw[i:]) // the word as printed
		binary.NativeEndian.PutUint32(b[i:], w)
	}
	var addr netip.Addr
	if len(raw) == 4 {
		addr = netip.AddrFrom4([4]byte(b[:4]))
	} else {
		addr = netip.AddrFrom16(b)
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// findState looks the connection up in rows. With a remote address it
// wants that exact connection; without (remote invalid) the listener on
// the local port whose address is local's or a wildcard, an exact one
// first. IPv4 connections show in tcp6 as v4-mapped addresses, so
// addresses are compared unmapped.
func findState(rows []tcpRow, local, remote netip.AddrPort) (int, bool) {
	la := local.Addr().Unmap()
	if remote.IsValid() {
		ra := remote.Addr().Unmap()
		for _, r := range rows {
			if r.state != linuxListen && r.local.Port() == local.Port() && r.remote.Port() == remote.Port() &&
				r.local.Addr().Unmap() == la && r.remote.Addr().Unmap() == ra {
				return r.state, true
			}
		}
		return 0, false
	}
	wild := -1
	for _, r := range rows {
		if r.state != linuxListen || r.local.Port() != local.Port() {
			continue
		}
		ra := r.local.Addr().Unmap()
		if ra == la {
			return r.state, true
		}
		// 0.0.0.0 takes IPv4 only; :: (unless IPV6_V6ONLY, which the
		// table does not show) both families.
		if ra.IsUnspecified() && (ra.Is6() || la.Is4()) && wild < 0 {
			wild = r.state
		}
	}
	return wild, wild >= 0
}

// readTCPTables reads tcp and tcp6 in dir; a missing table (no IPv6)
// counts as empty.
func readTCPTables(dir string) ([]tcpRow, error) {
	var rows []tcpRow
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if r, ok := parseTCPRow(line); ok {
				rows = append(rows, r)
			}
		}
	}
	return rows, nil
}

func (s *server) doState(args []string) result {
	const usage = "usage: state LADDR LPORT RADDR RPORT | state LADDR LPORT -"
	if len(args) != 3 && len(args) != 4 || len(args) == 3 && args[2] != "-" {
		return fail(syscall.EINVAL, usage)
	}
	local, err := parseAddrPort(args[0], args[1])
	if err != nil {
		return fail(syscall.EINVAL, usage)
	}
	var remote netip.AddrPort
	if len(args) == 4 {
		if remote, err = parseAddrPort(args[2], args[3]); err != nil {
			return fail(syscall.EINVAL, usage)
		}
	}
	// /proc/thread-self/net is the reading thread's namespace's.
	var rows []tcpRow
	s.inNetns(func() { rows, err = readTCPTables(s.opts.ProcNet) })
	if err != nil {
		return fail(errnoOf(err), "reading the TCP tables")
	}
	st, found := findState(rows, local, remote)
	if !found {
		return fail(syscall.ENOENT, "no such connection")
	}
	name, known := linuxStates[st]
	if !known {
		return fail(syscall.EIO, "unknown Linux TCP state "+strconv.Itoa(st))
	}
	return ok(name)
}

func parseAddrPort(addr, port string) (netip.AddrPort, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a.WithZone(""), uint16(p)), nil
}
