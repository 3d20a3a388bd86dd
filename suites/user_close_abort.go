package suites

import (
	"encoding/binary"
	"errors"
	"syscall"
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// USER CLOSE, ABORT and STATUS: RFC 9293 sections 3.10.4, 3.10.5 and 3.10.6.
// CLOSE is close(), or shutdown(SHUT_WR) where the user keeps the socket to
// receive (CLOSE closes only the sending direction); ABORT is close() with
// SO_LINGER {on, 0}; STATUS is getsockopt(TCP_INFO).

// userCloseAfterSend has the application SEND data on r and then CLOSE
// (shutdown(SHUT_WR)), and expects the data the CLOSE found queued, then the
// FIN after it: <SEQ=ISS+1><ACK=IRS+ack> with the data, and
// <SEQ=ISS+1+len><ACK=IRS+ack><CTL=FIN,ACK>, or both in one segment.
func userCloseAfterSend(t *injector.T, r reached, ack int64) {
	data := []byte("sent before the FIN")
	t.Write(r.fd, data)
	t.Shutdown(r.fd, syscall.SHUT_WR)
	o := r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Ack(ack), Payload(data)))
	if o.Segment.Flags&wire.FIN != 0 {
		t.Expect(o.Segment.Flags&^wire.PSH).To(gm.Equal(wire.FIN|wire.ACK),
			"flags of the data segment carrying the FIN: got %v", o.Segment.Flags)
		return
	}
	t.Expect(o.Segment.Flags&^wire.PSH).To(gm.Equal(wire.ACK),
		"flags of the data segment: want ACK or ACK,PSH, got %v", o.Segment.Flags)
	r.Expect(BeSegment(Flags(wire.FIN|wire.ACK), Seq(int64(1+len(data))), Ack(ack), PayloadLen(0)))
}

// userCloseExpectRST expects <SEQ=SND.NXT><CTL=RST> (ACK may be set too,
// as real stacks do). A bare ACK of data the peer sent just before may come
// first, when the target delayed it.
func userCloseExpectRST(t *injector.T, r reached, sndNxt seq.Value) {
	m := BeSegment(FlagsInclude(wire.RST), SeqNum(sndNxt))
	o := r.Expect(BeSegment(SeqNum(sndNxt)))
	if o.Segment.Flags == wire.ACK && len(o.Segment.Payload) == 0 {
		o = r.Expect(m)
	} else {
		t.Expect(o).To(m)
	}
	t.Expect(o.Segment.Flags&^wire.ACK).To(gm.Equal(wire.RST), "flags of the reset: want RST or RST,ACK, got %v", o.Segment.Flags)
}

// userCloseIsClosed checks that the listener on servicePort is gone: its
// state is no longer LISTEN and a SYN to the port is answered as in CLOSED
// (section 3.10.7.1): <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
func userCloseIsClosed(t *injector.T) {
	t.Expect(t.ListenerState(servicePort)).NotTo(BeInState(state.Listen))
	c := t.Dial(servicePort)
	c.Send(wire.SYN)
	c.Expect(BeSegment(Flags(wire.RST|wire.ACK), SeqNum(0), AckNum(c.ISN.Add(1)), PayloadLen(0)))
}

// Section 3.10.4, CLOSED STATE, CLOSE: "error: connection does not exist". close() always
// releases the descriptor, so the closest call that can report the error is
// shutdown(SHUT_WR), the half-close CLOSE; nothing is sent either way.
var _ = spec("T016", state.Closed, "CLOSE on a socket with no connection: error, nothing sent", injector.Needs{},
	func(t *injector.T) {
		fd := t.Socket()
		userOpenRefused(t, t.Sockets().Shutdown(fd, syscall.SHUT_WR), "shutdown(SHUT_WR) on an unconnected socket")
		t.Close(fd)
		userOpenNothingSent(t, 200*time.Millisecond)
	})

// Section 3.10.4, CLOSE in LISTEN: the TCB is deleted, CLOSED, nothing is sent; the port
// then answers SYNs as CLOSED does.
var _ = spec("T017", state.Listen, "CLOSE: CLOSED, nothing sent", withState,
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		t.Close(lfd)
		userOpenNothingSent(t, 200*time.Millisecond)
		userCloseIsClosed(t)
	})

// Section 3.10.4, CLOSE in SYN-SENT: the TCB is deleted, CLOSED; neither FIN nor RST is
// sent.
var _ = spec("T018", state.SynSent, "CLOSE: CLOSED, nothing sent", withState,
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		t.Close(r.fd)
		r.ExpectNothing(200 * time.Millisecond)
		t.Expect(r.State()).To(BeInState(state.Closed))
	})

