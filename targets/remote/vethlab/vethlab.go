// Package vethlab makes a remote device out of this machine: two network
// namespaces, one for the harness and one for the device, joined by two veth
// pairs, a test link (the device's test interface, no address on the
// harness's end: the harness claims its own with ARP and NDP) and a control
// link (addresses on both ends, for the agent's control connection). The
// device namespace runs `tcpconform agent -listen` on its control address.
//
// Nothing touches the host's namespace: every interface is created inside
// the new namespaces. They are internal/posix's threads, named
// tcpconform-<pid>-<n> under /run/netns, so that a process killed before
// Close is reaped by the next run (posix.ReapLeftovers).
package vethlab

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/tcpconform/tcpconform/internal/posix"
	"github.com/tcpconform/tcpconform/targets"
)

// Interface names, the same in every lab: each lives in a namespace of its
// own.
const (
	HarnessIface = "test-h" // the harness's end of the test link
	DeviceIface  = "test-d" // the device's test interface
	harnessCtl   = "ctl-h"
	deviceCtl    = "ctl-d"
)

// The control link's addresses (RFC 5737's TEST-NET-2) and the agent's
// port.
var (
	harnessCtlAddr = netip.MustParsePrefix("198.51.100.2/24")
	deviceCtlAddr  = netip.MustParsePrefix("198.51.100.1/24")
	// Control is the device agent's control address.
	Control = netip.AddrPortFrom(deviceCtlAddr.Addr(), 7000)
)

// Lab is one pair of namespaces.
type Lab struct {
	// Harness and Device are the namespaces' names under /run/netns.
	Harness, Device string
	h, d            *posix.Thread

	mu        sync.Mutex
	agent     *exec.Cmd
	agentDone chan struct{} // closed once the agent has been waited for
	once      sync.Once
}

// Up makes the namespaces and links; the caller must Close the lab. It
// reaps the namespaces of runs that died first.
func Up() (*Lab, error) {
	posix.ReapLeftovers()
	l := &Lab{}
	var err error
	if l.h, err = posix.NewThread(); err == nil {
		l.Harness = l.h.Name()
		if l.d, err = posix.NewThread(); err == nil {
			l.Device = l.d.Name()
			err = l.build()
		}
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("veth lab: %w", err)
	}
	return l, nil
}

func (l *Lab) build() error {
	h, d := l.Harness, l.Device
	steps := [][]string{
		{"-n", h, "link", "set", "lo", "up"},
		{"-n", d, "link", "set", "lo", "up"},
		// Both pairs are made inside the harness's namespace and one end
		// moved straight into the device's: never in the host's.
		{"-n", h, "link", "add", HarnessIface, "type", "veth", "peer", "name", DeviceIface, "netns", d},
		{"-n", h, "link", "add", harnessCtl, "type", "veth", "peer", "name", deviceCtl, "netns", d},
		{"-n", d, "addr", "add", deviceCtlAddr.String(), "dev", deviceCtl},
		{"-n", h, "addr", "add", harnessCtlAddr.String(), "dev", harnessCtl},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return err
		}
	}
	// The harness's kernel stays off the test link: no IPv6 on its end
	// (no link-local address, router solicitations or answers of its own).
	err := l.h.Do(func() error {
		return os.WriteFile("/proc/sys/net/ipv6/conf/"+HarnessIface+"/disable_ipv6", []byte("1"), 0o644)
	})
	if err != nil {
		return err
	}
	// The test link carries what a wire would: whole segments with their
	// checksums, not a veth's offloaded 64 KB ones.
	for _, x := range []struct {
		ns    *posix.Thread
		iface string
	}{{l.d, DeviceIface}, {l.h, HarnessIface}} {
		if err := x.ns.Do(func() error { return noOffloads(x.iface) }); err != nil {
			return err
		}
	}
	for _, s := range [][]string{
		{"-n", d, "link", "set", DeviceIface, "up"},
		{"-n", d, "link", "set", deviceCtl, "up"},
		{"-n", h, "link", "set", HarnessIface, "up"},
		{"-n", h, "link", "set", harnessCtl, "up"},
	} {
		if err := ip(s...); err != nil {
			return err
		}
	}
	return nil
}

func prefix(a netip.Addr, bits int) string { return netip.PrefixFrom(a, bits).String() }

