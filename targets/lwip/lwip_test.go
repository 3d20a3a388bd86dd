package lwip

import (
	"context"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent/agenttest"
	"github.com/tcpconform/tcpconform/wire"
)

func newInstance(t *testing.T) targets.Instance {
	t.Helper()
	if err := (Target{}).Available(); err != nil {
		t.Skipf("lwip target unavailable: %v", err)
	}
	if _, err := Binary(); err != nil { // build outside the timings
		t.Fatal(err)
	}
	begin := time.Now()
	in, err := Target{}.New(context.Background(), targets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("agent started in %v", time.Since(begin))
	t.Cleanup(func() { in.Close() })
	return in
}

func TestSynGetsSynAck(t *testing.T) { agenttest.SynGetsSynAck(t, newInstance) }

func TestUnknownRequestAndDeadAgent(t *testing.T) {
	in := newInstance(t)
	so := in.Sockets()
	if _, err := so.Socket(12345, syscall.SOCK_STREAM, 0); err != syscall.EAFNOSUPPORT {
		t.Errorf("bad domain: %v", err)
	}
	if err := so.Close(999); err == nil {
		t.Errorf("close of a bad fd succeeded")
	}
	begin := time.Now()
	in.Close()
	t.Logf("closed in %v", time.Since(begin))
	if _, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0); err == nil {
		t.Errorf("socket after close succeeded")
	} else {
		t.Logf("after close: %v", err)
	}
}

// A socket call sees the effect of every packet injected before it, without
// a settle in between: the handshake's final ACK, injected just before a
// non-blocking accept, has always made the connection acceptable. (The
// agent reads packets and requests on different threads; without its
// barrier the accept could overtake the ACK.)
func TestCallsFollowInjectedPackets(t *testing.T) {
	in := newInstance(t)
	ad := in.Addrs()
	so := in.Sockets()
	lfd, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := so.Bind(lfd, netip.AddrPortFrom(ad.Local4, 8080)); err != nil {
		t.Fatal(err)
	}
	if err := so.Listen(lfd, 64); err != nil {
		t.Fatal(err)
	}
	inject := func(s wire.Segment) {
		t.Helper()
		s.IP = wire.IP{Src: ad.Peer4, Dst: ad.Local4, TTL: 64}
		s.DstPort, s.Window = 8080, 65535
		b, err := wire.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Link().Inject(b); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		port := uint16(40000 + i)
		inject(wire.Segment{SrcPort: port, Seq: 1000, Flags: wire.SYN, Options: []wire.Option{wire.MSS(1460)}})
		var synack wire.Segment
		for synack.Flags != wire.SYN|wire.ACK || synack.DstPort != port {
			// (The earlier connections' FINs come too.)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			p, err := in.Link().Next(ctx)
			cancel()
			if err != nil {
				t.Fatalf("connection %d: no SYN-ACK: %v", i, err)
			}
			if synack, err = wire.Decode(p.Data); err != nil {
				t.Fatal(err)
			}
		}
		inject(wire.Segment{SrcPort: port, Seq: 1001, Ack: synack.Seq.Add(1), Flags: wire.ACK})
		nfd, _, err := so.Accept(context.Background(), lfd)
		if err != nil {
			t.Fatalf("connection %d: accept right after the ACK: %v", i, err)
		}
		so.Close(nfd)
	}
}

// The keep-alive options lwIP has (LWIP_TCP_KEEPALIVE) are taken, in
// Linux's units, and read back.
func TestKeepAliveOptions(t *testing.T) {
	in := newInstance(t)
	so := in.Sockets()
	fd, err := so.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct {
		name, value int
	}{{syscall.TCP_KEEPIDLE, 7}, {syscall.TCP_KEEPINTVL, 3}, {syscall.TCP_KEEPCNT, 4}} {
		if err := so.SetsockoptInt(fd, syscall.IPPROTO_TCP, o.name, o.value); err != nil {
			t.Errorf("setsockopt(%d, %d): %v", o.name, o.value, err)
		}
		if v, err := so.GetsockoptInt(fd, syscall.IPPROTO_TCP, o.name); err != nil || v != o.value {
			t.Errorf("getsockopt(%d) = %d, %v; want %d", o.name, v, err, o.value)
		}
	}
	// What lwIP lacks is refused as such.
	if err := so.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_SYNCNT, 3); err != syscall.ENOPROTOOPT {
		t.Errorf("TCP_SYNCNT: %v, want ENOPROTOOPT", err)
	}
}

// BenchmarkInstanceStart measures starting a fresh agent (one per case).
func BenchmarkInstanceStart(b *testing.B) {
	if err := (Target{}).Available(); err != nil {
		b.Skipf("lwip target unavailable: %v", err)
	}
	if _, err := Binary(); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		in, err := Target{}.New(context.Background(), targets.Config{})
		if err != nil {
			b.Fatal(err)
		}
		in.Close()
	}
}

// BenchmarkScript is the cost of one script case, agent start included.
func BenchmarkScript(b *testing.B) { agenttest.BenchmarkScript(b, Target{}, "passive-open.pkt") }
