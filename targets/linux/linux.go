// Package linux is the Linux kernel target: each instance is a fresh network
// namespace of this machine's kernel, reached through a TUN device, on the
// real clock.
//
// Nothing touches the host's network: every namespace is new and private to
// the instance (it is checked to differ from the process's own before
// anything is configured), the addresses are documentation ones living only
// inside it, and its sysctls are its own. Namespaces are named
// tcpconform-<pid>-<n> under /run/netns while they live, so that a run killed
// before it could clean up is reaped by the next one (ReapLeftovers).
package linux

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpconform/tcpconform/internal/posix"
	"github.com/tcpconform/tcpconform/targets"
)

func init() { targets.Register(Target{}) }

// Target is the Linux kernel target.
type Target struct{}

var addrs = targets.DocumentationAddrs

// Name implements targets.Target.
func (Target) Name() string { return "linux" }

// Describe implements targets.Target.
func (Target) Describe() string {
	return "this machine's Linux kernel, in a fresh network namespace per case, via TUN, real time"
}

// Available implements targets.Target: the harness must be able to create
// network namespaces and configure them (CAP_SYS_ADMIN and CAP_NET_ADMIN in
// its effective set, as root has) and open /dev/net/tun.
func (Target) Available() error {
	if missing := missingCaps(); missing != "" {
		return fmt.Errorf("%w: creating network namespaces and TUN devices needs %s (running as uid %d)", targets.ErrUnavailable, missing, os.Geteuid())
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%w: /dev/net/tun: %v", targets.ErrUnavailable, err)
	}
	unix.Close(fd)
	return nil
}

// missingCaps names the capabilities the process lacks, from CapEff in
// /proc/self/status.
func missingCaps() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "CAP_SYS_ADMIN and CAP_NET_ADMIN (cannot read /proc/self/status)"
	}
	for _, line := range strings.Split(string(b), "\n") {
		hex, ok := strings.CutPrefix(line, "CapEff:")
		if !ok {
			continue
		}
		eff, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			break
		}
		var missing []string
		for _, c := range []struct {
			bit  uint
			name string
		}{{unix.CAP_SYS_ADMIN, "CAP_SYS_ADMIN"}, {unix.CAP_NET_ADMIN, "CAP_NET_ADMIN"}} {
			if eff&(1<<c.bit) == 0 {
				missing = append(missing, c.name)
			}
		}
		return strings.Join(missing, " and ")
	}
	return "CAP_SYS_ADMIN and CAP_NET_ADMIN (no CapEff line)"
}

// instance is one namespace: its thread, its TUN link, and its sockets
// (posix.Stack, which also reads states and TCP_INFO).
type instance struct {
	ex   *posix.Thread
	link *link
	*posix.Stack

	closeOnce sync.Once
}

var reapOnce sync.Once

// New implements targets.Target.
func (Target) New(ctx context.Context, cfg targets.Config) (targets.Instance, error) {
	if cfg.GROSize < 0 || cfg.GROSize > 0xffff {
		return nil, fmt.Errorf("linux target: %w: GRO segment size %d is outside 1..65535", targets.ErrUnsupported, cfg.GROSize)
	}
	reapOnce.Do(func() { posix.ReapLeftovers() })
	realTimeOnce.Do(func() {
		morePs()
		raisePriority()
	})
	ex, err := posix.NewThread()
	if err != nil {
		return nil, err
	}
	in := &instance{ex: ex, Stack: posix.New(ex)}
	var tun, sniffer *os.File
	err = ex.Do(func() error {
		if err := posix.PinReferenceSysctls(); err != nil {
			return err
		}
		if cfg.TimeWait != 0 {
			return fmt.Errorf("%w: the kernel's TIME-WAIT lasts 60 s and cannot be changed", targets.ErrUnsupported)
		}
		var err error
		if tun, err = setUp(ctx, cfg); err != nil {
			return err
		}
		if sniffer, err = openSniffer(); err != nil {
			tun.Close()
		}
		return err
	})
	if err != nil {
		ex.Stop()
		return nil, fmt.Errorf("linux target: set up namespace %s: %w", ex.Name(), err)
	}
	in.link = newLink(tun, sniffer, cfg.GROSize)
	return in, nil
}

