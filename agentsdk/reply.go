package agentsdk

import (
	"errors"
	"io"
	"strings"
	"sync"
	"syscall"

	"github.com/tcpconform/tcpconform/internal/linuxabi"
	"github.com/tcpconform/tcpconform/targets"
)

// result is the outcome of one request: "ok VALUES" or "err ERRNO TEXT".
type result struct {
	failed bool
	vals   []string
	errno  syscall.Errno
	msg    string
}

func ok(vals ...string) result { return result{vals: vals} }

func fail(e syscall.Errno, msg string) result { return result{failed: true, errno: e, msg: msg} }

// failErr turns a backend's error into a failure: a syscall.Errno goes back
// as itself, what wraps targets.ErrUnsupported as EOPNOTSUPP, anything else
// as EIO with its text.
func failErr(err error) result {
	var e syscall.Errno
	switch {
	case errors.As(err, &e):
		return fail(e, "")
	case errors.Is(err, targets.ErrUnsupported):
		return fail(syscall.EOPNOTSUPP, oneLine(err.Error()))
	default:
		return fail(syscall.EIO, oneLine(err.Error()))
	}
}

// oneLine keeps free text on the reply's line.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

func (r result) line(id string) string {
	var b strings.Builder
	b.WriteString(id)
	if r.failed {
		b.WriteString(" err ")
		b.WriteString(linuxabi.ErrnoName(r.errno))
		if r.msg != "" {
			b.WriteString(" " + oneLine(r.msg))
		}
		return b.String()
	}
	b.WriteString(" ok")
	for _, v := range r.vals {
		if v != "" { // zero bytes of data are no token at all
			b.WriteString(" " + v)
		}
	}
	return b.String()
}

// replier writes whole lines, one Write each, from any goroutine; once a
// write fails it writes no more.
type replier struct {
	mu   sync.Mutex
	w    io.Writer
	dead bool
}

func (r *replier) line(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dead {
		return
	}
	if _, err := io.WriteString(r.w, s+"\n"); err != nil {
		r.dead = true
	}
}

func (r *replier) stop() {
	r.mu.Lock()
	r.dead = true
	r.mu.Unlock()
}

func (r *replier) send(id string, res result) { r.line(res.line(id)) }
