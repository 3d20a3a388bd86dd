package suites

import (
	"net/netip"
	"time"

	gm "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// Helpers shared by the spec files. Those that bring a connection to a state
// are with reach in transitions.go.
//
// Mind the package variables: Go initializes a spec's `var _ = spec(...)`
// only once every variable it uses (through the functions it calls, too) is
// initialized, and that order, not the order in the files alone, ranks the
// specs of one row and state (uniqueID: "T102.SYN-SENT#2"). Variables here
// depend on nothing and come before transitions.go's specsOf, which every
// spec waits for, so using them moves no spec.

// eachState calls declare once per state, so that each state gets its own
// spec (declared, and located, inside declare).
func eachState(states []state.State, declare func(st state.State)) bool {
	for _, st := range states {
		declare(st)
	}
	return true
}

var (
	// synSeg is <SEQ=ISS><CTL=SYN>, first sent or retransmitted.
	synSeg = BeSegment(Flags(wire.SYN), Seq(0), PayloadLen(0))
	// synACK is <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
	synACK = BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1), PayloadLen(0))
)

// withSynReceivedState is what a spec on a passive child in SYN-RECEIVED
// needs: the target must tell the connection's state before accept().
var withSynReceivedState = injector.Needs{State: true, SynReceivedState: true}

// needsIn are the needs of a spec in st: the connection's state, and for a
// passive child in SYN-RECEIVED its state before accept().
func needsIn(st state.State) injector.Needs {
	if st == state.SynReceived {
		return withSynReceivedState
	}
	return withState
}

// finOutstanding reports whether in st the target's FIN is sent and not yet
// acknowledged.
func finOutstanding(st state.State) bool {
	return st == state.FinWait1 || st == state.Closing || st == state.LastAck
}

// sndUNA is the acknowledgment number that acknowledges nothing new to a
// connection reached in st (with reach or one of its variants): the target's
// SND.UNA. Where its FIN is outstanding that is the FIN's own sequence
// number, one below what the peer has received, since acknowledging the FIN
// would change the state.
func sndUNA(r reached, st state.State) seq.Value {
	if finOutstanding(st) {
		return r.RcvNxt.Sub(1)
	}
	return r.RcvNxt
}

// readUpTo reads from fd until n octets have arrived or the stream ends. A
// read may stop short at the urgent mark (Linux does, even with
// SO_OOBINLINE), so it reads again.
func readUpTo(t *injector.T, fd, n int) []byte {
	var got []byte
	for len(got) < n {
		b := t.Read(fd, n-len(got))
		if len(b) == 0 {
			break
		}
		got = append(got, b...)
	}
	return got
}

// readFull reads exactly n octets from fd; the stream ending before that
// fails the spec.
func readFull(t *injector.T, fd, n int) []byte {
	got := readUpTo(t, fd, n)
	if len(got) < n {
		t.Fatalf("read() reported end of stream after %d of %d octets", len(got), n)
	}
	return got
}

// pattern returns n octets of a recognisable pattern: first, the letters after
// it, round again after 26.
func pattern(n int, first byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = first + byte(i%26)
	}
	return b
}

// noConnection matches the state of a connection the target does not have
// (any more): CLOSED, or not known at all (Linux forgets a reset socket that
// is still open).
func noConnection() types.GomegaMatcher {
	return gm.Or(BeInState(state.Closed), BeInState(state.Unknown))
}

// connectedTo checks that socket fd is connected to the peer's end of c.
func connectedTo(t *injector.T, fd int, c *injector.TConn, desc ...any) {
	remote, err := t.Sockets().RemoteAddr(fd)
	t.Expect(err).To(gm.Succeed())
	t.Expect(remote).To(gm.Equal(c.PeerAddrPort()), desc...)
}

