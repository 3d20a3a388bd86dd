//go:build linux

package guestinit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/tcpconform/tcpconform/internal/kernelagent"
)

// setupNetwork brings up lo and the NIC with the addresses in p, in the
// agent's own network namespace, and reports which families got their
// address. Failures are logged; the agent serves anyway, so that the
// harness hears what went wrong. It is the set-up when the stack cannot
// have a namespace per case (see netns).
func setupNetwork(p params) (ipv4, ipv6 bool) {
	nic := p.nic
	if nic == "" {
		nic = findNIC("/sys/class/net")
	}
	if nic == "" {
		logf("no network interface besides lo")
	}

	quietIPv6("all", "default", nic)
	if p.ip6 == "" && nic != "" {
		setKnob("net/ipv6/conf/"+nic+"/disable_ipv6", "1")
	}

	s4, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		logf("no AF_INET socket for ioctls: %v", err)
		return false, false
	}
	defer syscall.Close(s4)
	if err := ifUp(s4, "lo"); err != nil {
		logf("lo: %v", err)
	}
	if nic == "" {
		return false, false
	}
	nl, err := openRtnl()
	if err != nil {
		logf("%v", err) // IPv6 fails; IPv4 goes on
	} else {
		defer nl.close()
	}
	ipv4, ipv6, errs := configureStack(s4, nl, nic, p)
	for _, err := range errs {
		logf("%v", err)
	}
	waitOperUp(nic, 5*time.Second)
	if ipv6 {
		if err := waitAddrUsable(p.ip6, 5*time.Second); err != nil {
			logf("%s: %v", nic, err)
		}
	}
	return ipv4, ipv6
}

// quietIPv6 turns off duplicate address detection, router solicitations
// and autoconfiguration for the devices ("all", "default" or a name), so
// that addresses are usable at once and the link stays quiet. The files are
// missing without IPv6. Knobs under /proc/sys/net are those of the calling
// thread's network namespace.
func quietIPv6(devs ...string) {
	for _, dev := range devs {
		if dev == "" {
			continue
		}
		for _, knob := range []string{"accept_dad", "router_solicitations", "autoconf", "accept_ra"} {
			setKnob("net/ipv6/conf/"+dev+"/"+knob, "0")
		}
	}
}

// configureStack gives the device the addresses in p (and the permanent
// ARP entry) and brings it up; s is an AF_INET socket and nl a netlink
// socket of the device's network namespace. It reports which families got
// their address, and what failed.
func configureStack(s int, nl *rtnl, dev string, p params) (ipv4, ipv6 bool, errs []error) {
	if p.ip4 != "" {
		if err := setIPv4(s, dev, p.ip4); err != nil {
			errs = append(errs, fmt.Errorf("%s: IPv4 address %s: %w", dev, p.ip4, err))
		} else {
			ipv4 = true
		}
	}
	if err := ifUp(s, dev); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", dev, err))
	}
	if p.ip6 != "" {
		if err := setIPv6(s, nl, dev, p.ip6); err != nil {
			errs = append(errs, fmt.Errorf("%s: IPv6 address %s: %w", dev, p.ip6, err))
		} else {
			ipv6 = true
		}
	}
	if p.peer != "" {
		if err := setARP(s, dev, p.peer); err != nil {
			errs = append(errs, fmt.Errorf("%s: ARP entry %s: %w", dev, p.peer, err))
		}
	}
	return ipv4, ipv6, errs
}

// findNIC is the first Ethernet interface (type 1) other than lo in dir
// (/sys/class/net), in name order; tunnels such as sit0 do not count.
func findNIC(dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		logf("reading %s: %v", dir, err)
		return ""
	}
	for _, e := range ents {
		if e.Name() == "lo" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "type"))
		if err == nil && strings.TrimSpace(string(b)) == "1" {
			return e.Name()
		}
	}
	return ""
}

// setKnob writes a /proc/sys file given by its path under /proc/sys; a
// missing one is skipped silently. Under net/ it is the calling thread's
// network namespace's knob. It reports whether the knob took the value.
func setKnob(rel, value string) bool {
	err := kernelagent.WriteKnob("/proc/sys/"+rel, value)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		logf("sysctl %s=%s: %v", rel, value, err)
	}
	return err == nil
}

// ifreq is struct ifreq: a name and a 24-byte union.
type ifreq struct {
	name [16]byte
	data [24]byte
}

func newIfreq(name string) (*ifreq, error) {
	var r ifreq
	if len(name) >= len(r.name) {
		return nil, fmt.Errorf("interface name %q too long", name)
	}
	copy(r.name[:], name)
	return &r, nil
}

// putSockaddr4 stores a struct sockaddr_in in the union.
func (r *ifreq) putSockaddr4(a netip.Addr) {
	r.data = [24]byte{}
	binary.NativeEndian.PutUint16(r.data[0:], syscall.AF_INET)
	b := a.As4()
	copy(r.data[4:8], b[:])
}

