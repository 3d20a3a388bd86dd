package suites

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// USER OPEN: RFC 9293 section 3.10.1 (and 3.9.1.1 for the call itself).
// With sockets a passive OPEN is socket(), bind(), listen(); an active OPEN
// is connect().

// userOpenReach is reach, except that SYN-RECEIVED is reached by
// simultaneous open so that the connection has a socket (r.fd).
func userOpenReach(t *injector.T, st state.State) reached {
	if st == state.SynReceived {
		return simultaneousOpen(t, BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1)))
	}
	return reach(t, st)
}

// userOpenQuiet is how long a spec in st watches for segments that must not
// come. Where the target's FIN is still unacknowledged (FIN-WAIT-1,
// CLOSING, LAST-ACK) it is kept below the 200 ms minimum retransmission
// timeout that Linux and netstack use, so that an allowed retransmission of
// that FIN does not count as a new segment.
func userOpenQuiet(st state.State) time.Duration {
	if finOutstanding(st) {
		return 100 * time.Millisecond
	}
	return 200 * time.Millisecond
}

// userOpenNothingSent lets d pass and fails if the target sent any TCP
// segment at all, to anyone: for calls made on sockets that have no
// connection the peer could watch.
func userOpenNothingSent(t *injector.T, d time.Duration) {
	t.Sleep(d)
	var b strings.Builder
	for _, a := range t.Peer().Pending() {
		if a.Err == nil || a.Segment.IP.Src.IsValid() {
			fmt.Fprintf(&b, "\n  actual    %v (at +%.6f s)", a.Segment, t.Peer().Since(a.At).Seconds())
		}
	}
	if b.Len() > 0 {
		t.Fatalf("expected no segment, to anyone, for %v, but the target sent%s", d, b.String())
	}
}

// userOpenRefused checks that a user call answered with an error, as RFC
// 9293 section 3.10 has it ("error: ..."). Which errno stands for which of
// the RFC's errors is the socket API's business, so any errno will do,
// except those that say the call is merely under way (EAGAIN, EINPROGRESS).
func userOpenRefused(t *injector.T, err error, call string) syscall.Errno {
	if err == nil {
		t.Fatalf("%s succeeded; RFC 9293 section 3.10 has the call return an error", call)
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		t.Errorf("%s: %v", call, err)
	}
	if errno == syscall.EBADF {
		t.Errorf("%s: EBADF: the spec lost its socket", call)
	}
	if errno == syscall.EAGAIN || errno == syscall.EINPROGRESS {
		t.Fatalf("%s returned %s: the call went ahead; RFC 9293 section 3.10 has it return an error",
			call, injector.ErrnoName(errno))
	}
	return errno
}

// userOpenWriteRefused makes fd non-blocking and checks that a write() of
// data on it is refused (userOpenRefused) and sends nothing of it.
func userOpenWriteRefused(t *injector.T, fd int, data []byte, call string) {
	t.Expect(t.Sockets().SetNonblock(fd, true)).To(gm.Succeed())
	n, err := t.Sockets().Write(t.Context(), fd, data)
	userOpenRefused(t, err, call)
	t.Expect(n).To(gm.BeZero())
}

// Section 3.10.1, CLOSED STATE, passive OPEN: a TCB is created in LISTEN, the local connection
// name is returned, and nothing is sent (the remote socket is left
// unspecified, to be filled from an arriving SYN).
var _ = spec("T001", state.Closed, "passive OPEN (bind, listen): LISTEN, local name returned, nothing sent", withState,
	func(t *injector.T) {
		fd := t.Socket()
		local := netip.AddrPortFrom(t.Peer().TargetAddr(), servicePort)
		t.Expect(t.Sockets().Bind(fd, local)).To(gm.Succeed())
		t.Expect(t.Sockets().Listen(fd, 16)).To(gm.Succeed())
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		t.Expect(t.Sockets().LocalAddr(fd)).To(gm.Equal(local))
		userOpenNothingSent(t, 200*time.Millisecond)
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
	})

// Section 3.10.1, CLOSED STATE, active OPEN with the remote socket given: an ISS is chosen and
// <SEQ=ISS><CTL=SYN> sent, SYN-SENT entered. The SYN carries the MSS option
// (section 3.7.1, SHLD-5), and an unbound socket gets its source address from
// IP (section 3.9.1.1, MUST-44): the target's own address here.
var _ = spec("T002", state.Closed, "active OPEN (connect): <SEQ=ISS><CTL=SYN> with MSS, SYN-SENT", withState,
	func(t *injector.T) {
		r, syn := activeOpen(t, nil, BeSegment(Flags(wire.SYN), Seq(0), PayloadLen(0), HasOptionKind(wire.KindMSS)))
		local, err := t.Sockets().LocalAddr(r.fd)
		t.Expect(err).To(gm.Succeed())
		t.Expect(local).To(gm.Equal(netip.AddrPortFrom(t.Peer().TargetAddr(), syn.Segment.SrcPort)))
	}, "SHLD-5", "MUST-44")

