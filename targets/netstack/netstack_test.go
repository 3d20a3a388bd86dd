package netstack

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
)

const listenPort = 8080

var (
	local4 = netip.AddrPortFrom(addrs.Local4, listenPort)
	peer4  = netip.AddrPortFrom(addrs.Peer4, 40000)
	local6 = netip.AddrPortFrom(addrs.Local6, listenPort)
	peer6  = netip.AddrPortFrom(addrs.Peer6, 40000)
)

// env is one instance plus a few shortcuts.
type env struct {
	t  testing.TB
	in targets.Instance
	ln targets.Link
	so targets.Sockets
	ck targets.Clock
}

func newEnv(t testing.TB, cfg targets.Config) *env {
	t.Helper()
	in, err := Target{}.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return &env{t: t, in: in, ln: in.Link(), so: in.Sockets(), ck: in.Clock()}
}

func (e *env) inject(s seg) {
	e.t.Helper()
	if err := e.ln.Inject(s.build()); err != nil {
		e.t.Fatal(err)
	}
}

// expect settles and returns the next packet sent, which must exist and have
// valid checksums.
func (e *env) expect() (seg, targets.Packet) {
	e.t.Helper()
	e.ck.Settle()
	p, ok := e.ln.Poll()
	if !ok {
		e.t.Fatal("no packet sent")
	}
	s, err := parse(p.Data)
	if err != nil {
		e.t.Fatal(err)
	}
	if !s.ipOK || !s.tcpOK {
		e.t.Fatalf("bad checksum (ip %v, tcp %v): %v", s.ipOK, s.tcpOK, s)
	}
	return s, p
}

func (e *env) expectNone() {
	e.t.Helper()
	e.ck.Settle()
	if p, ok := e.ln.Poll(); ok {
		s, _ := parse(p.Data)
		e.t.Fatalf("unexpected packet %v", s)
	}
}

func (e *env) state(local, remote netip.AddrPort) state.State {
	e.t.Helper()
	e.ck.Settle()
	s, ok := e.in.State(targets.Tuple{Local: local, Remote: remote})
	if !ok {
		e.t.Fatalf("no state for %v <-> %v", local, remote)
	}
	return s
}