// buildSegment is the segment c.Send would send with flags, opts and
// payload, on a connection without timestamps, so that a spec can set what
// Send cannot (the urgent pointer, IP fields, the bytes). It is not sent.
func buildSegment(t *injector.T, c *injector.TConn, flags wire.Flags, opts []wire.Option, payload []byte) wire.Segment {
	if c.Timestamps() {
		t.Errorf("buildSegment: the connection negotiated timestamps; open it without them")
	}
	s := wire.Segment{
		IP:      wire.IP{Src: c.PeerAddrPort().Addr(), Dst: c.TargetAddrPort().Addr(), TTL: 64, DF: t.Peer().Family() == injector.IPv4},
		SrcPort: c.PeerPort, DstPort: c.TargetPort,
		Seq: c.SndNxt, Flags: flags, Window: c.Window,
		Options: opts, Payload: append([]byte(nil), payload...),
	}
	if flags&wire.ACK != 0 {
		s.Ack = c.RcvNxt
	}
	return s
}

// injectOn hands s, as buildSegment made it, to the target and moves c's
// SND.NXT past it.
func injectOn(t *injector.T, c *injector.TConn, s wire.Segment) {
	if err := t.Peer().Inject(s, wire.Faults{}); err != nil {
		t.Errorf("inject %v: %v", s, err)
	}
	moveSndNxt(c, s)
}

// moveSndNxt moves c's SND.NXT past s, a segment the peer sent by hand, as
// Send does.
func moveSndNxt(c *injector.TConn, s wire.Segment) {
	if end := s.Seq.Add(s.Len()); end.GreaterThan(c.SndNxt) {
		c.SndNxt = end
	}
}

// sentOn reports whether a is a segment the target sent on c.
func sentOn(t *injector.T, a injector.Arrival, c *injector.TConn) bool {
	s := a.Segment
	return a.Err == nil && s.IP.Src == t.Peer().TargetAddr() && s.SrcPort == c.TargetPort && s.DstPort == c.PeerPort
}

// replied reports whether the target has sent anything on c that no Expect
// consumed yet.
func replied(t *injector.T, c *injector.TConn) bool {
	for _, a := range t.Peer().Pending() {
		if sentOn(t, a, c) {
			return true
		}
	}
	return false
}

// toSend is a segment a spec sends: its flags and how Send builds it.
type toSend struct {
	flags wire.Flags
	opts  []injector.SendOption
}

// eachDrawsNothing sends each of sends to port, from a new connection of
// the peer's each, and checks that the target answers none of them within
// 200 ms; check then looks at each connection.
func eachDrawsNothing(t *injector.T, port uint16, sends []toSend, check func(t *injector.T, c *injector.TConn)) {
	for _, send := range sends {
		c := t.Dial(port)
		c.Send(send.flags, send.opts...)
		c.ExpectNothing(200 * time.Millisecond)
		check(t, c)
	}
}

// eachDrawsRST sends each of sends to port, from a new connection of the
// peer's each and with an acknowledgment number of its own, and expects
// <SEQ=SEG.ACK><CTL=RST> for each; check then looks at each connection.
func eachDrawsRST(t *injector.T, port uint16, sends []toSend, check func(t *injector.T, c *injector.TConn)) {
	for i, send := range sends {
		c := t.Dial(port)
		segAck := seq.Value(0x5eed0000 + uint32(i)*0x1000)
		c.Send(send.flags, append(send.opts, injector.WithAck(segAck))...)
		c.Expect(BeSegment(Flags(wire.RST), SeqNum(segAck), PayloadLen(0)))
		check(t, c)
	}
}

// listenAny listens on port of the wildcard address, so that the target
// picks the local address of each connection itself.
func listenAny(t *injector.T, port uint16) int {
	wild := netip.IPv4Unspecified()
	if t.Peer().Family() == injector.IPv6 {
		wild = netip.IPv6Unspecified()
	}
	fd := t.Socket()
	t.Expect(t.Sockets().Bind(fd, netip.AddrPortFrom(wild, port))).To(gm.Succeed())
	t.Expect(t.Sockets().Listen(fd, 16)).To(gm.Succeed())
	return fd
}

// drawsNothing has the peer send a segment with flags (and opts) on r, to
// which the target sends nothing for 200 ms; the connection is then in st.
func drawsNothing(t *injector.T, r reached, st state.State, flags wire.Flags, opts ...injector.SendOption) {
	r.Send(flags, opts...)
	r.ExpectNothing(200 * time.Millisecond)
	t.Expect(r.State()).To(BeInState(st))
}
