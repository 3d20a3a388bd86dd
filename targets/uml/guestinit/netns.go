//go:build linux

package guestinit

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/tcpconform/tcpconform/internal/posix"
)

// netns gives the stack a fresh network namespace for every case, so that
// nothing of the last case survives: not its sockets, which reset closes,
// but neither what the kernel keeps after a close (TIME-WAIT, orphaned
// connections in FIN-WAIT, CLOSING or LAST-ACK, which keep their ports
// bound and retransmit) nor routes, neighbour and TCP metrics caches and
// per-namespace sysctls. Linux cannot destroy those sockets one by one
// (CONFIG_INET_DIAG_DESTROY is not set in the guest), but they all go with
// their namespace.
//
// The NIC itself stays in the first namespace, up, without addresses: it is
// the wire. Moving it into a new namespace would close and reopen it, and
// UML's vector driver then drops its connection to the harness and makes a
// new one, which the harness does not take. The stack's device in each
// namespace is a passthru macvlan on the NIC instead: it has the NIC's MAC
// address (the one the harness sends to) and gets every frame the NIC
// receives, so the harness sees no difference. It carries the NIC's name
// and addresses.
//
// A namespace belongs to a thread: each case's is a posix.Thread's (a
// goroutine locked to its OS thread that entered a new namespace), on
// which every call whose result depends on the namespace runs: creating a
// socket (a socket keeps its namespace for good, and accepted ones inherit
// the listener's), opening files under /proc/sys/net, reading
// /proc/thread-self/net. Every other thread of the agent stays in the first
// namespace.
type netns struct {
	p     params
	nic   string // the NIC's name, in the first namespace and in the others
	lower int32  // the NIC's ifindex in the first namespace
	first *rtnl  // a netlink socket in the first namespace

	inherit    bool          // new namespaces inherit the first one's quiet IPv6 settings
	th         *posix.Thread // the current namespace's thread
	dev        int32         // the stack's device in the current namespace (0: none)
	cur        *rtnl         // a netlink socket in the current namespace
	ipv4, ipv6 bool          // what the first namespace got
	made       int           // namespaces made
}

// stackTempName is the name the stack's device is created under. The
// request goes to the NIC's namespace, which looks the name up among its
// own devices, so it cannot be the NIC's name; the device takes that in its
// own namespace.
const stackTempName = "tcstack0"

// newNetns sets the first namespace up (the NIC up, quiet, without
// addresses) and makes the stack's first namespace. On failure nothing is
// left changed but the NIC and lo being up.
func newNetns(p params) (*netns, error) {
	nic := p.nic
	if nic == "" {
		nic = findNIC("/sys/class/net")
	}
	if nic == "" {
		return nil, errors.New("no network interface besides lo")
	}
	if len(nic) >= 16 {
		return nil, fmt.Errorf("interface name %q too long", nic)
	}
	inherit := false
	if p.device {
		// An agent on a machine of its own touches its test interface
		// only: every new namespace quiets its own IPv6 defaults.
		quietIPv6(nic)
	} else {
		quietIPv6("all", "default", nic)
		// New namespaces take those IPv6 settings rather than the
		// kernel's defaults (which IPv4 does anyway), saving a handful of
		// sysctl writes per namespace. A global knob, of the first
		// namespace.
		inherit = setKnob("net/core/devconf_inherit_init_net", "1")
	}
	// The NIC carries no IPv6 of its own; its link-local address would be
	// the stack's.
	setKnob("net/ipv6/conf/"+nic+"/disable_ipv6", "1")
	undo := func() {
		if p.ip6 != "" {
			setKnob("net/ipv6/conf/"+nic+"/disable_ipv6", "0")
		}
	}
	s4, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		undo()
		return nil, fmt.Errorf("no AF_INET socket for ioctls: %w", err)
	}
	defer syscall.Close(s4)
	if err := ifUp(s4, "lo"); err != nil {
		logf("lo: %v", err)
	}
	lower, err := ifIndex(s4, nic)
	if err == nil {
		err = ifUp(s4, nic)
	}
	if err != nil {
		undo()
		return nil, fmt.Errorf("%s: %w", nic, err)
	}
	waitOperUp(nic, 5*time.Second)
	first, err := openRtnl()
	if err != nil {
		undo()
		return nil, err
	}
	n := &netns{p: p, nic: nic, lower: lower, first: first, inherit: inherit}
	if err := n.renew(); err != nil {
		first.close()
		undo()
		return nil, err
	}
	return n, nil
}

