package suites

import (
	"net/netip"
	"syscall"
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// LISTEN, SEGMENT ARRIVES: RFC 9293 section 3.10.7.2. The checks run in
// order: RST (first), ACK (second), SYN (third), anything else (fourth).

// listenStays checks that the listener is still listening and that the
// segment made no connection for c's tuple.
func listenStays(t *injector.T, c *injector.TConn) {
	t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
	t.Expect(c.State()).To(noConnection(),
		"the segment must not create a connection")
}

// listenNoneQueued checks that nothing waits to be accepted on the
// listener lfd.
func listenNoneQueued(t *injector.T, lfd int) {
	t.Expect(t.Sockets().SetNonblock(lfd, true)).To(gm.Succeed())
	_, _, err := t.Sockets().Accept(t.Context(), lfd)
	t.Expect(err).To(gm.MatchError(syscall.EAGAIN), "accept() must find no connection")
}

// First check: a reset cannot belong to anything a listener sent, so it is
// ignored, whatever other bits ride on it (the RST check comes before the
// ACK and SYN checks).
var _ = spec("T033", state.Listen, "RST, RST,ACK and RST,SYN are ignored: nothing sent, LISTEN", withState,
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		eachDrawsNothing(t, servicePort, []toSend{
			{wire.RST, nil},
			{wire.RST | wire.ACK, []injector.SendOption{injector.WithAck(0x5eed)}},
			{wire.RST | wire.SYN, nil},
		}, listenStays)
		listenNoneQueued(t, lfd)
	})

// Second check: any acknowledgment is bad in LISTEN; an ACK-bearing segment
// without SYN draws <SEQ=SEG.ACK><CTL=RST>.
var _ = spec("T034", state.Listen, "ACK, ACK with data and FIN,ACK draw <SEQ=SEG.ACK><CTL=RST>, LISTEN", withState,
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		eachDrawsRST(t, servicePort, []toSend{
			{wire.ACK, nil},
			{wire.ACK | wire.PSH, []injector.SendOption{injector.WithPayload([]byte("stray"))}},
			{wire.FIN | wire.ACK, nil},
		}, listenStays)
		listenNoneQueued(t, lfd)
	})

// Second check again: the ACK check precedes the SYN check, so a SYN,ACK
// (an old duplicate, section 3.5.1 Figure 11) draws <SEQ=SEG.ACK><CTL=RST>
// and opens nothing.
var _ = spec("T035", state.Listen, "SYN,ACK draws <SEQ=SEG.ACK><CTL=RST>, LISTEN", withState,
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		c := t.Dial(servicePort)
		segAck := seq.Value(0x5eed)
		c.Send(wire.SYN|wire.ACK, injector.WithAck(segAck))
		c.Expect(BeSegment(Flags(wire.RST), SeqNum(segAck), PayloadLen(0)))
		listenStays(t, c)
		listenNoneQueued(t, lfd)
	})

// Third check: a SYN makes a connection in SYN-RECEIVED (IRS=SEG.SEQ,
// RCV.NXT=SEG.SEQ+1) answered with <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>; the
// listener goes on listening, and the application has nothing to accept
// before the handshake completes.
var _ = spec("T036", state.Listen, "SYN draws <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK>, SYN-RECEIVED", withSynReceivedState,
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		c := t.Dial(servicePort)
		c.Send(wire.SYN)
		c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1), PayloadLen(0)))
		t.Expect(c.State()).To(BeInState(state.SynReceived))
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		listenNoneQueued(t, lfd)
	}, "MUST-11")

// Third check, security: IP security options (RFC 1108) are obsolete and
// no target under test carries them.
var _ = spec("T037", state.Listen, "SYN with a security/compartment mismatch", withState,
	func(t *injector.T) {
		t.Skipf("IP security options (RFC 1108) are not modelled: no stack under test implements them, so no compartment can mismatch")
	})

// listenInject sends a SYN from src to dst:servicePort, bypassing the
// connection's own addresses.
func listenInject(t *injector.T, c *injector.TConn, src, dst netip.Addr) {
	s := wire.Segment{
		IP:      wire.IP{Src: src, Dst: dst, TTL: 64},
		SrcPort: c.PeerPort, DstPort: servicePort,
		Seq: c.ISN, Flags: wire.SYN, Window: injector.DefaultWindow,
		Options: []wire.Option{wire.MSS(1460)},
	}
	if err := t.Peer().Inject(s, wire.Faults{}); err != nil {
		t.Errorf("inject: %v", err)
	}
}

