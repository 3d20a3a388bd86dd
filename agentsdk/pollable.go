package agentsdk

import (
	"fmt"
	"os"
	"syscall"
)

// Pollable returns inherited descriptor fd (0 for the requests on stdin, 3
// for the packet channel) as a file that Go's network poller waits on. A
// blocking read of a plain descriptor holds an OS thread and, on a machine
// with few cores, one of Go's processors until the scheduler takes it
// back, which delays the agent's answers by up to 20 ms; a non-blocking
// one does not. The open file becomes non-blocking for every process that
// shares it: for an agent the harness started, its own end of a pipe or
// socket pair, which no one else holds.
func Pollable(fd int, name string) (*os.File, error) {
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("%s (fd %d): %w", name, fd, err)
	}
	return os.NewFile(uintptr(fd), name), nil
}
