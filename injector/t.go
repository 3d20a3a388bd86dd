package injector

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/internal/linuxabi"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"
)

// Reporter ends a case. Each method must not return: the Ginkgo adapter
// panics the way Ginkgo's Fail and Skip do, the CLI runner leaves the case's
// goroutine.
type Reporter interface {
	// Fail reports nonconformance.
	Fail(message string)
	// Skip reports that the target cannot run the case.
	Skip(message string)
	// Error reports a harness error.
	Error(message string)
}

// T is what a case body gets: the peer, the target's sockets, Gomega
// assertions, and the three ways a case can end early.
type T struct {
	ctx     context.Context
	target  string
	profile expectations.Profile
	c       *Case
	peer    *Peer
	rep     Reporter
	g       gomega.Gomega
	pcapDir string

	// PcapPath is where the pcap was written when the case failed.
	PcapPath string
	// Warnings are mismatches the case was told to let pass
	// (packetdrill's --non_fatal), each "file:line: message".
	Warnings []string
}

// WarnAt records a mismatch that does not end the case.
func (t *T) WarnAt(where, msg string) { t.Warnings = append(t.Warnings, where+": "+msg) }

// Context returns the case's context; every wait honours it.
func (t *T) Context() context.Context { return t.ctx }

// Peer returns the harness's end of the wire.
func (t *T) Peer() *Peer { return t.peer }

// Case returns the case being run.
func (t *T) Case() *Case { return t.c }

// Profile returns what the reference expects of this target (see
// expectations.Profile), adjusted for the case's own Config.
func (t *T) Profile() expectations.Profile {
	p := t.profile
	if t.c.Config.TimeWait != 0 {
		p.TimeWait = t.c.Config.TimeWait
	}
	return p
}

// Expect starts a Gomega assertion whose failure fails the case as
// nonconformance.
func (t *T) Expect(actual any, extra ...any) types.Assertion { return t.g.Expect(actual, extra...) }

// Fatalf fails the case: the target does not conform.
func (t *T) Fatalf(format string, args ...any) { t.fail(fmt.Sprintf(format, args...)) }

// Skipf ends the case as unsupported on this target.
func (t *T) Skipf(format string, args ...any) { t.rep.Skip(fmt.Sprintf(format, args...)) }

// Errorf ends the case with a harness error.
func (t *T) Errorf(format string, args ...any) { t.ErrorAt(caller(), fmt.Errorf(format, args...)) }

// ErrorAt ends the case with a harness (or script) error at where.
func (t *T) ErrorAt(where string, err error) {
	t.rep.Error((&HarnessError{Where: where, Err: err}).Error())
}

// SkipAt ends the case as unsupported on this target, naming the line that
// needs what the target lacks.
func (t *T) SkipAt(where, why string) { t.rep.Skip(where + ": " + why) }

// fail reports nonconformance at the case's own line, and writes the pcap.
func (t *T) fail(msg string) { t.FailAt(caller(), msg) }

// FailAt reports nonconformance at where (a file:line of a case or script),
// and writes the pcap.
func (t *T) FailAt(where, msg string) {
	msg = where + ": " + msg
	if t.pcapDir != "" {
		path := filepath.Join(t.pcapDir, Slug(t.c.FullName())+".pcap")
		if err := t.peer.rec.WriteFile(path); err != nil {
			msg += "\n  pcap      not written: " + err.Error()
		} else {
			t.PcapPath = path
			msg += "\n  pcap      " + path
		}
	}
	t.rep.Fail(msg)
}

// check ends the case according to the class of err.
func (t *T) check(err error) {
	if err == nil {
		return
	}
	if nc, ok := err.(*Nonconformance); ok {
		t.fail(nc.Message)
	}
	if errors.Is(err, targets.ErrTargetFailed) {
		t.fail(err.Error())
	}
	t.rep.Error((&HarnessError{Where: caller(), Err: err}).Error())
}

// Dial makes a connection the peer opens to the target's port; see Peer.Dial.
func (t *T) Dial(targetPort uint16) *TConn { return &TConn{Conn: t.peer.Dial(targetPort), t: t} }

// Await makes a connection the target opens to the peer; see Peer.Await.
func (t *T) Await() *TConn { return &TConn{Conn: t.peer.Await(), t: t} }

// TConn is a Conn whose steps end the case when they go wrong.
type TConn struct {
	*Conn
	t *T
}

// Send injects a segment (see Conn.TrySend); a failure is a harness error.
func (c *TConn) Send(flags wire.Flags, opts ...SendOption) wire.Segment {
	s, err := c.TrySend(flags, opts...)
	c.t.check(err)
	return s
}

// Expect consumes the next segment on the connection and fails the case
// unless it matches m (see Conn.TryExpect). It returns what arrived.
func (c *TConn) Expect(m types.GomegaMatcher) expectations.Observed {
	o, err := c.TryExpect(c.t.ctx, m)
	c.t.check(err)
	return o
}

// ExpectAfter consumes the next segment on the connection and fails the case
// unless it matches m and leaves d from now (see Conn.TryExpectAfter).
func (c *TConn) ExpectAfter(d time.Duration, m types.GomegaMatcher) expectations.Observed {
	o, err := c.TryExpectAfter(c.t.ctx, d, m)
	c.t.check(err)
	return o
}