// ifUp sets IFF_UP and IFF_RUNNING on the interface.
func ifUp(s int, name string) error {
	r, err := newIfreq(name)
	if err != nil {
		return err
	}
	if err := ioctl(s, syscall.SIOCGIFFLAGS, unsafe.Pointer(r)); err != nil {
		return fmt.Errorf("SIOCGIFFLAGS: %w", err)
	}
	flags := binary.NativeEndian.Uint16(r.data[0:])
	flags |= syscall.IFF_UP | syscall.IFF_RUNNING
	binary.NativeEndian.PutUint16(r.data[0:], flags)
	if err := ioctl(s, syscall.SIOCSIFFLAGS, unsafe.Pointer(r)); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS: %w", err)
	}
	return nil
}

// setIPv4 gives the interface an IPv4 address and netmask ("192.0.2.1/24").
func setIPv4(s int, name, prefix string) error {
	pfx, err := netip.ParsePrefix(prefix)
	if err != nil || !pfx.Addr().Is4() {
		return fmt.Errorf("not an IPv4 ADDR/LEN")
	}
	r, err := newIfreq(name)
	if err != nil {
		return err
	}
	r.putSockaddr4(pfx.Addr())
	if err := ioctl(s, syscall.SIOCSIFADDR, unsafe.Pointer(r)); err != nil {
		return fmt.Errorf("SIOCSIFADDR: %w", err)
	}
	var mask [4]byte
	binary.BigEndian.PutUint32(mask[:], ^uint32(0)<<(32-pfx.Bits()))
	if pfx.Bits() == 0 {
		mask = [4]byte{}
	}
	r.putSockaddr4(netip.AddrFrom4(mask))
	if err := ioctl(s, syscall.SIOCSIFNETMASK, unsafe.Pointer(r)); err != nil {
		return fmt.Errorf("SIOCSIFNETMASK: %w", err)
	}
	return nil
}

// setIPv6 adds an IPv6 address ("2001:db8::1/64") to the interface through
// nl; s is any socket of the interface's namespace, for SIOCGIFINDEX. The
// address is added without duplicate address detection (IFA_F_NODAD); it
// is usable a little later (see waitAddrUsable).
func setIPv6(s int, nl *rtnl, name, prefix string) error {
	pfx, err := netip.ParsePrefix(prefix)
	if err != nil || !pfx.Addr().Is6() || pfx.Addr().Is4In6() {
		return fmt.Errorf("not an IPv6 ADDR/LEN")
	}
	index, err := ifIndex(s, name)
	if err != nil {
		return err
	}
	if nl == nil {
		return errors.New("no netlink socket")
	}
	if err := nl.request(func(seq uint32) []byte { return newAddr6Request(seq, index, pfx) }); err != nil {
		return fmt.Errorf("RTM_NEWADDR: %w", err)
	}
	return nil
}

// arpreq is struct arpreq.
type arpreq struct {
	pa      [16]byte // struct sockaddr: the protocol address
	ha      [16]byte // the hardware address
	flags   int32
	netmask [16]byte
	dev     [16]byte
}

// ARP flags (net/if_arp.h).
const (
	atfCom  = 0x2
	atfPerm = 0x4
)

// setARP adds a permanent ARP entry from "IP,MAC".
func setARP(s int, nic, spec string) error {
	ip, mac, found := strings.Cut(spec, ",")
	a, err := netip.ParseAddr(ip)
	if !found || err != nil || !a.Is4() {
		return fmt.Errorf("want IPv4,MAC")
	}
	hw, err := parseMAC(mac)
	if err != nil {
		return err
	}
	var r arpreq
	binary.NativeEndian.PutUint16(r.pa[0:], syscall.AF_INET)
	b := a.As4()
	copy(r.pa[4:8], b[:])
	binary.NativeEndian.PutUint16(r.ha[0:], syscall.ARPHRD_ETHER)
	copy(r.ha[2:8], hw[:])
	r.flags = atfCom | atfPerm
	copy(r.dev[:len(r.dev)-1], nic)
	if err := ioctl(s, syscall.SIOCSARP, unsafe.Pointer(&r)); err != nil {
		return fmt.Errorf("SIOCSARP: %w", err)
	}
	return nil
}

func parseMAC(s string) ([6]byte, error) {
	var hw [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return hw, fmt.Errorf("bad MAC address %q", s)
	}
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) > 2 {
			return hw, fmt.Errorf("bad MAC address %q", s)
		}
		hw[i] = byte(v)
	}
	return hw, nil
}

// waitOperUp waits until the interface's operstate is up (or unknown, for
// drivers that do not report one), at most max.
func waitOperUp(nic string, max time.Duration) {
	path := "/sys/class/net/" + nic + "/operstate"
	deadline := time.Now().Add(max)
	last := ""
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			logf("%s: %v", path, err)
			return
		}
		last = strings.TrimSpace(string(b))
		if last == "up" || last == "unknown" {
			return
		}
		if time.Now().After(deadline) {
			logf("%s: operstate still %q after %v; going on", nic, last, max)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}