// The same, over the SYN's retransmission timeouts (1 s initial RTO,
// section 3.8.1): with the TCB gone the SYN is never sent again.
var _ = spec("T018", state.SynSent, "CLOSE: the SYN is not retransmitted", injector.Needs{State: true, VirtualTime: true},
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		t.Close(r.fd)
		r.ExpectNothing(10 * time.Second)
		t.Expect(r.State()).To(BeInState(state.Closed))
	})

// Section 3.10.4, CLOSE in SYN-RECEIVED with nothing to send: FIN-WAIT-1, and
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=FIN,ACK>. Reached by simultaneous open so
// that the connection has a socket to close.
var _ = spec("T019", state.SynReceived, "CLOSE (simultaneous open): FIN,ACK sent, FIN-WAIT-1", withState,
	func(t *injector.T) {
		r := userOpenReach(t, state.SynReceived)
		t.Close(r.fd)
		r.Expect(BeSegment(Flags(wire.FIN|wire.ACK), Seq(1), Ack(1), PayloadLen(0)))
		t.Expect(r.State()).To(BeInState(state.FinWait1))
	})

// Section 3.10.4, CLOSE in ESTABLISHED: the data already queued is sent, then
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=FIN,ACK>; FIN-WAIT-1.
var _ = spec("T020", state.Established, "CLOSE after SEND: the data, then FIN,ACK; FIN-WAIT-1", withState,
	func(t *injector.T) {
		r := reach(t, state.Established)
		userCloseAfterSend(t, r, 1)
		t.Expect(r.State()).To(BeInState(state.FinWait1))
	})

// Section 3.10.4, CLOSE again in FIN-WAIT-1 or FIN-WAIT-2: strictly "error: connection
// closing", though "ok" is acceptable; either way no second FIN (the first
// may be retransmitted) and the state does not change. Both shutdown() and
// then close() are tried. (In CLOSING, LAST-ACK and TIME-WAIT, below, the
// error is required.)
func userCloseAgain(st state.State, strict bool) func(t *injector.T) {
	return func(t *injector.T) {
		r := reach(t, st)
		err := t.Sockets().Shutdown(r.fd, syscall.SHUT_WR)
		t.Close(r.fd)
		// One quiet period for both calls, so that it ends before the
		// first FIN's retransmission timeout.
		r.ExpectNothing(userOpenQuiet(st))
		t.Expect(r.State()).To(BeInState(st))
		if strict || err != nil {
			userOpenRefused(t, err, "a second shutdown(SHUT_WR)")
		}
	}
}

var (
	_ = spec("T021", state.FinWait1, "CLOSE again: no second FIN, FIN-WAIT-1", withState, userCloseAgain(state.FinWait1, false))
	_ = spec("T021", state.FinWait2, "CLOSE again: no second FIN, FIN-WAIT-2", withState, userCloseAgain(state.FinWait2, false))
)

// Section 3.10.4, CLOSE in CLOSE-WAIT: the data already queued is sent, then
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=FIN,ACK>; LAST-ACK (RFC 793's event text
// said CLOSING; its figure and RFC 9293 say LAST-ACK).
var _ = spec("T022", state.CloseWait, "CLOSE after SEND: the data, then FIN,ACK; LAST-ACK", withState,
	func(t *injector.T) {
		r := reach(t, state.CloseWait)
		userCloseAfterSend(t, r, 2)
		t.Expect(r.State()).To(BeInState(state.LastAck))
	})

// Section 3.10.4, CLOSE in CLOSING, LAST-ACK or TIME-WAIT: "error: connection closing";
// nothing is sent and the state does not change.
var (
	_ = spec("T023", state.Closing, "CLOSE again: error, nothing sent, CLOSING", withState, userCloseAgain(state.Closing, true))
	_ = spec("T023", state.LastAck, "CLOSE again: error, nothing sent, LAST-ACK", withState, userCloseAgain(state.LastAck, true))
	_ = spec("T023", state.TimeWait, "CLOSE again: error, nothing sent, TIME-WAIT", withState, userCloseAgain(state.TimeWait, true))
)

// CLOSE with received data unread, on a host that implements half-duplex
// close (section 3.6.1, MAY-1): the data is lost, which the host SHOULD
// signal with a reset (SHLD-3), <SEQ=SND.NXT><CTL=RST>, rather than a FIN;
// the connection is then CLOSED.
var _ = spec("T024", state.Established, "close() with unread data: RST instead of FIN, CLOSED", withState,
	func(t *injector.T) {
		r := reach(t, state.Established)
		r.Send(wire.PSH|wire.ACK, injector.WithPayload([]byte("never read")))
		t.Expect(r.State()).To(BeInState(state.Established))
		t.Close(r.fd)
		userCloseExpectRST(t, r, r.TargetISS.Add(1))
		t.Expect(r.State()).To(BeInState(state.Closed))
	}, "MAY-1", "SHLD-3")

var _ = spec("T024", state.CloseWait, "close() with unread data: RST instead of FIN, CLOSED", withState,
	func(t *injector.T) {
		r := reach(t, state.Established)
		data := []byte("never read")
		r.Send(wire.FIN|wire.PSH|wire.ACK, injector.WithPayload(data))
		r.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(int64(1+len(data)+1)), PayloadLen(0)))
		t.Expect(r.State()).To(BeInState(state.CloseWait))
		t.Close(r.fd)
		userCloseExpectRST(t, r, r.TargetISS.Add(1))
		t.Expect(r.State()).To(BeInState(state.Closed))
	}, "MAY-1", "SHLD-3")