// renewStack is kernelagent's Renew: the next case's stack lives in a
// fresh namespace, and the old one's sockets are closed once the device
// has left it, so that their abortive closes send nothing (they find no
// route) and what lingers there never reaches the wire again.
func (n *netns) renewStack(old *posix.Stack) (*posix.Stack, error) {
	if err := n.renew(); err != nil {
		return nil, err
	}
	old.Release()
	old.Thread().Stop()
	return posix.New(n.th), nil
}

// renew moves the stack's device to a new namespace on a thread of its own
// (made ready by enter) and makes that the current one. On failure the
// new namespace is given up; the first time, with the device made in it.
func (n *netns) renew() error {
	th, err := posix.NewThread()
	if err != nil {
		return err
	}
	if err := th.Do(n.enter); err != nil {
		if n.made == 1 {
			th.Do(func() error {
				if n.dev != 0 {
					n.deleteDev()
				}
				if n.cur != nil {
					n.cur.close()
				}
				return nil
			})
		}
		th.Stop()
		return err
	}
	n.th = th
	return nil
}

// enter sets the stack up in the namespace of the calling thread, a new
// one: lo, the stack's device with the NIC's name, addresses, all up. The
// device moves there from the old namespace (a request through a netlink
// socket of the old namespace), which takes its addresses, routes and
// neighbour entries away; the kernel frees the old namespace, and with it
// TIME-WAIT and everything else, once nothing uses it any more (orphaned
// connections keep it a while, cut off from the wire). The first
// namespace's device is made here.
func (n *netns) enter() error {
	start := time.Now()
	old := n.cur // of the old namespace
	n.cur = nil
	if old != nil {
		defer old.close()
	}
	n.made++
	cur, err := openRtnl()
	if err != nil {
		return err
	}
	n.cur = cur
	// A new device takes the namespace's "default" IPv6 settings, which
	// are the first namespace's (quiet), or else the kernel's.
	if n.inherit && n.made == 1 {
		b, err := os.ReadFile("/proc/sys/net/ipv6/conf/default/accept_dad")
		if err == nil && strings.TrimSpace(string(b)) != "0" {
			logf("new network namespaces do not inherit IPv6 settings; setting them each time")
			n.inherit = false
		}
	}
	if !n.inherit {
		quietIPv6("all", "default")
	}
	nsFD, err := syscall.Open("/proc/thread-self/ns/net", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the new namespace: %w", err)
	}
	name := n.nic
	if old != nil && n.dev != 0 {
		err = old.request(func(seq uint32) []byte { return moveLinkRequest(seq, n.dev, nsFD) })
		if err != nil {
			err = fmt.Errorf("moving %s to the new namespace: %w", n.nic, err)
		}
	} else {
		// Not under the NIC's name: the NIC's namespace looks the name up.
		name = stackTempName
		err = n.first.request(func(seq uint32) []byte { return newMacvlanRequest(seq, name, n.lower, nsFD) })
		if errors.Is(err, syscall.EOPNOTSUPP) {
			err = fmt.Errorf("creating a macvlan device on %s: %w; is macvlan.ko among the initramfs's modules?", n.nic, err)
		} else if err != nil {
			err = fmt.Errorf("creating a macvlan device on %s in the new namespace: %w", n.nic, err)
		}
	}
	syscall.Close(nsFD)
	if err != nil {
		return err
	}
	s4, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("no AF_INET socket for ioctls: %w", err)
	}
	defer syscall.Close(s4)
	if n.dev, err = ifIndex(s4, name); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if name != n.nic {
		if err := ifRename(s4, name, n.nic); err != nil {
			return fmt.Errorf("renaming %s to %s: %w", name, n.nic, err)
		}
	}
	if err := ifUp(s4, "lo"); err != nil {
		return fmt.Errorf("lo: %w", err)
	}
	// The TCP settings of the linux target's namespaces, so that verdicts
	// differ only where the kernels do, not with the guest's memory size or
	// the device's host settings.
	if err := posix.PinReferenceSysctls(); err != nil {
		return err
	}
	if n.p.ip6 == "" {
		setKnob("net/ipv6/conf/"+n.nic+"/disable_ipv6", "1")
	}
	ipv4, ipv6, errs := configureStack(s4, cur, n.nic, n.p)
	if n.made == 1 {
		for _, err := range errs {
			logf("%v", err) // served anyway, without that family
		}
		n.ipv4, n.ipv6 = ipv4, ipv6
	} else if ipv4 != n.ipv4 || ipv6 != n.ipv6 {
		return errors.Join(append([]error{errors.New("the new namespace lacks an address")}, errs...)...)
	}
	if err := waitRunning(s4, n.nic, 5*time.Second); err != nil {
		return err
	}
	if ipv6 {
		if err := waitAddrUsable(n.p.ip6, 5*time.Second); err != nil {
			return err
		}
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		logf("fresh network namespace %d took %v", n.made, d.Round(time.Millisecond))
	}
	return nil
}