// ip runs iproute2's ip with args.
func ip(args ...string) error {
	var out bytes.Buffer
	cmd := exec.Command("ip", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %v: %v: %s", args, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// TargetOptions are the remote target's options that reach the lab's
// device from the harness's namespace.
func (l *Lab) TargetOptions(token string) targets.Options {
	return targets.Options{"iface": HarnessIface, "device": Control.String(), "token": token, "netns": l.Harness}
}

// InHarness and InDevice run f inside the namespace (sockets it opens stay
// there).
func (l *Lab) InHarness(f func() error) error { return l.h.Do(f) }
func (l *Lab) InDevice(f func() error) error  { return l.d.Do(f) }

// The device's test addresses, as the agent and the kernel take them.
var (
	device4 = prefix(targets.DocumentationAddrs.Local4, 24)
	device6 = prefix(targets.DocumentationAddrs.Local6, 64)
)

// AddressDevice gives the device's test interface its addresses, for a
// test of the link with the device namespace's own sockets; an agent
// started by StartAgent puts them on a device of its own instead.
func (l *Lab) AddressDevice() error {
	if err := ip("-n", l.Device, "addr", "add", device4, "dev", DeviceIface); err != nil {
		return err
	}
	return ip("-n", l.Device, "addr", "add", device6, "dev", DeviceIface, "nodad")
}

// StartAgent runs `path agent -listen CONTROL -token token -iface test-d
// -ip4 ... -ip6 ... -sysctl` in the device's namespace (path is a
// tcpconform binary), so that each case gets a fresh namespace of the
// device's with the test addresses, and waits until the agent listens.
// The agent dies with the lab's device thread, so with this process, and
// with Close.
func (l *Lab) StartAgent(path, token string) error {
	args := []string{"agent", "-listen", Control.String(), "-token", token,
		"-iface", DeviceIface, "-ip4", device4, "-ip6", device6, "-sysctl"}
	cmd := exec.Command(path, args...)
	// Pdeathsig fires when the thread that forked the child ends, not the
	// process: forked on the device's thread, the child is in its
	// namespace and lives exactly as long as the lab.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := l.d.Do(cmd.Start); err != nil {
		return fmt.Errorf("veth lab: start the agent: %w", err)
	}
	done := make(chan struct{})
	l.mu.Lock()
	l.agent, l.agentDone = cmd, done
	l.mu.Unlock()
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		close(done)
	}()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if l.listening() {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("veth lab: the agent exited before listening on %s: %v", Control, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("veth lab: the agent does not listen on %s after 10 s", Control)
}

// listening reports whether something listens on the control address, by
// the device namespace's /proc/net/tcp (a connection would be taken for a
// client).
func (l *Lab) listening() bool {
	var found bool
	l.InDevice(func() error {
		b, err := os.ReadFile("/proc/thread-self/net/tcp")
		if err != nil {
			return err
		}
		a := Control.Addr().As4()
		// Local address as the kernel prints it: the address's bytes in
		// host order (little-endian), then the port; state 0A is LISTEN.
		want := fmt.Sprintf("%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0], Control.Port())
		found = bytes.Contains(b, []byte(want+" 00000000:0000 0A"))
		return nil
	})
	return found
}

// Close stops the agent (the process this lab started) and deletes the
// namespaces, and with them the links.
func (l *Lab) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		cmd, done := l.agent, l.agentDone
		l.mu.Unlock()
		if cmd != nil {
			// The agent's process group: the agent and anything it
			// started. It ends its own namespaces when asked to stop;
			// those of an agent that had to be killed are reaped.
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
			posix.ReapLeftovers()
		}
		for _, t := range []*posix.Thread{l.h, l.d} {
			if t != nil {
				t.Stop()
			}
		}
	})
	return nil
}

// Gone reports whether the lab's namespaces, and those its agent made for
// its cases, have lost their names (for tests: they have once Close
// returned).
func (l *Lab) Gone() bool {
	names := []string{l.Harness, l.Device}
	l.mu.Lock()
	if l.agent != nil {
		// The agent's are named by its process id (posix.NewThread).
		m, _ := filepath.Glob(filepath.Join(posix.NetnsDir, posix.NetnsPrefix+strconv.Itoa(l.agent.Process.Pid)+"-*"))
		names = append(names, m...)
	}
	l.mu.Unlock()
	for _, ns := range names {
		if _, err := os.Stat(filepath.Join(posix.NetnsDir, filepath.Base(ns))); ns != "" && err == nil {
			return false
		}
	}
	return true
}
