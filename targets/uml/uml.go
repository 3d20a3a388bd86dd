// Package uml is the User-mode Linux target: a second Linux kernel (Debian's
// user-mode-linux, 6.1), run as an ordinary process, whose TCP stack the
// harness drives through the stack-agent protocol (docs/agent-protocol.md).
//
// One guest boots at the first case of a run (about two seconds here) and serves
// every case after it; Shutdown powers it off. The guest's init is the
// tcpconform binary itself, static, running `tcpconform agent` in its init
// mode (guestinit), packed with the IPv6 and macvlan modules into an
// initramfs (image.go). Its serial line is the control channel; its NIC is
// UML's vector driver on a unix socket of the harness's, one Ethernet frame
// per message (ether.go), so no host interface, namespace or privilege is
// involved. The stack lives on a macvlan device over the NIC (same MAC) in a
// network namespace of the agent's; between cases its reset moves that device
// into a fresh namespace and closes every socket, so that nothing an earlier
// case left in the guest (TIME-WAIT, orphaned connections, cached metrics,
// sysctls) meets the next one. Time is real.
package uml

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

	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent"
)

func init() { targets.Register(Target{}) }

// Target is the User-mode Linux target.
type Target struct{}

var (
	_ targets.Target     = Target{}
	_ targets.Shutdowner = Target{}
)

// The guest's addresses, in the documentation networks.
var (
	guest4  = targets.DocumentationAddrs.Local4
	guest6  = targets.DocumentationAddrs.Local6
	prefix4 = 24
	prefix6 = 64
)

// BootTimeout bounds the boot to the agent's hello: about 2 s on an idle
// 2-core machine, several times that under load.
const BootTimeout = 2 * time.Minute

// Name implements targets.Target.
func (Target) Name() string { return "uml" }

// Describe implements targets.Target.
func (Target) Describe() string {
	return "Linux as User-mode Linux (Debian user-mode-linux), one guest per run shared by its cases, real time"
}

// Available implements targets.Target: linux.uml and its modules must be
// present, and the guest's image made (Image): this program goes into it
// if it is a static tcpconform, or else tcpconform is built from the
// module's source, once, so that no case pays for the build.
func (Target) Available() error {
	if _, err := exec.LookPath("linux.uml"); err != nil {
		return fmt.Errorf("%w: linux.uml not found (install user-mode-linux)", targets.ErrUnavailable)
	}
	if _, err := Image(); err != nil {
		return fmt.Errorf("%w: %v", targets.ErrUnavailable, err)
	}
	return nil
}

// The run's guest. lease admits one instance at a time: cases share the
// guest but not concurrently.
var run struct {
	mu sync.Mutex
	m  *machine
	n  int // instances made, for peer addresses
	// booted are the process groups of every guest this process started.
	booted []int
	lease  chan struct{}
}

func init() { run.lease = make(chan struct{}, 1) }

