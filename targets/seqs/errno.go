package seqs

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// errnoTable maps the errors seqs' socket calls return to the errno a Linux
// socket call reports for the same condition. seqs exports few of its
// errors, so the rest are known by their text (stacks/portstack.go,
// seqs/control_user.go).
var errnoTable = []struct {
	err   error  // an exported error, matched with errors.Is
	text  string // or the text of an unexported one
	errno syscall.Errno
}{
	{err: net.ErrClosed, errno: syscall.EPIPE},
	{err: io.ErrClosedPipe, errno: syscall.EPIPE},
	{text: "port unavailable", errno: syscall.EADDRINUSE},
	{text: "port limit reached", errno: syscall.EADDRNOTAVAIL},
	{text: "TCB not closed", errno: syscall.EISCONN},
	{text: "connection does not exist", errno: syscall.ENOTCONN},
	{text: "connection closing", errno: syscall.EPIPE},
}

// toErrno converts an error of seqs for the Sockets API: a known one becomes
// its errno, an unknown one stays a non-errno error, which the harness
// reports as its own failure rather than the script's.
func toErrno(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range errnoTable {
		if (e.err != nil && errors.Is(err, e.err)) || (e.text != "" && err.Error() == e.text) {
			return e.errno
		}
	}
	return fmt.Errorf("seqs target: unmapped error %T (%v)", err, err)
}
