// Package netnsjoin runs code inside an existing named network namespace,
// so that the sockets it opens belong to that namespace.
package netnsjoin

import (
	"fmt"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs f on a thread that has joined the named network namespace
// (iproute2's /run/netns/NAME), so that the sockets f opens belong to it;
// with no name it runs f as it is. The thread never returns to the
// process's namespace: it ends with its goroutine.
func Do(name string, f func() error) error {
	if name == "" {
		return f()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Deliberately no UnlockOSThread: the thread is in another
		// namespace and must die with this goroutine.
		fd, err := unix.Open(filepath.Join("/run/netns", name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("network namespace %s: %w", name, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", name, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}