// New implements targets.Target: it waits for the guest to be free, boots it
// if no guest is running (or the last one died), and resets it.
func (Target) New(ctx context.Context, cfg targets.Config) (targets.Instance, error) {
	if err := cfg.LinkUnsupported("uml", false); err != nil {
		return nil, err
	}
	if cfg.TimeWait != 0 {
		return nil, fmt.Errorf("uml target: %w: Linux's TIME-WAIT is fixed at 60 s", targets.ErrUnsupported)
	}
	select {
	case run.lease <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	inst, err := leaseInstance(ctx)
	if err != nil {
		<-run.lease
		return nil, err
	}
	return inst, nil
}

func leaseInstance(ctx context.Context) (*Instance, error) {
	run.mu.Lock()
	defer run.mu.Unlock()
	m := run.m
	if m != nil {
		if _, err := m.a.Call("reset"); err != nil {
			// The guest died or hangs: the next one boots afresh.
			m.close()
			m, run.m = nil, nil
		}
	}
	if m == nil {
		var err error
		if m, err = boot(ctx); err != nil {
			return nil, err
		}
		run.m = m
	}
	addrs := targets.DocumentationAddrs
	m.a.Link().Drain()
	caps := targets.Capabilities{IPv4: true, IPv6: true, State: true, SynReceivedState: true}
	return &Instance{Instance: agent.NewInstance(m.a, addrs, caps), m: m}, nil
}

// Instance is one case's use of the run's guest.
type Instance struct {
	*agent.Instance
	m    *machine
	once sync.Once
}

// Close implements targets.Instance: it frees the guest for the next case,
// which resets it; the guest keeps running.
func (in *Instance) Close() error {
	in.once.Do(func() { <-run.lease })
	return nil
}

var _ targets.TCPInfo = (*Instance)(nil)

// TCPInfo implements targets.TCPInfo with the guest kernel's struct tcp_info.
func (in *Instance) TCPInfo(fd int) (map[string]int64, error) { return in.LinuxTCPInfo(fd) }

// Guest returns the process id of the guest's main UML process (for tests).
func (in *Instance) Guest() int { return in.m.a.Pid() }

// Shutdown implements targets.Shutdowner: the guest powers off (or its
// processes are killed) and its socket and directory are removed.
func (Target) Shutdown() error {
	run.mu.Lock()
	defer run.mu.Unlock()
	if run.m != nil {
		run.m.close()
		run.m = nil
	}
	return nil
}

// machine is one booted guest.
type machine struct {
	a   *agent.Agent
	w   *ethernet
	dir string
	pid int
}

// runDirPrefix names the scratch directory of a guest; the owning harness's
// process id follows, so a later run can tell leftovers of a crashed one.
const runDirPrefix = "tcpconform-uml-"

func boot(ctx context.Context) (*machine, error) {
	if err := (Target{}).Available(); err != nil {
		return nil, err
	}
	reapLeftovers()
	img, err := Image()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", runDirPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, err
	}
	w, err := listenEthernet(filepath.Join(dir, "net.sock"), guest4, guest6)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("uml: %w", err)
	}
	args := []string{
		// Linux sizes its TCP buffers (and so the window scale) by the
		// memory it has; 1 GB gives the host's defaults. UML backs it
		// with a sparse file, touched only as the guest uses it.
		"mem=1G", "initrd=" + img,
		// The kernel's console goes to stderr, whose tail the agent package
		// quotes when the guest fails; the serial line is the control
		// channel (fd 3).
		"con=null", "con0=null,fd:2", "ssl=null", "ssl0=fd:3",
		"vec0:transport=bess,dst=" + w.path + ",mac=" + guestMAC.String(),
		// UML keeps its pid file and management socket under uml_dir; by
		// default that is ~/.uml.
		"uml_dir=" + dir, "umid=guest",
		"quiet",
		fmt.Sprintf("tcpconform.ip4=%s/%d", guest4, prefix4),
		fmt.Sprintf("tcpconform.ip6=%s/%d", guest6, prefix6),
	}
	a, err := agent.Start(ctx, agent.Spec{
		Name: "uml guest", Path: "linux.uml", Args: args,
		HelloTimeout: BootTimeout, CallTimeout: 10 * time.Second, Grace: 10 * time.Second,
		// UML's serial line stops reading for good when much more than
		// 3 KB arrive at once (its line driver throttles and never
		// unthrottles), so long sends go ahead in pieces.
		MaxRequest: 2048,
		Barrier:    w.Barrier,
		Packets:    func() (agent.PacketConn, error) { return w, nil },
		ControlFD:  true,
	})
	if err != nil {
		w.Close()
		removeRunDir(dir, 0)
		return nil, err
	}
	m := &machine{a: a, w: w, dir: dir, pid: a.Pid()}
	run.booted = append(run.booted, m.pid)
	os.WriteFile(filepath.Join(dir, "pgid"), []byte(strconv.Itoa(m.pid)), 0o644)
	return m, nil
}

// close powers the guest off (the agent package kills its process group when
// that takes too long) and removes what it left.
func (m *machine) close() {
	m.a.Close()
	m.w.Close()
	removeRunDir(m.dir, m.pid)
}

// removeRunDir kills what is left of the guest whose process group is pgid
// and removes its directory.
func removeRunDir(dir string, pgid int) {
	if pgid > 0 {
		for _, pid := range guestProcesses(pgid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		// SIGKILL is delivered at once, but a process takes a moment
		// to go.
		for deadline := time.Now().Add(2 * time.Second); len(guestProcesses(pgid)) > 0 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	os.RemoveAll(dir)
}

// guestProcesses lists the linux.uml processes in process group pgid: a
// guest is a group of them (the kernel and its helpers), all of which this
// target started.
func guestProcesses(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state ppid pgrp …
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		if exe, _ := os.Readlink("/proc/" + e.Name() + "/exe"); !strings.HasSuffix(strings.TrimSuffix(exe, " (deleted)"), "linux.uml") && !strings.HasSuffix(exe, "/linux") {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// reapLeftovers cleans up after runs that died without shutting their guest
// down: a scratch directory whose owner process is gone has its guest's
// processes killed and is removed.
func reapLeftovers() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), runDirPrefix+"*"))
	for _, dir := range dirs {
		owner, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(dir), runDirPrefix), "-")
		pid, err := strconv.Atoi(owner)
		if !ok || err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // its run is still going
		}
		pgid := 0
		if b, err := os.ReadFile(filepath.Join(dir, "pgid")); err == nil {
			pgid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		removeRunDir(dir, pgid)
	}
}

// Leftovers lists the scratch directories and guest processes of this
// process's guests that still exist (for tests: none once Shutdown returned).
func Leftovers() (dirs []string, pids []int) {
	dirs, _ = filepath.Glob(filepath.Join(os.TempDir(), runDirPrefix+strconv.Itoa(os.Getpid())+"-*"))
	run.mu.Lock()
	defer run.mu.Unlock()
	for _, g := range run.booted {
		pids = append(pids, guestProcesses(g)...)
	}
	return dirs, pids
}
