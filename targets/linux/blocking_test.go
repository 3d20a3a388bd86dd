package linux

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"
)

// sleepingIn lists the threads of this process that sleep (state S) inside
// system call nr, from /proc/self/task/<tid>/{stat,syscall}.
func sleepingIn(t *testing.T, nr int) []int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*")
	if err != nil {
		t.Fatal(err)
	}
	var tids []int
	for _, task := range tasks {
		sc, err := os.ReadFile(filepath.Join(task, "syscall"))
		if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.ENOSYS) {
			t.Skipf("cannot see threads' system calls: %v", err)
		}
		if err != nil {
			continue // the thread ended
		}
		fields := strings.Fields(string(sc))
		if len(fields) == 0 || fields[0] != strconv.Itoa(nr) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(task, "stat"))
		if err != nil {
			continue
		}
		// The state follows the command name, which is in parentheses.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		if st := strings.Fields(rest); len(st) > 0 && st[0] == "S" {
			tid, _ := strconv.Atoi(filepath.Base(task))
			tids = append(tids, tid)
		}
	}
	return tids
}

// eventually polls cond for up to 2 s.
func eventually(cond func() bool) bool {
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func listener(t *testing.T, so targets.Sockets, port uint16) int {
	t.Helper()
	fd, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM, syscall.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	if err := so.Bind(fd, addrPortOf(addrs.Local4, port)); err != nil {
		t.Fatal(err)
	}
	if err := so.Listen(fd, 10); err != nil {
		t.Fatal(err)
	}
	return fd
}

type acceptResult struct {
	fd  int
	err error
}

// A blocking accept sleeps in accept4(2) on a thread of its own, and ending
// its context wakes it: the call returns the context's error and no thread
// is left in the kernel.
func TestBlockingAcceptIsARealSystemCallAndCancellable(t *testing.T) {
	in := newInstance(t)
	so := in.Sockets()
	fd := listener(t, so, 8080)
	before := len(sleepingIn(t, unix.SYS_ACCEPT4))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan acceptResult, 1)
	go func() {
		nfd, _, err := so.Accept(ctx, fd)
		done <- acceptResult{nfd, err}
	}()
	if !eventually(func() bool { return len(sleepingIn(t, unix.SYS_ACCEPT4)) > before }) {
		t.Fatal("no thread sleeps in accept4 while the blocking accept waits")
	}
	select {
	case r := <-done:
		t.Fatalf("accept returned before any connection: %d %v", r.fd, r.err)
	default:
	}
	start := time.Now()
	cancel()
	select {
	case r := <-done:
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("accept after cancel: %d %v, want context.Canceled", r.fd, r.err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("accept did not return after its context ended")
	}
	t.Logf("accept woke %v after the cancel", time.Since(start))
	if !eventually(func() bool { return len(sleepingIn(t, unix.SYS_ACCEPT4)) == before }) {
		t.Error("a thread still sleeps in accept4 after the call returned")
	}
	if inflight := in.InFlight(); inflight != 0 {
		t.Errorf("%d calls still in flight", inflight)
	}
}

// The descriptor's O_NONBLOCK is what the script set, at creation and
// later, and a call on a non-blocking socket gets the kernel's own EAGAIN.
func TestNonblockingFlagIsTheDescriptors(t *testing.T) {
	in := newInstance(t)
	so := in.Sockets()
	fd, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, syscall.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	nonblock := func() bool {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fl&unix.O_NONBLOCK != 0
	}
	if !nonblock() {
		t.Error("socket(SOCK_NONBLOCK) made a blocking descriptor")
	}
	if err := so.SetNonblock(fd, false); err != nil || nonblock() {
		t.Errorf("after SetNonblock(false): O_NONBLOCK %v (%v)", nonblock(), err)
	}
	if err := so.SetNonblock(fd, true); err != nil || !nonblock() {
		t.Errorf("after SetNonblock(true): O_NONBLOCK %v (%v)", nonblock(), err)
	}
	lfd := listener(t, so, 8081)
	if err := so.SetNonblock(lfd, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := so.Accept(context.Background(), lfd); err != unix.EAGAIN {
		t.Errorf("non-blocking accept: %v, want EAGAIN", err)
	}
}

// The kernel sees a blocked writer: a write on a blocking socket still in
// SYN-SENT waits in the kernel for the handshake (sk_write_pending), so
// Linux holds back the ACK of the SYN-ACK and the data carries it. A writer
// emulated by polling would draw a pure ACK first.
func TestBlockedWriterMakesTheKernelDelayTheAck(t *testing.T) {
	in := newInstance(t)
	so := in.Sockets()
	fd, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, syscall.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	peer := addrPortOf(addrs.Peer4, 8080)
	if err := so.Connect(ctx, fd, peer); err != unix.EINPROGRESS {
		t.Fatalf("non-blocking connect: %v, want EINPROGRESS", err)
	}
	p, err := in.link.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	synSeg, err := wire.Decode(p.Data)
	if err != nil || synSeg.Flags != wire.SYN {
		t.Fatalf("want the SYN, got %v (%v)", synSeg, err)
	}
	if err := so.SetNonblock(fd, false); err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() {
		n, err := so.Write(ctx, fd, make([]byte, 100))
		if err == nil && n != 100 {
			err = errors.New("short write " + strconv.Itoa(n))
		}
		wrote <- err
	}()
	if !eventually(func() bool { return len(sleepingIn(t, unix.SYS_WRITE)) > 0 }) {
		t.Error("no thread sleeps in write while the handshake is open")
	}
	synack, err := wire.Encode(wire.Segment{
		IP:      wire.IP{Src: addrs.Peer4, Dst: addrs.Local4, TTL: 64},
		SrcPort: 8080, DstPort: synSeg.SrcPort, Seq: 5000, Ack: synSeg.Seq.Add(1),
		Flags: wire.SYN | wire.ACK, Window: 65535, Options: []wire.Option{wire.MSS(1460)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.link.Inject(synack); err != nil {
		t.Fatal(err)
	}
	var next wire.Segment
	for next.Flags&wire.ACK == 0 { // past any retransmitted SYN
		p, err = in.link.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if next, err = wire.Decode(p.Data); err != nil {
			t.Fatal(err)
		}
	}
	if next.Flags&wire.ACK == 0 || next.Ack != 5001 || len(next.Payload) != 100 {
		t.Errorf("after the SYN-ACK the kernel sent %v with %d bytes; want the ACK of 5001 riding on the 100 bytes", next, len(next.Payload))
	}
	if err := <-wrote; err != nil {
		t.Errorf("blocking write: %v", err)
	}
}

// Closing the instance wakes a call blocked in it, which fails with EBADF;
// the namespace goes and no goroutine is left behind.
func TestCloseWhileACallIsBlocked(t *testing.T) {
	need(t)
	goroutines := runtime.NumGoroutine()
	inst, err := Target{}.New(context.Background(), targets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	in := inst.(*instance)
	so := in.Sockets()
	fd := listener(t, so, 8080)
	cfd, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM, syscall.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	before := len(sleepingIn(t, unix.SYS_ACCEPT4))
	done := make(chan acceptResult, 1)
	go func() {
		nfd, _, err := so.Accept(context.Background(), fd)
		done <- acceptResult{nfd, err}
	}()
	connected := make(chan error, 1)
	go func() { connected <- so.Connect(context.Background(), cfd, addrPortOf(addrs.Peer4, 8080)) }()
	if !eventually(func() bool { return len(sleepingIn(t, unix.SYS_ACCEPT4)) > before }) {
		t.Fatal("no thread sleeps in accept4")
	}
	if !eventually(func() bool { return len(sleepingIn(t, unix.SYS_CONNECT)) > 0 }) {
		t.Fatal("no thread sleeps in connect")
	}
	closed := make(chan struct{})
	go func() { inst.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not return while calls were blocked")
	}
	for name, err := range map[string]error{"accept": (<-done).err, "connect": <-connected} {
		if err != unix.EBADF {
			t.Errorf("%s blocked while the instance closed: %v, want EBADF", name, err)
		}
	}
	WaitClosed()
	if left := ourNamespaces(t); len(left) != 0 {
		t.Errorf("namespaces left after Close: %v", left)
	}
	if !eventually(func() bool { return runtime.NumGoroutine() <= goroutines }) {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), goroutines, buf[:runtime.Stack(buf, true)])
	}
	if n := len(sleepingIn(t, unix.SYS_ACCEPT4)) + len(sleepingIn(t, unix.SYS_CONNECT)); n > before {
		t.Errorf("%d threads still sleep in accept4 or connect", n)
	}
}

// A pipe stays non-blocking underneath whatever the script sets, since no
// shutdown could wake a call blocked on it; a blocking read on it still
// waits for data, and ends with its context.
func TestBlockingPipeReadWaitsAndEnds(t *testing.T) {
	in := newInstance(t)
	so := in.Stack
	r, w, err := so.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := so.SetNonblock(r, false); err != nil {
		t.Fatal(err)
	}
	if fl, err := unix.FcntlInt(uintptr(r), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("pipe after SetNonblock(false): flags %#x (%v), want O_NONBLOCK kept", fl, err)
	}
	type readResult struct {
		b   []byte
		err error
	}
	read := func(ctx context.Context) chan readResult {
		c := make(chan readResult, 1)
		go func() {
			b, err := so.Read(ctx, r, 10)
			c <- readResult{b, err}
		}()
		return c
	}
	got := read(context.Background())
	select {
	case res := <-got:
		t.Fatalf("blocking read on an empty pipe returned %q %v", res.b, res.err)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := so.Write(context.Background(), w, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-got:
		if string(res.b) != "hello" || res.err != nil {
			t.Errorf("read %q %v, want hello", res.b, res.err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("blocking read did not return after the write")
	}
	ctx, cancel := context.WithCancel(context.Background())
	got = read(ctx)
	cancel()
	select {
	case res := <-got:
		if !errors.Is(res.err, context.Canceled) {
			t.Errorf("cancelled read: %q %v, want context.Canceled", res.b, res.err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("blocking read on a pipe did not end with its context")
	}
}