// userAbort is USER ABORT: close() with SO_LINGER {l_onoff 1, l_linger 0}.
// struct linger is two ints, so it goes through targets.RawSockopts; a
// target without it (or refusing the option) cannot abort, and the spec is
// skipped.
func userAbort(t *injector.T, fd int) {
	raw, ok := t.Sockets().(targets.RawSockopts)
	if !ok {
		t.Skipf("USER ABORT is close() with SO_LINGER {on, 0}, and the target's sockets take no struct-valued option (no targets.RawSockopts; SetsockoptInt cannot carry struct linger)")
	}
	var linger [8]byte
	binary.NativeEndian.PutUint32(linger[0:], 1) // l_onoff
	binary.NativeEndian.PutUint32(linger[4:], 0) // l_linger
	if err := raw.SetsockoptBytes(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, linger[:]); err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			t.Skipf("USER ABORT is close() with SO_LINGER {on, 0}, and the target refuses SO_LINGER: %s", injector.ErrnoName(errno))
		}
		t.Errorf("setsockopt(SO_LINGER): %v", err)
	}
	t.Close(fd)
}

// Section 3.10.5, CLOSED STATE, ABORT: "error: connection does not exist", which close() cannot
// report; what can be checked is that nothing is sent.
var _ = spec("T025", state.Closed, "ABORT on a socket with no connection: nothing sent", injector.Needs{},
	func(t *injector.T) {
		fd := t.Socket()
		userAbort(t, fd)
		userOpenNothingSent(t, 200*time.Millisecond)
	})

// Section 3.10.5, ABORT in LISTEN: the TCB is deleted, CLOSED, nothing is sent.
var _ = spec("T026", state.Listen, "ABORT: CLOSED, nothing sent", withState,
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		userAbort(t, lfd)
		userOpenNothingSent(t, 200*time.Millisecond)
		userCloseIsClosed(t)
	})

// Section 3.10.5, ABORT in SYN-SENT: the TCB is deleted, CLOSED; no reset is sent (there
// is no synchronized connection to reset).
var _ = spec("T026", state.SynSent, "ABORT: CLOSED, nothing sent", withState,
	func(t *injector.T) {
		r := reach(t, state.SynSent)
		userAbort(t, r.fd)
		r.ExpectNothing(200 * time.Millisecond)
		t.Expect(r.State()).To(BeInState(state.Closed))
	})

// Section 3.10.5, ABORT in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 or CLOSE-WAIT:
// <SEQ=SND.NXT><CTL=RST> is sent, queues are flushed, the TCB is deleted:
// CLOSED. (Figure 5, note 3, lets the side that sends a reset go to
// TIME-WAIT instead.) Nothing else follows the reset.
func userAbortReset(st state.State) func(t *injector.T) {
	return func(t *injector.T) {
		r := userOpenReach(t, st)
		sndNxt := r.TargetISS.Add(1)
		if st == state.FinWait1 || st == state.FinWait2 {
			sndNxt = r.TargetISS.Add(2) // past the FIN
		}
		userAbort(t, r.fd)
		userCloseExpectRST(t, r, sndNxt)
		r.ExpectNothing(200 * time.Millisecond)
		t.Expect(r.State()).To(gm.Or(BeInState(state.Closed), BeInState(state.TimeWait)))
	}
}

var (
	_ = spec("T027", state.SynReceived, "ABORT (simultaneous open): <SEQ=SND.NXT><CTL=RST>, CLOSED", withState, userAbortReset(state.SynReceived))
	_ = spec("T027", state.Established, "ABORT: <SEQ=SND.NXT><CTL=RST>, CLOSED", withState, userAbortReset(state.Established))
	_ = spec("T027", state.FinWait1, "ABORT: <SEQ=SND.NXT><CTL=RST>, CLOSED", withState, userAbortReset(state.FinWait1))
	_ = spec("T027", state.FinWait2, "ABORT: <SEQ=SND.NXT><CTL=RST>, CLOSED", withState, userAbortReset(state.FinWait2))
	_ = spec("T027", state.CloseWait, "ABORT: <SEQ=SND.NXT><CTL=RST>, CLOSED", withState, userAbortReset(state.CloseWait))
)

