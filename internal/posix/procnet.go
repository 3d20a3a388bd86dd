package posix

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// procNetEntries reads the namespace's TCP sockets of one family from
// /proc/net/tcp (AF_INET) or tcp6 (AF_INET6), as seen from the stack's
// thread: the fallback for kernels built without sock_diag's inet module
// (Debian's User-mode Linux). The table shows request sockets (SYN-RECEIVED
// before accept) with state 3.
func (k *Stack) procNetEntries(family uint8) ([]diagEntry, error) {
	name := "tcp"
	if family == unix.AF_INET6 {
		name = "tcp6"
	}
	var b []byte
	err := k.th.Do(func() error {
		var err error
		b, err = os.ReadFile("/proc/thread-self/net/" + name)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []diagEntry
	for _, line := range strings.Split(string(b), "\n") {
		if e, ok := parseProcNetLine(line); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// parseProcNetLine reads one line of the table,
//
//	0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 ...
//
// and reports false for the header or anything it cannot read.
func parseProcNetLine(line string) (diagEntry, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasSuffix(f[0], ":") {
		return diagEntry{}, false
	}
	local, err1 := parseProcNetAddr(f[1])
	remote, err2 := parseProcNetAddr(f[2])
	st, err3 := strconv.ParseUint(f[3], 16, 8)
	if err1 != nil || err2 != nil || err3 != nil {
		return diagEntry{}, false
	}
	e := diagEntry{state: uint8(st)}
	e.tuple.Local = local
	if remote.Port() != 0 {
		e.tuple.Remote = remote
	}
	return e, true
}

// parseProcNetAddr reads "0100007F:1F90" or its 32-digit IPv6 form: the
// address as 32-bit words printed in the host's byte order, then the port
// as a number. Mapped IPv4 addresses come back unmapped.
func parseProcNetAddr(s string) (netip.AddrPort, error) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if !ok || err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port in %q", s)
	}
	raw, err := hex.DecodeString(hexAddr)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address in %q", s)
	}
	var b [16]byte
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	addr := netip.AddrFrom16(b).Unmap()
	if len(raw) == 4 {
		addr = netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}
