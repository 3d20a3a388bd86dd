package linux

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

// nsPrefix starts the name of every namespace the harness creates:
// tcpconform-<pid>-<n>, so that leftovers of a crashed run can be told
// from everything else and reaped.
const nsPrefix = "tcpconform-"

// netnsDir is where named network namespaces live (iproute2's convention),
// so that `ip netns exec tcpconform-<pid>-<n> ...` reaches a running one.
const netnsDir = "/run/netns"

// executor is a goroutine locked to an OS thread that has entered a new,
// private network namespace. Everything that must happen inside the
// namespace (creating sockets and the TUN device, configuring addresses,
// writing /proc/sys/net, starting shell commands) runs as a closure on it.
// The thread never returns to the host namespace: when the executor ends, the
// goroutine exits still locked, and the Go runtime ends the thread with it.
type executor struct {
	name     string // the namespace's name under /run/netns
	tid      int    // the thread's id: no other live task has it
	jobs     chan func()
	done     chan struct{}
	finished chan struct{} // closed once the name is gone
	close    sync.Once
}

var nsSeq struct {
	sync.Mutex
	n int
}

// hostNetns is the network namespace the process started in, read on the
// main thread at start-up.
var hostNetns uint64

func init() {
	// Keep the main goroutine on the main thread, so that no executor
	// goroutine ever runs there: an executor's thread leaves the host's
	// namespace for good, and the runtime never ends the main thread.
	runtime.LockOSThread()
	hostNetns, _ = nsInode("/proc/thread-self/ns/net")
}

// newExecutor starts the thread, enters a new network namespace on it,
// checks that it really is a different namespace from the process's, and
// names it.
func newExecutor() (*executor, error) {
	nsSeq.Lock()
	nsSeq.n++
	name := fmt.Sprintf("%s%d-%d", nsPrefix, os.Getpid(), nsSeq.n)
	nsSeq.Unlock()

	e := &executor{name: name, jobs: make(chan func()), done: make(chan struct{}), finished: make(chan struct{})}
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
		if err = os.MkdirAll(netnsDir, 0o755); err != nil {
			return
		}
		if unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "") == nil {
			return // already a mount point
		}
		if err = unix.Mount(netnsDir, netnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
			err = unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		}
	})
	return err
}

// nameNetns bind-mounts the thread's namespace at /run/netns/name.
func nameNetns(name string) error {
	if err := shareNetnsDir(); err != nil {
		return fmt.Errorf("make %s a shared mount: %w", netnsDir, err)
	}
	path := filepath.Join(netnsDir, name)
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
	path := filepath.Join(netnsDir, name)
	unix.Unmount(path, unix.MNT_DETACH)
	os.Remove(path)
}

// do runs f on the namespace's thread and returns its error.
func (e *executor) do(f func() error) error {
	errc := make(chan error, 1)
	job := func() {
		defer func() {
			if p := recover(); p != nil {
				errc <- fmt.Errorf("linux target: panic in the namespace: %v", p)
			}
		}()
		errc <- f()
	}
	select {
	case e.jobs <- job:
	case <-e.done:
		return errors.New("linux target: instance closed")
	}
	return <-errc
}

// stop ends the thread, and with it the harness's hold on the namespace, and
// waits until the namespace's name is gone.
func (e *executor) stop() {
	e.close.Do(func() { close(e.done) })
	<-e.finished
}

// ReapLeftovers removes the names of namespaces created by processes that
// are no longer running, as an earlier run killed before it could clean up
// leaves them; a namespace with nothing else in it then goes away. It
// returns the names it removed. Namespaces of live processes, and anything
// not named by the harness, are left alone.
func ReapLeftovers() ([]string, error) {
	entries, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var reaped []string
	for _, ent := range entries {
		rest, ok := strings.CutPrefix(ent.Name(), nsPrefix)
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
