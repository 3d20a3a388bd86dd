package seqs

import (
	"bytes"
	"context"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent/agenttest"
	"github.com/tcpconform/tcpconform/wire"
)

var (
	local = netip.AddrPortFrom(targets.DocumentationAddrs.Local4, 8080)
	peer  = netip.AddrPortFrom(targets.DocumentationAddrs.Peer4, 40000)
)

func newInstance(t *testing.T) targets.Instance {
	t.Helper()
	in, err := Target{}.New(context.Background(), targets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

// tester drives one instance from the peer's side.
type tester struct {
	t  *testing.T
	in targets.Instance
}

// send injects a segment from the peer to the stack's port 8080 and
// settles.
func (x tester) send(seqn, ack uint32, flags wire.Flags, payload []byte) {
	x.t.Helper()
	b, err := wire.Encode(wire.Segment{
		IP:      wire.IP{Src: peer.Addr(), Dst: local.Addr(), TTL: 64},
		SrcPort: peer.Port(), DstPort: local.Port(),
		Seq: seq.Value(seqn), Ack: seq.Value(ack), Flags: flags, Window: 65535, Payload: payload,
	})
	if err != nil {
		x.t.Fatal(err)
	}
	if err := x.in.Link().Inject(b); err != nil {
		x.t.Fatal(err)
	}
	// Packets and calls travel apart to the agent; the harness settles
	// after each packet, so that a call sees its effect.
	x.in.Clock().Settle()
}

// next returns the next segment the stack sends, failing after a second.
func (x tester) next() wire.Segment {
	x.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p, err := x.in.Link().Next(ctx)
	if err != nil {
		x.t.Fatalf("nothing sent: %v", err)
	}
	s, err := wire.Decode(p.Data)
	if err != nil {
		x.t.Fatal(err)
	}
	return s
}

func (x tester) state(want state.State) {
	x.t.Helper()
	if s, ok := x.in.State(targets.Tuple{Local: local, Remote: peer}); !ok || s != want {
		x.t.Errorf("state = %v (%v), want %v", s, ok, want)
	}
}

// A passive open, data both ways and the peer's close, through the socket
// calls and the link.
func TestHandshakeAndData(t *testing.T) {
	in := newInstance(t)
	x, so, ctx := tester{t, in}, in.Sockets(), context.Background()
	lfd, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := so.Bind(lfd, local); err != nil {
		t.Fatal(err)
	}
	if err := so.Listen(lfd, 1); err != nil {
		t.Fatal(err)
	}
	if s, ok := in.State(targets.Tuple{Local: local}); !ok || s != state.Listen {
		t.Errorf("listener state = %v (%v), want LISTEN", s, ok)
	}
	x.send(1000, 0, wire.SYN, nil)
	synack := x.next()
	if synack.Flags != wire.SYN|wire.ACK || synack.Ack != 1001 {
		t.Fatalf("got %v, want SYN,ACK acking 1001", synack)
	}
	x.state(state.SynReceived)
	if err := so.SetNonblock(lfd, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := so.Accept(ctx, lfd); err != syscall.EAGAIN {
		t.Errorf("accept before the handshake's ACK = %v, want EAGAIN", err)
	}
	iss := uint32(synack.Seq)
	x.send(1001, iss+1, wire.ACK, nil)
	x.state(state.Established)
	fd, from, err := so.Accept(ctx, lfd)
	if err != nil {
		t.Fatal(err)
	}
	if from != peer {
		t.Errorf("accept from %v, want %v", from, peer)
	}

	x.send(1001, iss+1, wire.PSH|wire.ACK, []byte("hello"))
	if ack := x.next(); ack.Ack != 1006 || len(ack.Payload) != 0 {
		t.Errorf("got %v, want a pure ACK of 1006", ack)
	}
	got, err := so.Read(ctx, fd, 100)
	if err != nil || string(got) != "hello" {
		t.Errorf("read = %q, %v; want hello", got, err)
	}
	if n, err := so.Write(ctx, fd, []byte("world!")); err != nil || n != 6 {
		t.Errorf("write = %d, %v; want 6", n, err)
	}
	if d := x.next(); !bytes.Equal(d.Payload, []byte("world!")) || uint32(d.Seq) != iss+1 {
		t.Errorf("got %v, want world! at %d", d, iss+1)
	}
	if err := so.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	if _, err := so.Read(ctx, fd, 100); err != syscall.EAGAIN {
		t.Errorf("read of nothing = %v, want EAGAIN", err)
	}
	if err := so.Close(fd); err != nil {
		t.Fatal(err)
	}
	if fin := x.next(); fin.Flags&wire.FIN == 0 || uint32(fin.Seq) != iss+7 {
		t.Errorf("got %v, want our FIN at %d", fin, iss+7)
	}
}

// A blocking connect waits for the SYN,ACK.
func TestActiveOpen(t *testing.T) {
	in := newInstance(t)
	so := in.Sockets()
	fd, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- so.Connect(ctx, fd, peer) }()
	p, err := in.Link().Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	syn, err := wire.Decode(p.Data)
	if err != nil {
		t.Fatal(err)
	}
	if syn.Flags != wire.SYN || syn.DstPort != peer.Port() {
		t.Fatalf("got %v, want a SYN to %v", syn, peer)
	}
	b, err := wire.Encode(wire.Segment{
		IP:      wire.IP{Src: peer.Addr(), Dst: local.Addr(), TTL: 64},
		SrcPort: peer.Port(), DstPort: syn.SrcPort,
		Seq: 5000, Ack: syn.Seq + 1, Flags: wire.SYN | wire.ACK, Window: 65535,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Link().Inject(b); err != nil {
		t.Fatal(err)
	}
	in.Clock().Settle()
	if err := <-done; err != nil {
		t.Fatalf("connect = %v", err)
	}
	tu := targets.Tuple{Local: netip.AddrPortFrom(local.Addr(), syn.SrcPort), Remote: peer}
	if s, ok := in.State(tu); !ok || s != state.Established {
		t.Errorf("state = %v (%v), want ESTABLISHED", s, ok)
	}
}

// The fields peek.go reads exist in the seqs version go.mod pins.
func TestPeekedFields(t *testing.T) {
	s := NewStack(1)
	defer s.Stop()
	fd, _ := s.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err := s.Listen(fd, 2); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, used := listenerConns(s.fds[fd].lis)
	if len(cs) != 2 || len(used) != 2 {
		t.Fatalf("listener holds %d connections, want 2", len(cs))
	}
	if f := txFree(cs[0]); f != defaultSndBuf {
		t.Errorf("free send ring = %d, want %d", f, defaultSndBuf)
	}
	_ = connID(cs[0])
}

// BenchmarkCase is the cost of one case on a fresh instance.
func BenchmarkCase(b *testing.B) { agenttest.BenchmarkScript(b, Target{}, "passive-open.pkt") }

// The target is the Stack served through agentsdk: the agent's hello
// announces what the Stack implements.
func TestServedThroughTheSDK(t *testing.T) {
	in := newInstance(t)
	h := in.(instance).A.Hello()
	if h.Stack != "seqs" {
		t.Errorf("hello names stack %q, want seqs", h.Stack)
	}
	for _, f := range []string{"ipv4", "state", "settle", "tcpinfo"} {
		if !h.Has(f) {
			t.Errorf("hello %+v lacks %s", h, f)
		}
	}
	if h.Has("ipv6") {
		t.Errorf("hello %+v announces ipv6, which seqs has not", h)
	}
}