// listenQuiet fails the case if the target sent any segment from
// servicePort or to one of ports since the last Expect.
func listenQuiet(t *injector.T, what string, ports map[uint16]bool) {
	for _, a := range t.Peer().Pending() {
		if a.Err == nil && (a.Segment.SrcPort == servicePort || ports[a.Segment.DstPort]) {
			t.Fatalf("%s must be discarded silently (RFC 9293 section 3.9.2.3), but the target sent %v", what, a.Segment)
		}
	}
}

// Section 3.9.2.3 (MUST-57): a SYN addressed to a broadcast or multicast
// address is discarded silently. The listener is bound to the wildcard
// address so that the destination alone decides.
var _ = spec("T038", state.Listen, "SYN to a broadcast or multicast destination is discarded", withState,
	func(t *injector.T) {
		fd := listenAny(t, servicePort)
		dsts := []netip.Addr{netip.MustParseAddr("ff02::1")}
		if t.Peer().Family() == injector.IPv4 {
			dsts = []netip.Addr{
				netip.MustParseAddr("255.255.255.255"),
				netip.MustParseAddr("192.0.2.255"), // the target's subnet broadcast
				netip.MustParseAddr("224.0.0.1"),
			}
		}
		ports := map[uint16]bool{}
		for _, dst := range dsts {
			c := t.Dial(servicePort)
			ports[c.PeerPort] = true
			listenInject(t, c, t.Peer().LocalAddr(), dst)
		}
		t.Sleep(200 * time.Millisecond)
		listenQuiet(t, "a SYN to a broadcast or multicast address", ports)
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		listenNoneQueued(t, fd)
		// The same listener answers a SYN to its unicast address: the
		// silence above was the destination's doing.
		c := t.Dial(servicePort)
		c.Send(wire.SYN)
		c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Ack(1)))
	}, "MUST-57")

// Section 3.9.2.3 (MUST-63): a SYN from an invalid source address
// (broadcast, multicast, unspecified or loopback) is ignored, by TCP or by
// IP.
var _ = spec("T038", state.Listen, "SYN from a broadcast, multicast, unspecified or loopback source is discarded", withState,
	func(t *injector.T) {
		t.Listen(servicePort)
		srcs := []netip.Addr{
			netip.MustParseAddr("ff02::1"), netip.MustParseAddr("ff0e::1"),
			netip.IPv6Unspecified(), netip.IPv6Loopback(),
		}
		if t.Peer().Family() == injector.IPv4 {
			srcs = []netip.Addr{
				netip.MustParseAddr("255.255.255.255"),
				netip.MustParseAddr("192.0.2.255"), // the target's subnet broadcast
				netip.MustParseAddr("224.0.0.5"),
				netip.IPv4Unspecified(),
				netip.MustParseAddr("127.0.0.1"),
			}
		}
		ports := map[uint16]bool{}
		for _, src := range srcs {
			c := t.Dial(servicePort)
			ports[c.PeerPort] = true
			listenInject(t, c, src, t.Peer().TargetAddr())
		}
		t.Sleep(200 * time.Millisecond)
		listenQuiet(t, "a SYN from an invalid source address", ports)
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		c := t.Dial(servicePort)
		c.Send(wire.SYN)
		c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Ack(1)))
	}, "MUST-63")

// Third check with a FIN on the SYN (implementation-defined row). RFC 9293
// processes the SYN and queues the FIN for SYN-RECEIVED, where a segment
// without ACK is dropped (fifth check of 3.10.7.4): so the SYN,ACK covers the
// SYN only. Linux discards SYN,FIN in LISTEN outright. Either is accepted;
// anything else (a reset, a FIN acknowledged, the listener leaving LISTEN)
// is not.
var _ = spec("T039", state.Listen, "SYN,FIN: either handled as a SYN (SYN,ACK of the SYN only, SYN-RECEIVED) or discarded", withState,
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		c := t.Dial(servicePort)
		c.Send(wire.SYN | wire.FIN)
		t.Sleep(200 * time.Millisecond)
		replied := false
		for _, a := range t.Peer().Pending() {
			if a.Err == nil && a.Segment.SrcPort == servicePort && a.Segment.DstPort == c.PeerPort {
				replied = true
			}
		}
		if replied {
			c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1), PayloadLen(0)))
			t.Expect(c.State()).To(BeInState(state.SynReceived))
		} else {
			t.Expect(c.State()).To(noConnection())
		}
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		listenNoneQueued(t, lfd)
	})

// Fourth check: a segment with none of SYN, ACK or RST cannot be valid in
// LISTEN and is dropped without an answer.
var _ = spec("T040", state.Listen, "bare FIN, bare data and no flags are dropped silently, LISTEN", withState,
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		eachDrawsNothing(t, servicePort, []toSend{
			{wire.FIN, nil},
			{wire.PSH, []injector.SendOption{injector.WithPayload([]byte("stray data"))}},
			{0, nil},
		}, listenStays)
		listenNoneQueued(t, lfd)
	})
