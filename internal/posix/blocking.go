package posix

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// A call the script makes on a blocking socket is a real blocking system
// call, as packetdrill's calls are, because the kernel acts on a caller it
// has put to sleep: a writer waiting in sendmsg for the handshake
// (sk_write_pending) makes Linux hold back the ACK of a SYN-ACK so that it
// rides on the data (tcp_rcv_synsent_state_process), and a blocked accept,
// connect or read waits on the socket's own queue. Polling a non-blocking
// descriptor instead would make the kernel send something else. So a
// socket's real O_NONBLOCK is always what the script set, and a call that
// may block runs on a goroutine of its own, which the call's system call
// holds on an OS thread of its own while it sleeps in the kernel.
//
// Such a call must still end when its case does (the context is done: a
// timeout or a failure) or when the instance closes. It is woken with
// shutdown(fd, SHUT_RDWR), which on Linux wakes every sleeper on the socket
// (inet_shutdown ends in sk_state_change):
//   - a listener (accept) is disconnected: its queue is flushed and accept
//     fails (EINVAL);
//   - a socket in SYN-SENT (connect, or a write waiting for the handshake)
//     is disconnected: the call fails (ECONNRESET, EPIPE);
//   - any other state gets RCV_SHUTDOWN and SEND_SHUTDOWN: a read returns 0,
//     a write waiting for buffer space fails with EPIPE (tcp_shutdown sends
//     a FIN where the state has one to send).
//
// This is chosen over the alternatives because it leaves a passing run
// untouched: a shutdown only happens once the case is over anyway, while a
// per-call SO_RCVTIMEO/SO_SNDTIMEO would be visible to getsockopt and would
// make a blocked connect or write return early and be made again (the kernel
// would see the writer leave and come back), and a signal would be restarted
// by the kernel, as the Go runtime installs its handlers with SA_RESTART.
//
// poll and epoll_wait stay emulated (a real poll(2) or epoll_wait(2) in short
// steps, rechecking the context in between): a process sleeping in them
// leaves nothing on the socket that changes what TCP sends, and every step
// is itself a real wait that the kernel ends as soon as an event comes. So
// do sendfile and splice (kernelBlocking), which may wait on a pipe, which
// no shutdown wakes.

// wakeEvery is how often a call being ended is shut down again until it
// returns: a shutdown that lands just before the call enters the kernel does
// not wake it (a connect made after one would even start afresh), the next
// one does.
const wakeEvery = 20 * time.Millisecond

// wakeLimit bounds the wait for a woken call; past it the call is left to
// return on its own (it holds its own descriptor, closed when it does).
const wakeLimit = 5 * time.Second

// blocked is one blocking system call in flight, on a descriptor of its own.
type blocked struct {
	mu   sync.Mutex
	fd   int // -1 once the call has returned and closed it
	done chan error
}

// block makes call on fd: directly if it cannot block, otherwise as a real
// blocking system call on a goroutine of its own, ended as described above
// when ctx is done or the instance closes (on a pipe: by untilReady). call
// is given the descriptor to use. It returns call's error, or, for a call
// ended early, ctx's error (EBADF once the instance is closing).
func (k *Stack) block(ctx context.Context, fd int, blocking bool, call func(fd int) error) error {
	if !blocking {
		return call(fd)
	}
	if isPipe(fd) {
		return k.untilReady(ctx, func() error { return call(fd) })
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The call holds its own descriptor of the socket, as the kernel holds
	// the file of a call in progress: a close of fd cannot pull the socket
	// from under it, and a wake can never reach a socket given fd's number
	// later.
	dfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	b := &blocked{fd: dfd, done: make(chan error, 1)}
	go func() {
		err := call(dfd)
		b.mu.Lock()
		unix.Close(b.fd)
		b.fd = -1
		b.mu.Unlock()
		b.done <- err
	}()
	var why error
	select {
	case err := <-b.done:
		return err
	case <-ctx.Done():
		why = ctx.Err()
	case <-k.stop:
		why = unix.EBADF // the instance is closing
	}
	// What the call returns once woken is the shutdown's doing (a read
	// returns 0, a write a short count), so it is not the call's result;
	// a descriptor an accept returned anyway is the instance's, closed
	// with it.
	if !b.wake() {
		return fmt.Errorf("linux target: a blocked call did not end within %v of shutting its socket down: %w", wakeLimit, why)
	}
	return why
}

// untilReady makes call again while it reports EAGAIN, every millisecond,
// until ctx ends or the instance closes: how a blocking call waits on a
// descriptor that stays non-blocking underneath (a pipe, see isPipe), or on
// a socket given timeouts for the call (kernelBlocking).
func (k *Stack) untilReady(ctx context.Context, call func() error) error {
	for {
		err := call()
		if err != unix.EAGAIN {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case <-k.stop:
			return unix.EBADF
		case <-time.After(time.Millisecond):
		}
	}
}

// wake shuts the call's socket down until the call returns; it reports
// false if the call had not returned within wakeLimit.
func (b *blocked) wake() bool {
	limit := time.After(wakeLimit)
	tick := time.NewTicker(wakeEvery)
	defer tick.Stop()
	for {
		b.mu.Lock()
		if b.fd >= 0 {
			unix.Shutdown(b.fd, unix.SHUT_RDWR)
		}
		b.mu.Unlock()
		select {
		case <-b.done:
			return true
		case <-limit:
			return false
		case <-tick.C:
		}
	}
}

// waits reports whether a call with these MSG_ flags on so may block.
func (so *socket) waits(flags int) bool {
	return !so.nonblock.Load() && flags&unix.MSG_DONTWAIT == 0
}

// blockCount is block for a call that returns a count of bytes.
func (k *Stack) blockCount(ctx context.Context, fd int, blocking bool, call func(fd int) (int, error)) (int, error) {
	var n int
	err := k.block(ctx, fd, blocking, func(fd int) error {
		var err error
		n, err = call(fd)
		return err
	})
	return n, err
}
