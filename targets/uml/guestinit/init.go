//go:build linux

// Package guestinit is `tcpconform agent` as the init (PID 1) of a
// User-mode Linux guest: it sets the guest up (file systems, modules,
// addresses), then serves the agent protocol (docs/agent-protocol.md) on
// the guest's serial line with the guest kernel's sockets
// (internal/posix). Packets do not pass through the agent: they travel on
// the guest's NIC, which the harness connects to itself.
//
// Parameters come from the kernel command line:
//
//	tcpconform.ip4=ADDR/LEN   IPv4 address of the NIC (192.0.2.1/24)
//	tcpconform.ip6=ADDR/LEN   IPv6 address of the NIC (optional)
//	tcpconform.ctl=PATH       control line (default /dev/ttyS0)
//	tcpconform.nic=NAME       the NIC (default: the first Ethernet
//	                          interface other than lo)
//	tcpconform.peer=IP,MAC    a permanent ARP entry (optional)
//
// Kernel modules listed in /modules/order, one path a line, are loaded
// first. When the protocol ends (quit, or end of input) the guest powers
// off.
//
// The stack lives in a network namespace of its own, a new one at every
// reset, on a macvlan device over the NIC (see netns): nothing a case
// leaves in the kernel reaches the next (the initramfs must bring the
// macvlan module). Should that fail, the NIC itself gets the addresses and
// the cases share one namespace.
//
// UML's serial line goes deaf after a burst of more than about 4 KB of
// input (see burstWatch), so the harness must keep the request bytes it
// writes at once below that: split long sends, do not pipeline many
// requests.
package guestinit

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/tcpconform/tcpconform/agentsdk"
	"github.com/tcpconform/tcpconform/internal/kernelagent"
	"github.com/tcpconform/tcpconform/internal/posix"
)

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tcpconform guest: "+format+"\n", args...)
}

// Main is the agent as PID 1: set up, serve, power off. opts describe the
// kernel (its release). It never returns.
func Main(opts agentsdk.Options) {
	signal.Ignore(syscall.SIGPIPE, syscall.SIGHUP)
	mountAll()
	if err := posix.ReadHostNetns(); err != nil {
		logf("the agent's network namespace: %v", err)
	}
	loadModules("/modules/order")

	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		logf("reading /proc/cmdline: %v", err)
	}
	p, errs := parseParams(string(cmdline))
	for _, err := range errs {
		logf("%v", err)
	}
	cfg := kernelagent.Config{Sysctls: true}
	if n, err := newNetns(p); err == nil {
		cfg.Stack = posix.New(n.th)
		cfg.Renew = n.renewStack
		opts.IPv4, opts.IPv6 = n.ipv4, n.ipv6
	} else {
		logf("no network namespace per case (%v): cases share one stack, and "+
			"what a case leaves behind (TIME-WAIT, orphaned connections) stays", err)
		cfg.Stack = posix.New(posix.Here())
		opts.IPv4, opts.IPv6 = setupNetwork(p)
	}
	b := kernelagent.New(cfg)
	opts.Log = os.Stderr

	ctl, err := kernelagent.OpenSerial(p.ctl, logf)
	if err != nil {
		logf("cannot open the control line: %v; powering off", err)
		powerOff()
	}
	logf("serving on %s", p.ctl)
	if err := agentsdk.Serve(&burstWatch{r: ctl}, ctl, b, opts); err != nil {
		logf("control line: %v", err)
	}
	if err := b.Release(); err != nil {
		logf("%v", err)
	}
	// Give the line driver a moment to pass on the last reply.
	time.Sleep(50 * time.Millisecond)
	powerOff()
}

// burstWatch passes reads through and complains, once, about a read that
// brings nearly a full tty buffer (4096 bytes). UML 6.1's serial line
// driver stops reading its host descriptor for good once the tty has
// throttled it (line_throttle disables the read interrupt and
// line_unthrottle never enables it again): a burst of more than about
// 4 KB of requests is delivered, and nothing after it. The harness must
// keep its bursts smaller; this note in the console output says why the
// agent went deaf if it did not.
type burstWatch struct {
	r      io.Reader
	warned bool
}

func (b *burstWatch) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n >= 3072 && !b.warned {
		b.warned = true
		logf("%d request bytes arrived at once: UML's serial line stops reading "+
			"after a burst of about 4 KB (the tty throttles it for good); keep request bursts under 3 KB", n)
	}
	return n, err
}

// params are the agent's settings from the kernel command line.
type params struct {
	ip4, ip6 string // ADDR/LEN, "" if absent
	ctl      string
	nic      string
	peer     string // IP,MAC
	// device: the agent runs on a machine of its own (a remote device),
	// whose settings other than the NIC's are not the agent's to change.
	device bool
}

// parseParams reads the tcpconform.* words of a kernel command line; it
// complains about tcpconform.* words it does not know.
func parseParams(cmdline string) (params, []error) {
	p := params{ctl: "/dev/ttyS0"}
	var errs []error
	for _, w := range strings.Fields(cmdline) {
		k, v, _ := strings.Cut(w, "=")
		name, ours := strings.CutPrefix(k, "tcpconform.")
		if !ours {
			continue
		}
		switch name {
		case "ip4":
			p.ip4 = v
		case "ip6":
			p.ip6 = v
		case "ctl":
			p.ctl = v
		case "nic":
			p.nic = v
		case "peer":
			p.peer = v
		default:
			errs = append(errs, fmt.Errorf("unknown kernel parameter %s", w))
		}
	}
	return p, errs
}

// mountAll mounts proc, sysfs and devtmpfs; failures are reported, not
// fatal.
func mountAll() {
	for _, m := range []struct{ fs, dir string }{{"proc", "/proc"}, {"sysfs", "/sys"}, {"devtmpfs", "/dev"}} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			logf("mkdir %s: %v", m.dir, err)
		}
		err := syscall.Mount(m.fs, m.dir, m.fs, syscall.MS_NOSUID|syscall.MS_NOEXEC, "")
		if err != nil && err != syscall.EBUSY {
			logf("mount %s on %s: %v", m.fs, m.dir, err)
		}
	}
}

// sysFinitModule is finit_module(2) on amd64, the only architecture UML
// guests run on here; the syscall package has no wrapper.
const sysFinitModule = 313

// loadModules loads the modules listed in the file order, in order. Paths
// are absolute or relative to the list's directory. A missing list means
// no modules.
func loadModules(order string) {
	b, err := os.ReadFile(order)
	if err != nil {
		if !os.IsNotExist(err) {
			logf("reading %s: %v", order, err)
		}
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		path := strings.TrimSpace(line)
		if path == "" || strings.HasPrefix(path, "#") {
			continue
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(order), path)
		}
		if err := loadModule(path); err != nil {
			logf("module %s: %v", path, err)
		}
	}
}

// loadModule loads the kernel module in the file; one already loaded is
// fine.
func loadModule(path string) error {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	empty, _ := syscall.BytePtrFromString("")
	_, _, e := syscall.Syscall(sysFinitModule, uintptr(fd), uintptr(unsafe.Pointer(empty)), 0)
	if e != 0 && e != syscall.EEXIST {
		return fmt.Errorf("finit_module: %w", e)
	}
	return nil
}

// powerOff syncs and powers the guest off. If that fails, PID 1 exits,
// which panics the kernel: the guest ends either way.
func powerOff() {
	syscall.Sync()
	err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	logf("power off: %v", err)
	os.Exit(1)
}