func (e *env) listen(domain int, addr netip.AddrPort) int {
	e.t.Helper()
	fd, err := e.so.Socket(domain, syscall.SOCK_STREAM, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.so.Bind(fd, addr); err != nil {
		e.t.Fatal(err)
	}
	if err := e.so.Listen(fd, 16); err != nil {
		e.t.Fatal(err)
	}
	return fd
}

// conn is the peer's side of one connection, without timestamps.
type conn struct {
	e             *env
	local, remote netip.AddrPort // local is the stack's side
	snd, rcv      uint32         // peer's SND.NXT and RCV.NXT
}

func (c *conn) send(flags uint8, payload []byte) {
	c.e.t.Helper()
	c.e.inject(seg{src: c.remote, dst: c.local, seq: c.snd, ack: c.rcv, flags: flags, payload: payload})
	c.snd += uint32(len(payload))
	if flags&(flSYN|flFIN) != 0 {
		c.snd++
	}
}

// handshake opens a connection to a listener at local from remote, with a
// bare SYN (MSS only), and leaves it ESTABLISHED.
func (e *env) handshake(local, remote netip.AddrPort) *conn {
	e.t.Helper()
	c := &conn{e: e, local: local, remote: remote, snd: 1000}
	e.inject(seg{src: remote, dst: local, seq: c.snd, flags: flSYN, opts: optMSS(1460)})
	c.snd++
	sa, _ := e.expect()
	if sa.flags != flSYN|flACK || sa.ack != c.snd {
		e.t.Fatalf("want SYN-ACK, got %v", sa)
	}
	c.rcv = sa.seq + 1
	c.send(flACK, nil)
	if s := e.state(local, remote); s != state.Established {
		e.t.Fatalf("state after handshake %v", s)
	}
	return c
}

func TestRegistered(t *testing.T) {
	tg, err := targets.Lookup("netstack")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Available() != nil || tg.Describe() == "" {
		t.Fatal("target not usable")
	}
	e := newEnv(t, targets.Config{})
	c := e.in.Capabilities()
	want := targets.Capabilities{IPv4: true, IPv6: true, VirtualTime: true, State: true, SynReceivedState: true}
	if c != want {
		t.Fatalf("capabilities %+v", c)
	}
	if !e.ck.Virtual() {
		t.Fatal("clock not virtual")
	}
	if e.in.Addrs() != addrs {
		t.Fatal("addrs")
	}
	// Nothing is sent at start-up, and no timer is armed.
	e.expectNone()
	if at, ok := e.ck.NextTimer(); ok {
		t.Logf("timer pending at start: %v", at.Sub(e.ck.Now()))
	}
}

func TestHandshakeSynReceivedAccept(t *testing.T) {
	e := newEnv(t, targets.Config{})
	lfd := e.listen(syscall.AF_INET, local4)
	if lfd != 3 {
		t.Fatalf("first fd %d, want 3", lfd)
	}
	if err := e.so.SetNonblock(lfd, true); err != nil {
		t.Fatal(err)
	}
	if s := e.state(local4, netip.AddrPort{}); s != state.Listen {
		t.Fatalf("listener state %v", s)
	}
	e.inject(seg{src: peer4, dst: local4, seq: 1000, flags: flSYN,
		opts: cat(optMSS(1460), optSACKPerm(), optTS(5000, 0), []byte{1}, optWS(7))})
	sa, _ := e.expect()
	if sa.flags != flSYN|flACK || sa.ack != 1001 || sa.src != local4 || sa.dst != peer4 {
		t.Fatalf("want SYN-ACK, got %v", sa)
	}
	if !sa.hasTS || sa.tsEcr != 5000 || sa.mss != 1460 || !sa.df || sa.ttl != 64 {
		t.Fatalf("SYN-ACK options/IP: %+v", sa)
	}
	e.expectNone()
	if s := e.state(local4, peer4); s != state.SynReceived {
		t.Fatalf("child state %v, want SYN-RECEIVED", s)
	}
	if _, _, err := e.so.Accept(context.Background(), lfd); err != syscall.EAGAIN {
		t.Fatalf("accept before handshake: %v", err)
	}
	// A TS-less final ACK is dropped once TS was negotiated (netstack).
	e.inject(seg{src: peer4, dst: local4, seq: 1001, ack: sa.seq + 1, flags: flACK})
	if s := e.state(local4, peer4); s != state.SynReceived {
		t.Fatalf("after TS-less ACK: %v", s)
	}
	e.inject(seg{src: peer4, dst: local4, seq: 1001, ack: sa.seq + 1, flags: flACK, opts: optTS(5001, sa.tsVal)})
	if s := e.state(local4, peer4); s != state.Established {
		t.Fatalf("after ACK: %v", s)
	}
	e.expectNone()
	afd, peer, err := e.so.Accept(context.Background(), lfd)
	if err != nil || peer != peer4 || afd != 4 {
		t.Fatalf("accept: fd %d peer %v err %v", afd, peer, err)
	}
	if la, err := e.so.LocalAddr(afd); err != nil || la != local4 {
		t.Fatalf("LocalAddr %v %v", la, err)
	}
	if ra, err := e.so.RemoteAddr(afd); err != nil || ra != peer4 {
		t.Fatalf("RemoteAddr %v %v", ra, err)
	}
}

func TestIPv6Handshake(t *testing.T) {
	e := newEnv(t, targets.Config{})
	lfd := e.listen(syscall.AF_INET6, netip.AddrPortFrom(netip.IPv6Unspecified(), listenPort))
	c := e.handshake(local6, peer6)
	afd, peer, err := e.so.Accept(context.Background(), lfd)
	if err != nil || peer != peer6 {
		t.Fatalf("accept: %v %v", peer, err)
	}
	c.send(flACK|flPSH, []byte("hi"))
	ack, _ := e.expect()
	if ack.flags != flACK || ack.ack != c.snd {
		t.Fatalf("want immediate ACK, got %v", ack)
	}
	b, err := e.so.Read(context.Background(), afd, 10)
	if err != nil || string(b) != "hi" {
		t.Fatalf("read %q %v", b, err)
	}
}

func TestClosedPortRST(t *testing.T) {
	e := newEnv(t, targets.Config{})
	e.inject(seg{src: peer4, dst: netip.AddrPortFrom(addrs.Local4, 9), seq: 777, flags: flSYN, opts: optMSS(1460)})
	r, _ := e.expect()
	if r.flags != flRST|flACK || r.seq != 0 || r.ack != 778 || r.win != 0 {
		t.Fatalf("want RST,ACK, got %v", r)
	}
	// A corrupted checksum is dropped silently: no RST.
	b := seg{src: peer4, dst: netip.AddrPortFrom(addrs.Local4, 9), seq: 777, flags: flSYN}.build()
	b[len(b)-1] ^= 0xff
	if err := e.ln.Inject(b); err != nil {
		t.Fatal(err)
	}
	e.expectNone()
}

// activeCloseToTimeWait drives a connection through the stack's active close
// into TIME-WAIT.
func activeCloseToTimeWait(t *testing.T, e *env) *conn {
	lfd := e.listen(syscall.AF_INET, local4)
	c := e.handshake(local4, peer4)
	afd, _, err := e.so.Accept(context.Background(), lfd)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.so.Close(afd); err != nil {
		t.Fatal(err)
	}
	fin, _ := e.expect()
	if fin.flags != flFIN|flACK {
		t.Fatalf("want FIN, got %v", fin)
	}
	if s := e.state(local4, peer4); s != state.FinWait1 {
		t.Fatalf("state %v", s)
	}
	c.rcv++
	c.send(flACK, nil)
	if s := e.state(local4, peer4); s != state.FinWait2 {
		t.Fatalf("state %v", s)
	}
	c.send(flFIN|flACK, nil)
	ack, _ := e.expect()
	if ack.flags != flACK || ack.ack != c.snd {
		t.Fatalf("want ACK of FIN, got %v", ack)
	}
	if s := e.state(local4, peer4); s != state.TimeWait {
		t.Fatalf("state %v", s)
	}
	return c
}

// hasDeadline reports whether some armed timer of the instance falls due at.
func hasDeadline(in targets.Instance, at time.Time) bool {
	vc := in.(*instance).vc
	vc.mu.Lock()
	defer vc.mu.Unlock()
	for _, d := range vc.active {
		if d.Equal(at) {
			return true
		}
	}
	return false
}

func TestTimeWait(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, targets.Config{})
	activeCloseToTimeWait(t, e)
	start := e.ck.Now()
	// The TIME-WAIT timer is armed. NextTimer may first report the
	// retransmission timer of the FIN, which netstack disables lazily: its
	// clock timer stays armed and fires as a no-op.
	if !hasDeadline(e.in, start.Add(60*time.Second)) {
		t.Fatal("no timer at +60s")
	}
	if at, ok := e.ck.NextTimer(); !ok || at.After(start.Add(60*time.Second)) {
		t.Fatalf("NextTimer +%v %v", at.Sub(start), ok)
	}
	if err := e.ck.Advance(ctx, 59999*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if s := e.state(local4, peer4); s != state.TimeWait {
		t.Fatalf("at 59.999s: %v", s)
	}
	if at, ok := e.ck.NextTimer(); !ok || !at.Equal(start.Add(60*time.Second)) {
		t.Fatalf("NextTimer +%v %v, want +60s", at.Sub(start), ok)
	}
	e.expectNone()
	if err := e.ck.Advance(ctx, 2*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if s := e.state(local4, peer4); s != state.Closed {
		t.Fatalf("at 60.001s: %v", s)
	}
	if !e.ck.Now().Equal(start.Add(60001 * time.Millisecond)) {
		t.Fatalf("clock %v", e.ck.Now().Sub(start))
	}
	if at, ok := e.ck.NextTimer(); ok {
		t.Fatalf("timer left at +%v", at.Sub(e.ck.Now()))
	}
	e.expectNone()
}

func TestTimeWaitConfigured(t *testing.T) {
	e := newEnv(t, targets.Config{TimeWait: 5 * time.Second})
	activeCloseToTimeWait(t, e)
	end := e.ck.Now().Add(5 * time.Second)
	if !hasDeadline(e.in, end) {
		t.Fatal("no timer at +5s")
	}
	// Jump from timer to timer, as the harness does.
	for e.ck.Now().Before(end) {
		at, ok := e.ck.NextTimer()
		if !ok || at.After(end) {
			t.Fatalf("NextTimer %v %v", at, ok)
		}
		if err := e.ck.Advance(context.Background(), at.Sub(e.ck.Now())); err != nil {
			t.Fatal(err)
		}
	}
	if s := e.state(local4, peer4); s != state.Closed {
		t.Fatalf("%v", s)
	}
}

// TestSettle checks that, with Settle, a state read right after an injection
// already shows the effect, many times over.
func TestSettle(t *testing.T) {
	e := newEnv(t, targets.Config{})
	lfd := e.listen(syscall.AF_INET, local4)
	for i := range 200 {
		remote := netip.AddrPortFrom(addrs.Peer4, uint16(20000+i))
		c := e.handshake(local4, remote)
		afd, _, err := e.so.Accept(context.Background(), lfd)
		if err != nil {
			t.Fatal(err)
		}
		c.send(flFIN|flACK, nil)
		if s := e.state(local4, remote); s != state.CloseWait {
			t.Fatalf("iteration %d: %v", i, s)
		}
		if _, ok := e.ln.Poll(); !ok {
			t.Fatalf("iteration %d: FIN not ACKed", i)
		}
		if err := e.so.Close(afd); err != nil {
			t.Fatal(err)
		}
		if s := e.state(local4, remote); s != state.LastAck {
			t.Fatalf("iteration %d: after close %v", i, s)
		}
		e.ln.Poll() // our FIN
	}
}

func synACKFor(t *testing.T, seed uint64) seg {
	e := newEnv(t, targets.Config{Seed: seed})
	e.listen(syscall.AF_INET, local4)
	e.inject(seg{src: peer4, dst: local4, seq: 1000, flags: flSYN, opts: cat(optMSS(1460), optTS(1, 0))})
	s, _ := e.expect()
	return s
}

func TestSeedDeterminism(t *testing.T) {
	a, b := synACKFor(t, 42), synACKFor(t, 42)
	if a.seq != b.seq || a.tsVal != b.tsVal {
		t.Fatalf("same seed: ISN %d/%d TSval %d/%d", a.seq, b.seq, a.tsVal, b.tsVal)
	}
	c := synACKFor(t, 43)
	if c.seq == a.seq || c.tsVal == a.tsVal {
		t.Fatalf("different seed, same ISN %d or TSval %d", c.seq, c.tsVal)
	}
	if d, z := synACKFor(t, defaultSeed), synACKFor(t, 0); d.seq != z.seq {
		t.Fatal("seed 0 is not the default seed")
	}

	// Ephemeral ports repeat too.
	port := func(seed uint64) uint16 {
		e := newEnv(t, targets.Config{Seed: seed})
		fd, err := e.so.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.so.Connect(context.Background(), fd, peer4); err != syscall.EINPROGRESS {
			t.Fatal(err)
		}
		s, _ := e.expect()
		return s.src.Port()
	}
	if p1, p2 := port(7), port(7); p1 != p2 {
		t.Fatalf("ephemeral ports %d/%d", p1, p2)
	}
}

// TestRetransmitStamp checks that a packet a timer sends during Advance is
// stamped with the timer's deadline, not with the end of the Advance.
func TestRetransmitStamp(t *testing.T) {
	e := newEnv(t, targets.Config{})
	e.listen(syscall.AF_INET, local4)
	start := e.ck.Now()
	e.inject(seg{src: peer4, dst: local4, seq: 1000, flags: flSYN, opts: cat(optMSS(1460), optTS(1, 0))})
	first, p := e.expect()
	if !p.At.Equal(start) {
		t.Fatalf("SYN-ACK stamped +%v", p.At.Sub(start))
	}
	at, ok := e.ck.NextTimer()
	if !ok || !at.Equal(start.Add(time.Second)) {
		t.Fatalf("NextTimer +%v %v, want +1s", at.Sub(start), ok)
	}
	if err := e.ck.Advance(context.Background(), 2500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	re, p := e.expect()
	if !p.At.Equal(start.Add(time.Second)) {
		t.Fatalf("retransmission stamped +%v, want +1s", p.At.Sub(start))
	}
	if re.flags != flSYN|flACK || re.seq != first.seq {
		t.Fatalf("want retransmitted SYN-ACK, got %v", re)
	}
	// Netstack reuses the TSval of the first SYN-ACK (a known behaviour,
	// documented in the package comment).
	if re.tsVal != first.tsVal {
		t.Fatalf("retransmitted SYN-ACK TSval %d, first %d", re.tsVal, first.tsVal)
	}
	e.expectNone()
	if at, ok := e.ck.NextTimer(); !ok || !at.Equal(start.Add(3*time.Second)) {
		t.Fatalf("next retransmission at +%v %v, want +3s", at.Sub(start), ok)
	}
}

func TestErrno(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, targets.Config{})
	so := e.so

	if _, err := so.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0); err != syscall.EAFNOSUPPORT {
		t.Fatalf("AF_UNIX: %v", err)
	}
	if _, err := so.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0); err == nil {
		t.Fatal("SOCK_DGRAM accepted")
	}
	for _, err := range []error{
		so.Close(99), so.Bind(99, local4), so.Listen(99, 1), so.Shutdown(99, syscall.SHUT_WR),
		so.SetNonblock(99, true), so.SetsockoptInt(99, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1),
		so.Connect(ctx, 99, peer4),
	} {
		if err != syscall.EBADF {
			t.Fatalf("bad fd: %v", err)
		}
	}
	if _, err := so.Read(ctx, 99, 1); err != syscall.EBADF {
		t.Fatal(err)
	}

	// Non-blocking accept.
	lfd, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := so.Bind(lfd, local4); err != nil {
		t.Fatal(err)
	}
	if _, _, err := so.Accept(ctx, lfd); err != syscall.EINVAL {
		t.Fatalf("accept on unlistened socket: %v", err)
	}
	if err := so.Listen(lfd, 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := so.Accept(ctx, lfd); err != syscall.EAGAIN {
		t.Fatalf("nonblocking accept: %v", err)
	}
	fd2, _ := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err := so.Bind(fd2, local4); err != syscall.EADDRINUSE {
		t.Fatalf("bind in use: %v", err)
	}
	if err := so.Close(fd2); err != nil {
		t.Fatal(err)
	}
	if err := so.Close(fd2); err != syscall.EBADF {
		t.Fatalf("double close: %v", err)
	}

	// Non-blocking connect, completed by the peer.
	cfd, _ := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
	if cfd != 4 {
		t.Fatalf("lowest free fd not reused: %d", cfd)
	}
	if _, err := so.RemoteAddr(cfd); err != syscall.ENOTCONN {
		t.Fatalf("getpeername unconnected: %v", err)
	}
	if la, err := so.LocalAddr(cfd); err != nil || la != netip.AddrPortFrom(netip.IPv4Unspecified(), 0) {
		t.Fatalf("getsockname unbound: %v %v", la, err)
	}
	if err := so.Connect(ctx, cfd, peer4); err != syscall.EINPROGRESS {
		t.Fatalf("nonblocking connect: %v", err)
	}
	if err := so.Connect(ctx, cfd, peer4); err != syscall.EALREADY {
		t.Fatalf("second connect: %v", err)
	}
	syn, _ := e.expect()
	if syn.flags != flSYN {
		t.Fatalf("want SYN, got %v", syn)
	}
	if s := e.state(syn.src, peer4); s != state.SynSent {
		t.Fatalf("state %v", s)
	}
	if _, err := so.Read(ctx, cfd, 1); err != syscall.EAGAIN && err != syscall.ENOTCONN {
		t.Fatalf("read while connecting: %v", err)
	}
	e.inject(seg{src: peer4, dst: syn.src, seq: 5000, ack: syn.seq + 1, flags: flSYN | flACK, opts: optMSS(1460)})
	ack, _ := e.expect()
	if ack.flags != flACK || ack.ack != 5001 {
		t.Fatalf("want ACK, got %v", ack)
	}
	if s := e.state(syn.src, peer4); s != state.Established {
		t.Fatalf("state %v", s)
	}
	if v, err := so.GetsockoptInt(cfd, syscall.SOL_SOCKET, syscall.SO_ERROR); err != nil || v != 0 {
		t.Fatalf("SO_ERROR %d %v", v, err)
	}
	if _, err := so.Read(ctx, cfd, 1); err != syscall.EAGAIN {
		t.Fatalf("nonblocking read: %v", err)
	}
	// RST from the peer.
	e.inject(seg{src: peer4, dst: syn.src, seq: 5001, flags: flRST})
	if s := e.state(syn.src, peer4); s != state.Closed {
		t.Fatalf("after RST: %v", s)
	}
	if _, err := so.Read(ctx, cfd, 1); err != syscall.ECONNRESET {
		t.Fatalf("read after RST: %v", err)
	}

	// Blocking connect, refused.
	bfd, _ := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	done := make(chan error, 1)
	go func() { done <- so.Connect(ctx, bfd, netip.AddrPortFrom(addrs.Peer4, 81)) }()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p, err := e.ln.Next(wctx)
	if err != nil {
		t.Fatal(err)
	}
	syn, _ = parse(p.Data)
	e.inject(seg{src: syn.dst, dst: syn.src, ack: syn.seq + 1, flags: flRST | flACK})
	if err := <-done; err != syscall.ECONNREFUSED {
		t.Fatalf("blocking connect: %v", err)
	}

	// Blocking accept gives up with ctx.
	cctx, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	if err := so.SetNonblock(lfd, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := so.Accept(cctx, lfd); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocking accept: %v", err)
	}

	// Options.
	if err := so.SetsockoptInt(lfd, syscall.SOL_SOCKET, syscall.SO_LINGER, 1); err != syscall.ENOPROTOOPT {
		t.Fatalf("SO_LINGER: %v", err)
	}
	if _, err := so.GetsockoptInt(lfd, syscall.IPPROTO_IP, syscall.IP_TTL); err != syscall.ENOPROTOOPT {
		t.Fatalf("IP_TTL: %v", err)
	}
	for _, o := range []struct{ level, name, v int }{
		{syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1},
		{syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1},
		{syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1},
		{syscall.IPPROTO_TCP, syscall.TCP_CORK, 1},
		{syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, 536},
	} {
		if err := so.SetsockoptInt(lfd, o.level, o.name, o.v); err != nil {
			t.Fatalf("set %d/%d: %v", o.level, o.name, err)
		}
		if v, err := so.GetsockoptInt(lfd, o.level, o.name); err != nil || v != o.v {
			t.Fatalf("get %d/%d: %d %v", o.level, o.name, v, err)
		}
	}
	if err := so.SetsockoptInt(lfd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 65536); err != nil {
		t.Fatal(err)
	}
	if v, err := so.GetsockoptInt(lfd, syscall.SOL_SOCKET, syscall.SO_RCVBUF); err != nil || v <= 0 {
		t.Fatalf("SO_RCVBUF %d %v", v, err)
	}
	if v, err := so.GetsockoptInt(lfd, syscall.SOL_SOCKET, syscall.SO_SNDBUF); err != nil || v <= 0 {
		t.Fatalf("SO_SNDBUF %d %v", v, err)
	}
	// TCP_MAXSEG on the listener shows in the SYN-ACK.
	e.inject(seg{src: peer4, dst: local4, seq: 1, flags: flSYN, opts: optMSS(1460)})
	if sa, _ := e.expect(); sa.mss != 536 {
		t.Fatalf("SYN-ACK mss %d", sa.mss)
	}
	if err := so.Shutdown(lfd, 7); err != syscall.EINVAL {
		t.Fatalf("shutdown how=7: %v", err)
	}
}

func TestErrnoTable(t *testing.T) {
	for _, c := range []struct {
		err  tcpip.Error
		want syscall.Errno
	}{
		{&tcpip.ErrWouldBlock{}, syscall.EAGAIN},
		{&tcpip.ErrConnectionRefused{}, syscall.ECONNREFUSED},
		{&tcpip.ErrConnectionReset{}, syscall.ECONNRESET},
		{&tcpip.ErrClosedForSend{}, syscall.EPIPE},
		{&tcpip.ErrNotConnected{}, syscall.ENOTCONN},
		{&tcpip.ErrInvalidEndpointState{}, syscall.EINVAL},
		{&tcpip.ErrPortInUse{}, syscall.EADDRINUSE},
		{&tcpip.ErrTimeout{}, syscall.ETIMEDOUT},
		{&tcpip.ErrConnectionAborted{}, syscall.ECONNABORTED},
		{&tcpip.ErrAlreadyConnecting{}, syscall.EALREADY},
		{&tcpip.ErrBadLocalAddress{}, syscall.EADDRNOTAVAIL},
		{&tcpip.ErrNetworkUnreachable{}, syscall.ENETUNREACH},
		{&tcpip.ErrConnectStarted{}, syscall.EINPROGRESS},
	} {
		if got := toErr(c.err); got != c.want {
			t.Errorf("%T: %v, want %v", c.err, got, c.want)
		}
	}
	if toErr(nil) != nil {
		t.Error("nil error")
	}
}

func TestDataAndEOF(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, targets.Config{})
	lfd := e.listen(syscall.AF_INET, local4)
	c := e.handshake(local4, peer4)
	afd, _, err := e.so.Accept(ctx, lfd)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.so.Write(ctx, afd, []byte("hello")); err != nil || n != 5 {
		t.Fatalf("write %d %v", n, err)
	}
	d, _ := e.expect()
	if string(d.payload) != "hello" || d.seq != c.rcv {
		t.Fatalf("data segment %v", d)
	}
	c.rcv += 5
	c.send(flACK|flPSH, []byte("world"))
	if ack, _ := e.expect(); ack.ack != c.snd {
		t.Fatalf("ACK %v", ack)
	}
	if b, err := e.so.Read(ctx, afd, 3); err != nil || string(b) != "wor" {
		t.Fatalf("read %q %v", b, err)
	}
	c.send(flFIN|flACK, nil)
	e.expect()
	if b, err := e.so.Read(ctx, afd, 10); err != nil || string(b) != "ld" {
		t.Fatalf("read %q %v", b, err)
	}
	if b, err := e.so.Read(ctx, afd, 10); err != nil || len(b) != 0 {
		t.Fatalf("EOF read %q %v", b, err)
	}
	if err := e.so.Shutdown(afd, syscall.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	fin, _ := e.expect()
	if fin.flags != flFIN|flACK {
		t.Fatalf("want FIN, got %v", fin)
	}
	if s := e.state(local4, peer4); s != state.LastAck {
		t.Fatalf("state %v", s)
	}
	if _, err := e.so.Write(ctx, afd, []byte("x")); err != syscall.EPIPE {
		t.Fatalf("write after SHUT_WR: %v", err)
	}
	c.rcv++
	c.send(flACK, nil)
	if s := e.state(local4, peer4); s != state.Closed {
		t.Fatalf("state %v", s)
	}
}

// TestStateAfterAbort checks that a child reset in SYN-RECEIVED, which the
// application never accepted, reads as CLOSED, and an unknown tuple as unknown.
// TestProbe checks that the TCP probe records connected endpoints with their
// state.
func TestProbe(t *testing.T) {
	e := newEnv(t, targets.Config{})
	e.listen(syscall.AF_INET, local4)
	c := e.handshake(local4, peer4)
	c.send(flACK|flPSH, []byte("x"))
	e.ck.Settle()
	in := e.in.(*instance)
	in.probeMu.Lock()
	rec, ok := in.probed[targets.Tuple{Local: local4, Remote: peer4}]
	in.probeMu.Unlock()
	if !ok || rec.ep == nil || mapState(rec.ep.EndpointState()) != state.Established {
		t.Fatalf("probe record %+v %v", rec, ok)
	}
}

func TestStateAfterAbort(t *testing.T) {
	e := newEnv(t, targets.Config{})
	e.listen(syscall.AF_INET, local4)
	e.inject(seg{src: peer4, dst: local4, seq: 1000, flags: flSYN, opts: optMSS(1460)})
	sa, _ := e.expect()
	if s := e.state(local4, peer4); s != state.SynReceived {
		t.Fatal(s)
	}
	e.inject(seg{src: peer4, dst: local4, seq: 1001, ack: sa.seq + 1, flags: flRST})
	if s := e.state(local4, peer4); s != state.Closed {
		t.Fatalf("after RST: %v", s)
	}
	if _, ok := e.in.State(targets.Tuple{Local: local4, Remote: netip.AddrPortFrom(addrs.Peer4, 1)}); ok {
		t.Fatal("unknown tuple has a state")
	}
}

func TestCloseTwiceNoLeak(t *testing.T) {
	runtime.GC()
	base := runtime.NumGoroutine()
	for range 5 {
		in, err := Target{}.New(context.Background(), targets.Config{})
		if err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, in: in, ln: in.Link(), so: in.Sockets(), ck: in.Clock()}
		e.listen(syscall.AF_INET, local4)
		e.handshake(local4, peer4)
		if err := in.Close(); err != nil {
			t.Fatal(err)
		}
		if err := in.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := in.Link().Next(context.Background()); err == nil {
			t.Fatal("Next after Close succeeded")
		}
		if err := in.Link().Inject(seg{src: peer4, dst: local4, flags: flSYN}.build()); err == nil {
			t.Fatal("Inject after Close succeeded")
		}
		in.Clock().Settle()
		if _, ok := in.State(targets.Tuple{Local: local4, Remote: peer4}); ok {
			t.Fatal("state after Close")
		}
	}
	in, err := Target{}.New(context.Background(), targets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := in.Link().Next(context.Background())
		done <- err
	}()
	time.Sleep(5 * time.Millisecond)
	in.Close()
	if err := <-done; err == nil {
		t.Fatal("blocked Next returned a packet")
	}

	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		t.Fatalf("goroutines: %d before, %d after", base, n)
	}
}

func BenchmarkNewInstance(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		in, err := Target{}.New(ctx, targets.Config{})
		if err != nil {
			b.Fatal(err)
		}
		in.Close()
	}
}

func BenchmarkSynRstRoundTrip(b *testing.B) {
	e := newEnv(b, targets.Config{})
	b.ReportAllocs()
	var port uint16
	for b.Loop() {
		port++
		e.ln.Inject(seg{src: netip.AddrPortFrom(addrs.Peer4, 1024+port%60000), dst: netip.AddrPortFrom(addrs.Local4, 9), seq: 1, flags: flSYN}.build())
		e.ck.Settle()
		if _, ok := e.ln.Poll(); !ok {
			b.Fatal("no RST")
		}
	}
}
