package posix

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// NetnsPrefix starts the name of every namespace the harness creates:
// tcpconform-<pid>-<n>, so that leftovers of a crashed run can be told
// from everything else and reaped.
const NetnsPrefix = "tcpconform-"

// NetnsDir is where named network namespaces live (iproute2's convention),
// so that `ip netns exec tcpconform-<pid>-<n> ...` reaches a running one.
const NetnsDir = "/run/netns"

// Thread is where the calls that depend on a network namespace run:
// creating sockets and devices, configuring addresses, writing
// /proc/sys/net, starting shell commands. NewThread makes one in a new,
// private namespace: a goroutine locked to an OS thread that has entered
// it, running each call as a closure. That thread never returns to the
// host's namespace: when the Thread stops, the goroutine exits still
// locked, and the Go runtime ends the thread with it. Here is the
// namespace the process is in, where calls run in place.
type Thread struct {
	here     bool   // calls run in place, in the process's namespace
	name     string // the namespace's name under /run/netns
	tid      int    // the thread's id: no other live task has it
	jobs     chan func()
	done     chan struct{}
	finished chan struct{} // closed once the name is gone
	close    sync.Once
}

// Here returns a Thread for the namespace the process is in: the agent's
// own, on a device or in a guest.
func Here() *Thread { return &Thread{here: true, tid: os.Getpid(), finished: make(chan struct{})} }

// Name is the namespace's name under /run/netns ("" for Here).
func (e *Thread) Name() string { return e.name }

// Tid is the thread's id, which no other live task has while it runs (the
// process's for Here).
func (e *Thread) Tid() int { return e.tid }

var nsSeq struct {
	sync.Mutex
	n int
}

// hostNetns is the network namespace the process started in, read on the
// main thread at start-up.
var hostNetns uint64

func init() {
	// Keep the main goroutine on the main thread, so that no Thread's
	// goroutine ever runs there: such a thread leaves the host's
	// namespace for good, and the runtime never ends the main thread.
	runtime.LockOSThread()
	hostNetns, _ = nsInode("/proc/thread-self/ns/net")
}

// NewThread starts a thread, enters a new network namespace on it, checks
// that it really is a different namespace from the process's, and names it
// tcpconform-<pid>-<n> under /run/netns. Stop ends it.
func NewThread() (*Thread, error) {
	nsSeq.Lock()
	nsSeq.n++
	name := fmt.Sprintf("%s%d-%d", NetnsPrefix, os.Getpid(), nsSeq.n)
	nsSeq.Unlock()

	e := &Thread{name: name, jobs: make(chan func()), done: make(chan struct{}), finished: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		defer close(e.finished)
		runtime.LockOSThread()
		// Deliberately no UnlockOSThread: the thread's namespace is not
		// the host's, so it must die with this goroutine.
		if err := enterNewNetns(); err != nil {
			started <- err
			return
		}
		if err := nameNetns(name); err != nil {
			started <- err
			return
		}
		e.tid = unix.Gettid()
		started <- nil
		for {
			select {
			case job := <-e.jobs:
				job() // do's wrapper turns a panic into the job's error
			case <-e.done:
				unnameNetns(name)
				return
			}
		}
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return e, nil
}

// enterNewNetns unshares the calling thread's network namespace and makes
// sure the thread is now in one that is not the process's own: every later
// step configures interfaces and sysctls, which must never reach the host.
func enterNewNetns() error {
	if unix.Gettid() == os.Getpid() {
		return errors.New("refusing to leave the host's network namespace on the process's main thread")
	}
	host, err := nsInode("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	if host != hostNetns || hostNetns == 0 {
		return fmt.Errorf("the thread is not in the host's network namespace before unsharing (%d, host %d)", host, hostNetns)
	}
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
	}
	mine, err := nsInode("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	if mine == host {
		return errors.New("unshare left the thread in the host's network namespace")
	}
	return nil
}

func nsInode(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	return st.Ino, nil
}

// netnsDirOnce makes /run/netns a mount point of its own once.
var netnsDirOnce sync.Once

// shareNetnsDir makes /run/netns a shared mount of itself, as iproute2's
// `ip netns add` does on first use. Were it left a plain directory, the
// first `ip netns add` run later (a packetdrill runner's in_netns.sh, say)
// would mount /run/netns over itself and hide the names this process had
// already mounted there, which then could be neither unmounted nor reaped.
func shareNetnsDir() error {
	var err error
	netnsDirOnce.Do(func() {
		if err = os.MkdirAll(NetnsDir, 0o755); err != nil {
			return
		}
		if unix.Mount("", NetnsDir, "none", unix.MS_SHARED|unix.MS_REC, "") == nil {
			return // already a mount point
		}
		if err = unix.Mount(NetnsDir, NetnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
			err = unix.Mount("", NetnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		}
	})
	return err
}

// nameNetns bind-mounts the thread's namespace at /run/netns/name.
func nameNetns(name string) error {
	if err := shareNetnsDir(); err != nil {
		return fmt.Errorf("make %s a shared mount: %w", NetnsDir, err)
	}
	path := filepath.Join(NetnsDir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if errors.Is(err, os.ErrExist) {
		// Names carry this process's pid and a sequence number it never
		// reuses, so this one was left by an earlier process with the
		// same pid.
		unnameNetns(name)
		f, err = os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	}
	if err != nil {
		return fmt.Errorf("name the namespace: %w", err)
	}
	f.Close()
	if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
		os.Remove(path)
		return fmt.Errorf("name the namespace: bind mount: %w", err)
	}
	return nil
}

// unnameNetns drops the name; the namespace itself goes when its last user
// (the thread, the TUN, the sockets) does.
func unnameNetns(name string) {
	path := filepath.Join(NetnsDir, name)
	unix.Unmount(path, unix.MNT_DETACH)
	os.Remove(path)
}

// Do runs f on the namespace's thread and returns its error; a panic in
// f comes back as an error.
func (e *Thread) Do(f func() error) error {
	if e.here {
		return f()
	}
	errc := make(chan error, 1)
	job := func() {
		defer func() {
			if p := recover(); p != nil {
				errc <- fmt.Errorf("panic in the namespace %s: %v", e.name, p)
			}
		}()
		errc <- f()
	}
	select {
	case e.jobs <- job:
	case <-e.done:
		return errors.New("the namespace's thread has stopped")
	}
	return <-errc
}

// Stop ends the thread, and with it the harness's hold on the namespace, and
// waits until the namespace's name is gone. Stopping Here does nothing.
func (e *Thread) Stop() {
	if e.here {
		return
	}
	e.close.Do(func() { close(e.done) })
	<-e.finished
}

// ReapLeftovers removes the names of namespaces created by processes that
// are no longer running, as an earlier run killed before it could clean up
// leaves them; a namespace with nothing else in it then goes away. It
// returns the names it removed. Namespaces of live processes, and anything
// not named by the harness, are left alone.
func ReapLeftovers() ([]string, error) {
	entries, err := os.ReadDir(NetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var reaped []string
	for _, ent := range entries {
		rest, ok := strings.CutPrefix(ent.Name(), NetnsPrefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || alive(pid) {
			continue
		}
		unnameNetns(ent.Name())
		reaped = append(reaped, ent.Name())
	}
	return reaped, nil
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