// ExpectNothing fails the case if the target sends anything on the
// connection in the next d of instance time.
func (c *TConn) ExpectNothing(d time.Duration) {
	c.t.check(c.TryExpectNothing(c.t.ctx, d))
}

// Sleep lets d of instance time pass.
func (t *T) Sleep(d time.Duration) { t.check(t.peer.Sleep(t.ctx, d)) }

// Sockets returns the target's application side, unchecked: calls return
// errno values for the case to assert on.
func (t *T) Sockets() targets.Sockets { return t.peer.Sockets() }

// domain is the socket family matching the peer's.
func (t *T) domain() int {
	if t.peer.family == IPv6 {
		return syscall.AF_INET6
	}
	return syscall.AF_INET
}

// must turns a socket call's error into the case's end: an errno is the
// target refusing a call the case needs, and a target that died fails the
// case too (nonconformance); anything else is a harness error.
func (t *T) must(call string, err error) {
	if err == nil {
		return
	}
	if errno, ok := err.(syscall.Errno); ok {
		t.fail(fmt.Sprintf("%s failed: %s (%d)", call, linuxabi.ErrnoName(errno), int(errno)))
	}
	if errors.Is(err, targets.ErrTargetFailed) {
		t.fail(fmt.Sprintf("%s: %v", call, err))
	}
	if errors.Is(err, context.DeadlineExceeded) && t.ctx.Err() == nil {
		t.fail(fmt.Sprintf("%s blocked for %v: the target never completed it", call, BlockingCallLimit))
	}
	t.rep.Error((&HarnessError{Where: caller(), Err: fmt.Errorf("%s: %w", call, err)}).Error())
}

// BlockingCallLimit bounds, in wall time, a blocking socket call made through
// T. A case runs on one goroutine, so whatever such a call waits for is
// already under way when it is made; if it has not come by then, it will not.
const BlockingCallLimit = 2 * time.Second

// blocking returns a context for one blocking socket call.
func (t *T) blocking() (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.ctx, BlockingCallLimit)
}

// ListenerState returns the target's state for its listening socket on port,
// or state.Unknown when the target cannot tell.
func (t *T) ListenerState(port uint16) state.State {
	return t.peer.state(targets.Tuple{Local: netip.AddrPortFrom(t.peer.TargetAddr(), port)})
}

// Socket creates a blocking TCP socket in the peer's family.
func (t *T) Socket() int {
	fd, err := t.Sockets().Socket(t.domain(), syscall.SOCK_STREAM, syscall.IPPROTO_TCP)
	t.must("socket()", err)
	return fd
}

// Listen creates a socket listening on port of the target's address.
func (t *T) Listen(port uint16) int {
	fd := t.Socket()
	t.must("bind()", t.Sockets().Bind(fd, netip.AddrPortFrom(t.peer.TargetAddr(), port)))
	t.must("listen()", t.Sockets().Listen(fd, 16))
	return fd
}

// Accept accepts a connection on a listening socket.
func (t *T) Accept(fd int) int {
	ctx, cancel := t.blocking()
	defer cancel()
	nfd, _, err := t.Sockets().Accept(ctx, fd)
	t.must("accept()", err)
	return nfd
}

// Write writes all of b.
func (t *T) Write(fd int, b []byte) {
	ctx, cancel := t.blocking()
	defer cancel()
	n, err := t.Sockets().Write(ctx, fd, b)
	t.must("write()", err)
	if n != len(b) {
		t.Fatalf("write() took %d of %d bytes", n, len(b))
	}
}

// Read reads up to n bytes.
func (t *T) Read(fd int, n int) []byte {
	ctx, cancel := t.blocking()
	defer cancel()
	b, err := t.Sockets().Read(ctx, fd, n)
	t.must("read()", err)
	return b
}

// Shutdown shuts down one or both directions.
func (t *T) Shutdown(fd int, how int) { t.must("shutdown()", t.Sockets().Shutdown(fd, how)) }

// Close closes a socket.
func (t *T) Close(fd int) { t.must("close()", t.Sockets().Close(fd)) }

// ErrnoName returns the symbolic name of an errno ("EAGAIN").
func ErrnoName(e syscall.Errno) string { return linuxabi.ErrnoName(e) }

var moduleDir = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file)) + string(filepath.Separator)
}()

// engineFrame matches functions whose frames a failure location skips: the
// engine and the assertion library, so the location is the case's own line.
var engineFrame = regexp.MustCompile(`^(github\.com/tcpconform/tcpconform/(injector|expectations)\.|github\.com/onsi/gomega|runtime\.)`)

// caller returns file:line of the innermost frame outside the engine, with
// the file relative to the module.
func caller() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !engineFrame.MatchString(f.Function) || strings.HasSuffix(f.File, "_test.go") {
			file := strings.TrimPrefix(f.File, moduleDir)
			file = strings.TrimPrefix(file, "github.com/tcpconform/tcpconform/")
			return fmt.Sprintf("%s:%d", file, f.Line)
		}
		if !more {
			return "?"
		}
	}
}

var slugRE = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Slug turns a case name into a file name.
func Slug(name string) string {
	return strings.Trim(slugRE.ReplaceAllString(name, "-"), "-")
}