// deleteDev deletes the stack's device in the thread's namespace.
func (n *netns) deleteDev() error {
	c, err := openRtnl()
	if err != nil {
		return err
	}
	defer c.close()
	return c.request(func(seq uint32) []byte { return delLinkRequest(seq, n.dev) })
}

// ifIndex is the index of the interface in the socket's namespace.
func ifIndex(s int, name string) (int32, error) {
	r, err := newIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := ioctl(s, syscall.SIOCGIFINDEX, unsafe.Pointer(r)); err != nil {
		return 0, fmt.Errorf("SIOCGIFINDEX: %w", err)
	}
	return int32(binary.NativeEndian.Uint32(r.data[0:])), nil
}

// ifRename renames a device that is down.
func ifRename(s int, from, to string) error {
	r, err := newIfreq(from)
	if err != nil {
		return err
	}
	if len(to) >= 16 {
		return fmt.Errorf("interface name %q too long", to)
	}
	copy(r.data[:], to)
	if err := ioctl(s, syscall.SIOCSIFNAME, unsafe.Pointer(r)); err != nil {
		return fmt.Errorf("SIOCSIFNAME: %w", err)
	}
	return nil
}

// waitRunning waits until the interface is up and running (IFF_RUNNING:
// its operational state is up, or unknown), at most max.
func waitRunning(s int, name string, max time.Duration) error {
	deadline := time.Now().Add(max)
	for {
		r, err := newIfreq(name)
		if err != nil {
			return err
		}
		if err := ioctl(s, syscall.SIOCGIFFLAGS, unsafe.Pointer(r)); err != nil {
			return fmt.Errorf("%s: SIOCGIFFLAGS: %w", name, err)
		}
		if binary.NativeEndian.Uint16(r.data[0:])&syscall.IFF_RUNNING != 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not running after %v", name, max)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitAddrUsable waits until the IPv6 address of prefix ("2001:db8::1/64")
// is fully there, at most max: bind(2) takes it and packets to it are
// delivered. A new IPv6 address becomes usable in two steps, the second
// on a work queue of the kernel's, some milliseconds later in UML, even
// without duplicate address detection: its tentative flag goes (until
// then bind fails with EADDRNOTAVAIL), and only then is its local route
// inserted (until then segments to it are dropped as InAddrErrors, though
// bind works: a listener would not hear a SYN). So the local route is what
// is waited for, in /proc/thread-self/net/ipv6_route: the calling thread
// must be in the address's namespace.
func waitAddrUsable(prefix string, max time.Duration) error {
	pfx, err := netip.ParsePrefix(prefix)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(max)
	for {
		b, err := os.ReadFile("/proc/thread-self/net/ipv6_route")
		if err != nil {
			return err
		}
		if hasLocalRoute6(string(b), pfx.Addr()) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("address %s: no local route after %v", pfx.Addr(), max)
		}
		time.Sleep(time.Millisecond)
	}
}

// rtfLocal is RTF_LOCAL (linux/ipv6_route.h).
const rtfLocal = 0x80000000

// hasLocalRoute6 reports whether the table (as /proc/net/ipv6_route
// prints it) has the local route of the address: destination, /128,
// RTF_LOCAL. A line is
//
//	dest dest_len src src_len next_hop metric refcnt use flags device
//
// with addresses as 32 hex digits and the rest in hex.
func hasLocalRoute6(table string, a netip.Addr) bool {
	want := a.As16()
	dest := hex.EncodeToString(want[:])
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != dest || f[1] != "80" {
			continue
		}
		flags, err := strconv.ParseUint(f[8], 16, 32)
		if err == nil && flags&rtfLocal != 0 {
			return true
		}
	}
	return false
}
