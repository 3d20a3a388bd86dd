package suites

import (
	"syscall"
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// ICMP errors (RFC 9293 section 3.9.2.2): TCP acts on them for the
// connection whose segment they quote (MUST-54), aborts on hard errors
// (destination unreachable codes 2 to 4, SHLD-26), never on soft ones
// (MUST-56), and discards Source Quench (MUST-55). The peer plays the router
// that reports the error about a segment the target sent.

// icmpKind is an ICMP error in each family's numbering.
type icmpKind struct {
	name           string
	v4type, v4code uint8
	v6type, v6code uint8
}

var (
	icmpPortUnreachable = icmpKind{"port unreachable", wire.ICMPv4Unreachable, 3, wire.ICMPv6Unreachable, 4}
	// Soft errors (RFC 1122 section 4.2.3.9, kept by RFC 9293): the
	// network or host unreachable, a failed source route, time exceeded,
	// a parameter problem.
	icmpSoft = []icmpKind{
		{"net unreachable", wire.ICMPv4Unreachable, 0, wire.ICMPv6Unreachable, 0},
		{"host unreachable", wire.ICMPv4Unreachable, 1, wire.ICMPv6Unreachable, 3},
		{"source route failed", wire.ICMPv4Unreachable, 5, wire.ICMPv6Unreachable, 0},
		{"time exceeded", wire.ICMPv4TimeExceeded, 0, wire.ICMPv6TimeExceeded, 0},
		{"parameter problem", 12, 0, wire.ICMPv6ParamProblem, 0},
	}
)

// icmpAbout injects an ICMP error of kind k from the peer about seg, a
// segment the target sent, quoting its IP header and the first 8 octets of
// its TCP header (enough to name the connection).
func icmpAbout(t *injector.T, seg wire.Segment, k icmpKind) {
	b, err := wire.Encode(seg)
	if err != nil {
		t.Errorf("quote %v: %v", seg, err)
	}
	hdr := 20
	typ, code := k.v4type, k.v4code
	if seg.IP.Src.Is6() {
		hdr, typ, code = 40, k.v6type, k.v6code
	}
	msg, err := wire.EncodeICMPError(seg.IP.Dst, seg.IP.Src, typ, code, b[:hdr+8])
	if err != nil {
		t.Errorf("ICMP %s: %v", k.name, err)
	}
	if err := t.Peer().InjectRaw(msg); err != nil {
		t.Errorf("inject ICMP %s: %v", k.name, err)
	}
}

// icmpOutstanding brings a connection to ESTABLISHED with data of the
// target's unacknowledged, and returns it with that data segment.
func icmpOutstanding(t *injector.T) (reached, wire.Segment) {
	r := reach(t, state.Established)
	t.Write(r.fd, []byte("unacknowledged"))
	data := r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), PayloadLen(len("unacknowledged")))).Segment
	return r, data
}

// An error is for the connection whose segment it quotes: one that quotes
// another port leaves the connection alone; port unreachable, a hard error,
// about its SYN aborts it, and connect() reports the refusal.
var _ = check([]string{"MUST-54", "SHLD-26"}, "3.9.2.2", "ICMP port unreachable about the SYN aborts that connection only: CLOSED, ECONNREFUSED", withState,
	func(t *injector.T) {
		r, o := activeOpen(t, nil, BeSegment(Flags(wire.SYN), Seq(0)))
		syn := o.Segment
		other := syn
		other.SrcPort++
		icmpAbout(t, other, icmpPortUnreachable)
		t.Sleep(50 * time.Millisecond)
		t.Expect(r.State()).To(BeInState(state.SynSent), "after an error about another connection")
		icmpAbout(t, syn, icmpPortUnreachable)
		t.Sleep(50 * time.Millisecond)
		t.Expect(r.State()).To(BeInState(state.Closed))
		t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(int(syscall.ECONNREFUSED)))
	})

// A hard error (port unreachable) about data of a synchronized connection
// aborts it too, and the application hears of it.
var _ = check([]string{"SHLD-26"}, "3.9.2.2", "ICMP port unreachable about data in ESTABLISHED aborts the connection", withState,
	func(t *injector.T) {
		r, data := icmpOutstanding(t)
		icmpAbout(t, data, icmpPortUnreachable)
		t.Sleep(50 * time.Millisecond)
		t.Expect(r.State()).To(noConnection())
		t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).NotTo(gm.Equal(0))
	})

// Soft errors never abort: after each, the connection is still ESTABLISHED,
// its data is still retransmitted or acknowledged, and new data flows.
var _ = check([]string{"MUST-56"}, "3.9.2.2", "soft ICMP errors (unreachable net/host, source route, time exceeded, parameter problem) do not abort", withState,
	func(t *injector.T) {
		r, data := icmpOutstanding(t)
		for _, k := range icmpSoft {
			icmpAbout(t, data, k)
			t.Sleep(20 * time.Millisecond)
			t.Expect(r.State()).To(BeInState(state.Established), "after ICMP "+k.name)
		}
		r.skipRetransmissions(t)
		r.Send(wire.ACK, injector.WithAck(data.Seq.Add(data.Len())))
		t.Write(r.fd, []byte("more"))
		r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(int64(1+len("unacknowledged"))), Payload([]byte("more"))))
		t.Expect(r.State()).To(BeInState(state.Established))
	})

// Source Quench (IPv4 only; RFC 6633 deprecated it) is discarded: nothing
// is sent, the connection goes on as before.
var _ = check([]string{"MUST-55"}, "3.9.2.2", "ICMP Source Quench is discarded silently", withState,
	func(t *injector.T) {
		r, data := icmpOutstanding(t)
		if data.IP.Src.Is6() {
			t.Skipf("ICMPv6 has no Source Quench")
		}
		icmpAbout(t, data, icmpKind{"source quench", wire.ICMPv4SourceQuench, 0, 0, 0})
		r.Send(wire.ACK, injector.WithAck(data.Seq.Add(data.Len())))
		r.quiet(t, 100*time.Millisecond)
		t.Expect(r.State()).To(BeInState(state.Established))
		t.Expect(t.Sockets().GetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.Equal(0))
		t.Write(r.fd, []byte("more"))
		r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(int64(1+len("unacknowledged"))), Payload([]byte("more"))))
	})