// userOpenInvalidRemotes are remote addresses an active OPEN must refuse
// (section 3.9.1.1, MUST-46): multicast, and for IPv4 the limited
// broadcast address.
func userOpenInvalidRemotes(f injector.Family) []netip.Addr {
	if f == injector.IPv6 {
		return []netip.Addr{netip.MustParseAddr("ff02::1"), netip.MustParseAddr("ff0e::1")}
	}
	return []netip.Addr{netip.MustParseAddr("224.0.0.1"), netip.MustParseAddr("239.1.2.3"),
		netip.MustParseAddr("255.255.255.255")}
}

// Sections 3.10.1 and 3.9.1.1, active OPEN to an invalid remote socket: the call fails ("connection
// illegal for this process") and the connection stays CLOSED; no SYN may
// be sent (section 3.9.1.1, MUST-46).
var _ = spec("T003", state.Closed, "active OPEN to a broadcast or multicast address: error, no SYN", injector.Needs{},
	func(t *injector.T) {
		remotes := userOpenInvalidRemotes(t.Peer().Family())
		errs := make([]error, len(remotes))
		for i, a := range remotes {
			fd := t.Socket()
			t.Expect(t.Sockets().SetNonblock(fd, true)).To(gm.Succeed())
			errs[i] = t.Sockets().Connect(t.Context(), fd, netip.AddrPortFrom(a, 80))
		}
		// No SYN, to any of them, is the first thing to check.
		userOpenNothingSent(t, 200*time.Millisecond)
		for i, a := range remotes {
			userOpenRefused(t, errs[i], "connect() to "+a.String())
		}
	}, "MUST-46")

// Section 3.10.1, LISTEN STATE, active OPEN with the remote socket given: the connection turns
// active, sends <SEQ=ISS><CTL=SYN> and enters SYN-SENT. A sockets listener
// cannot do that (POSIX connect() refuses a listening socket): then the
// spec checks that the refusal left the listener alone and skips, since
// the transition cannot be driven.
var _ = spec("T004", state.Listen, "active OPEN on a listening socket: SYN, SYN-SENT (or untestable)", withState,
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		t.Expect(t.Sockets().SetNonblock(lfd, true)).To(gm.Succeed())
		c := t.Await()
		err := t.Sockets().Connect(t.Context(), lfd, c.PeerAddrPort())
		if err == nil || errors.Is(err, syscall.EINPROGRESS) {
			c.Expect(BeSegment(Flags(wire.SYN), Seq(0), PayloadLen(0)))
			t.Expect(c.State()).To(BeInState(state.SynSent))
			return
		}
		errno := userOpenRefused(t, err, "connect() on a listening socket")
		c.ExpectNothing(200 * time.Millisecond)
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		t.Skipf("connect() on a listening socket returned %s and the listener stayed in LISTEN: the socket API offers no way to turn a passive OPEN active",
			injector.ErrnoName(errno))
	})

// Section 3.10.2, LISTEN STATE, SEND with no remote socket: "error: foreign socket
// unspecified"; the listener stays in LISTEN and nothing is sent.
var _ = spec("T005", state.Listen, "SEND on a listening socket: error, LISTEN, nothing sent", withState,
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		userOpenWriteRefused(t, lfd, []byte("no remote socket"), "write() on a listening socket")
		userOpenNothingSent(t, 200*time.Millisecond)
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
	})

// Section 3.10.1, all other states, OPEN on a connection that exists: "error: connection already exists";
// the connection is not disturbed and nothing is sent.
func userOpenAgain(st state.State) func(t *injector.T) {
	return func(t *injector.T) {
		r := userOpenReach(t, st)
		userOpenRefused(t, t.Sockets().Connect(t.Context(), r.fd, r.PeerAddrPort()), "a second connect()")
		r.ExpectNothing(userOpenQuiet(st))
		t.Expect(r.State()).To(BeInState(st))
	}
}

var (
	_ = spec("T006", state.SynSent, "OPEN again: error, state unchanged, nothing sent", withState, userOpenAgain(state.SynSent))
	_ = spec("T006", state.SynReceived, "OPEN again (simultaneous open): error, state unchanged, nothing sent", withState, userOpenAgain(state.SynReceived))
	_ = spec("T006", state.Established, "OPEN again: error, state unchanged, nothing sent", withState, userOpenAgain(state.Established))
	_ = spec("T006", state.FinWait1, "OPEN again: error, state unchanged, nothing sent", withState, userOpenAgain(state.FinWait1))
	_ = spec("T006", state.FinWait2, "OPEN again: error, state unchanged, nothing sent", withState, userOpenAgain(state.FinWait2))
	_ = spec("T006", state.CloseWait, "OPEN again: error, state unchanged, nothing sent", withState, userOpenAgain(state.CloseWait))
	_ = spec("T006", state.Closing, "OPEN again: error, state unchanged, nothing sent", withState, userOpenAgain(state.Closing))
	_ = spec("T006", state.LastAck, "OPEN again: error, state unchanged, nothing sent", withState, userOpenAgain(state.LastAck))
	_ = spec("T006", state.TimeWait, "OPEN again: error, state unchanged, nothing sent", withState, userOpenAgain(state.TimeWait))
)