// Section 3.10.5, ABORT in CLOSING, LAST-ACK or TIME-WAIT: "ok", the TCB is deleted,
// CLOSED; nothing is sent.
func userAbortQuiet(st state.State) func(t *injector.T) {
	return func(t *injector.T) {
		r := reach(t, st)
		userAbort(t, r.fd)
		r.ExpectNothing(200 * time.Millisecond)
		t.Expect(r.State()).To(BeInState(state.Closed))
	}
}

var (
	_ = spec("T028", state.Closing, "ABORT: CLOSED, nothing sent", withState, userAbortQuiet(state.Closing))
	_ = spec("T028", state.LastAck, "ABORT: CLOSED, nothing sent", withState, userAbortQuiet(state.LastAck))
	_ = spec("T028", state.TimeWait, "ABORT: CLOSED, nothing sent", withState, userAbortQuiet(state.TimeWait))
)

// userStatusStates reads tcpi_state, numbered as Linux's
// include/net/tcp_states.h.
var userStatusStates = map[int64]state.State{
	1: state.Established, 2: state.SynSent, 3: state.SynReceived, 4: state.FinWait1,
	5: state.FinWait2, 6: state.TimeWait, 7: state.Closed, 8: state.CloseWait,
	9: state.LastAck, 10: state.Listen, 11: state.Closing,
}

// userStatusOf is USER STATUS on a socket: the state getsockopt(TCP_INFO)
// reports, if the target answers it.
func userStatusOf(t *injector.T, fd int) (state.State, bool) {
	ti, ok := t.Peer().Instance().(targets.TCPInfo)
	if !ok {
		return state.Unknown, false
	}
	info, err := ti.TCPInfo(fd)
	if err != nil {
		t.Fatalf("getsockopt(TCP_INFO): %v", err)
	}
	v, ok := info["tcpi_state"]
	if !ok {
		t.Fatalf("getsockopt(TCP_INFO) reports no tcpi_state")
	}
	st, ok := userStatusStates[v]
	if !ok {
		t.Fatalf("getsockopt(TCP_INFO) reports tcpi_state %d, which names no state", v)
	}
	return st, true
}

// Section 3.10.6, STATUS: the state of the connection is returned (with other TCB
// information); the call changes nothing and sends nothing.
func userStatus(st state.State) func(t *injector.T) {
	return func(t *injector.T) {
		if _, ok := t.Peer().Instance().(targets.TCPInfo); !ok {
			t.Skipf("USER STATUS is getsockopt(TCP_INFO), which the target does not answer")
		}
		r := userOpenReach(t, st)
		fd := r.fd
		if st == state.Listen {
			fd = r.lfd
		}
		got, _ := userStatusOf(t, fd)
		t.Expect(got).To(BeInState(st), "getsockopt(TCP_INFO) tcpi_state")
		r.ExpectNothing(userOpenQuiet(st))
		if st == state.Listen {
			t.Expect(t.ListenerState(servicePort)).To(BeInState(st))
		} else {
			t.Expect(r.State()).To(BeInState(st))
		}
	}
}

var (
	_ = spec("T029", state.Listen, "STATUS reports LISTEN", withState, userStatus(state.Listen))
	_ = spec("T029", state.SynSent, "STATUS reports SYN-SENT", withState, userStatus(state.SynSent))
	_ = spec("T029", state.SynReceived, "STATUS (simultaneous open) reports SYN-RECEIVED", withState, userStatus(state.SynReceived))
	_ = spec("T029", state.Established, "STATUS reports ESTABLISHED", withState, userStatus(state.Established))
	_ = spec("T029", state.FinWait1, "STATUS reports FIN-WAIT-1", withState, userStatus(state.FinWait1))
	_ = spec("T029", state.FinWait2, "STATUS reports FIN-WAIT-2", withState, userStatus(state.FinWait2))
	_ = spec("T029", state.CloseWait, "STATUS reports CLOSE-WAIT", withState, userStatus(state.CloseWait))
	_ = spec("T029", state.Closing, "STATUS reports CLOSING", withState, userStatus(state.Closing))
	_ = spec("T029", state.LastAck, "STATUS reports LAST-ACK", withState, userStatus(state.LastAck))
	_ = spec("T029", state.TimeWait, "STATUS reports TIME-WAIT", withState, userStatus(state.TimeWait))
)