// The linux sockets also take flags, poll and ioctls, and report states
// and TCP_INFO.
var (
	_ targets.FlaggedIO = (*instance)(nil)
	_ targets.Poller    = (*instance)(nil)
	_ targets.Ioctler   = (*instance)(nil)
	_ targets.Epoller   = (*instance)(nil)
	_ targets.TCPInfo   = (*instance)(nil)
)

func (in *instance) Link() targets.Link       { return in.link }
func (in *instance) Sockets() targets.Sockets { return in.Stack }
func (in *instance) Clock() targets.Clock     { return targets.RealClock{} }
func (in *instance) Addrs() targets.Addrs     { return addrs }

// Capabilities implements targets.Instance.
func (in *instance) Capabilities() targets.Capabilities {
	return targets.Capabilities{IPv4: true, IPv6: true, State: true, SynReceivedState: true}
}

// Close implements targets.Instance: it closes the sockets, the TUN device
// and the namespace's thread, and removes the namespace's name. The kernel
// frees the namespace once its last socket is gone.
func (in *instance) Close() error {
	in.closeOnce.Do(func() {
		in.Release()
		in.link.close()
		in.ex.Stop()
		os.Remove(in.nstatHistory())
	})
	return nil
}

// nstatHistory is the instance's own nstat history file.
func (in *instance) nstatHistory() string {
	return filepath.Join(os.TempDir(), "tcpconform-nstat-"+strconv.Itoa(in.ex.Tid()))
}

// SetSysctl implements targets.Sysctls: it writes the namespace's own
// /proc/sys entry. Only net.* settings belong to a network namespace; any
// other (kernel.*, vm.*) is the host's, and refused.
func (in *instance) SetSysctl(name, value string) error {
	if !strings.HasPrefix(name, "net.") || strings.ContainsAny(name, "/") || strings.Contains(name, "..") {
		return fmt.Errorf("sysctl %s: %w: only net.* settings belong to the namespace", name, targets.ErrUnsupported)
	}
	err := in.ex.Do(func() error { return posix.WriteSysctl(strings.ReplaceAll(name, ".", "/"), value) })
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sysctl %s: %w: this kernel has no such setting", name, targets.ErrUnsupported)
	}
	return err
}

// RunShell implements targets.Shell: the command runs under /bin/sh inside
// the namespace (the child inherits the namespace of the thread that starts
// it), in dir, with PACKETDRILL_PID set as packetdrill sets it.
func (in *instance) RunShell(ctx context.Context, command, dir string) ([]byte, error) {
	// In its own PID namespace the shell's parent reads as pid 0; scripts
	// name packetdrill's pid as $PPID (/tmp/sysctl_restore_${PPID}.sh,
	// written by set_sysctls.py from PACKETDRILL_PID), so it is set to a
	// number of ours that no other live task has and that no other instance
	// shares (scripts running in parallel must not share that file): the id
	// of the namespace's thread.
	pid := strconv.Itoa(in.ex.Tid())
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", "PPID="+pid+"\n"+command)
	cmd.Dir = dir
	// nstat keeps the counters it last showed in a history file, by default
	// one per user in /tmp, so a script's `nstat | grep ...` would see
	// only what changed since another instance's call: each instance keeps
	// its own.
	cmd.Env = append(os.Environ(), "PACKETDRILL_PID="+pid, "NSTAT_HISTORY="+in.nstatHistory())
	// The shell is the first process of a new PID namespace, so whatever it
	// starts dies with it; it dies with the namespace's thread (so with
	// the instance, and with the harness even if that is killed outright).
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := in.ex.Do(cmd.Start); err != nil {
		return nil, err
	}
	err := cmd.Wait()
	return []byte(out.String()), err
}
