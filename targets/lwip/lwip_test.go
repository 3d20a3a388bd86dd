package lwip

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
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

func TestSynGetsSynAck(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		in := newInstance(t)
		ad := in.Addrs()
		local, peer, domain := ad.Local4, ad.Peer4, syscall.AF_INET
		if v6 {
			local, peer, domain = ad.Local6, ad.Peer6, syscall.AF_INET6
		}
		so := in.Sockets()
		fd, err := so.Socket(domain, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := so.Bind(fd, netip.AddrPortFrom(local, 8080)); err != nil {
			t.Fatal(err)
		}
		if err := so.Listen(fd, 5); err != nil {
			t.Fatal(err)
		}
		if s, ok := in.State(targets.Tuple{Local: netip.AddrPortFrom(local, 8080)}); !ok || s != state.Listen {
			t.Errorf("listener state = %v, %v; want LISTEN", s, ok)
		}
		syn, err := wire.Encode(wire.Segment{
			IP:      wire.IP{Src: peer, Dst: local, TTL: 64},
			SrcPort: 40000, DstPort: 8080, Seq: 1000, Flags: wire.SYN, Window: 65535,
			Options: []wire.Option{wire.MSS(1460)},
		})
		if err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		if err := in.Link().Inject(syn); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		p, err := in.Link().Next(ctx)
		cancel()
		if err != nil {
			t.Fatalf("v6=%v: no SYN-ACK: %v", v6, err)
		}
		seg, err := wire.Decode(p.Data)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("v6=%v: SYN->SYN-ACK %v: %v", v6, p.At.Sub(sent), seg)
		if seg.Flags != wire.SYN|wire.ACK || seg.Ack != 1001 || seg.SrcPort != 8080 || seg.DstPort != 40000 {
			t.Fatalf("got %v, want a SYN-ACK acking 1001", seg)
		}
		tu := targets.Tuple{Local: netip.AddrPortFrom(local, 8080), Remote: netip.AddrPortFrom(peer, 40000)}
		if s, ok := in.State(tu); !ok || s != state.SynReceived {
			t.Errorf("child state = %v, %v; want SYN-RECEIVED", s, ok)
		}
		// A blocking accept with nothing to accept ends with its context.
		ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, _, err = so.Accept(ctx, fd)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("accept = %v, want the context's deadline", err)
		}
	}
}

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
