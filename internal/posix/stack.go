// Package posix is the one Linux socket layer of tcpconform: the calls a
// script or an agent request makes, done as real system calls on sockets of
// one network namespace, with the kernel's own blocking; the connection
// states the kernel reports (sock_diag, else /proc/net/tcp); struct
// tcp_info; and the thread that lives in the namespace. Errno and option
// names are package linuxabi's.
//
// The linux target runs a Stack in process, on a namespace of its own; the
// agent command (`tcpconform agent`) serves a Stack over the agent
// protocol, inside a User-mode Linux guest or on a remote device. So both
// see a kernel through the same code, and their verdicts differ only where
// their kernels do.
package posix

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/tcpconform/tcpconform/targets"
)

// Stack is the sockets of one network namespace, made through its Thread.
// It implements targets.Sockets and the optional socket interfaces of
// package targets (flags, poll, epoll, ioctls, files and pipes, raw
// options, TCP_INFO), and State. Its errors for the caller are the kernel's
// errno values (syscall.Errno).
type Stack struct {
	th       *Thread
	released bool

	mu   sync.Mutex
	fds  map[int]*socket
	seen map[targets.Tuple]bool
	// closing, stop, inflight and idle let Close and Reset end the calls
	// that may block before they close their descriptors (see enter).
	closing  bool
	stop     chan struct{}
	inflight int
	idle     *sync.Cond
}

// New returns a Stack whose sockets are created on th, so in th's network
// namespace (a socket belongs to the namespace it was created in).
func New(th *Thread) *Stack {
	k := &Stack{th: th, fds: map[int]*socket{}, seen: map[targets.Tuple]bool{}, stop: make(chan struct{})}
	k.idle = sync.NewCond(&k.mu)
	return k
}

// Thread returns the thread the stack's sockets are made on.
func (k *Stack) Thread() *Thread { return k.th }

// Reset ends every call in flight, closes every descriptor and forgets the
// connections seen, so that the stack is as new (the agent protocol's
// reset). The thread stays. After Release it does nothing.
func (k *Stack) Reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.released {
		return
	}
	k.closeAll()
	k.closing = false
	k.stop = make(chan struct{})
	k.seen = map[targets.Tuple]bool{}
}

// Release ends every call in flight and closes every descriptor, for good:
// any later call fails with EBADF. It does not stop the thread.
func (k *Stack) Release() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.closing {
		k.closeAll()
	}
	k.released = true
}

// closeAll wakes the calls in flight, waits for them (a blocked one is
// woken, see block), and only then gives their descriptor numbers back.
// k.mu is held.
func (k *Stack) closeAll() {
	k.closing = true
	close(k.stop)
	for k.inflight > 0 {
		k.idle.Wait()
	}
	for fd := range k.fds {
		unix.Close(fd)
	}
	k.fds = map[int]*socket{}
}

// InFlight is how many calls that may block are in progress.
func (k *Stack) InFlight() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.inflight
}
