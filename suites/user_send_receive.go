package suites

import (
	"context"
	"syscall"
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// USER SEND and USER RECEIVE: RFC 9293 sections 3.10.2 and 3.10.3. SEND is
// write(), RECEIVE is read(); "error: connection closing" on RECEIVE is
// the end of the stream (read() returns nothing, without error).

// userSendResult is what a socket call made on another goroutine returned.
type userSendResult struct {
	n    int
	data []byte
	err  error
}

// userSendAsync makes a blocking socket call on its own goroutine, so that
// the spec can inject segments while the call waits, the way a blocked
// application waits for its SEND or RECEIVE to be served. The call is bounded
// by injector.BlockingCallLimit. A little wall time is let pass so that the
// call is under way in the target before the spec goes on.
func userSendAsync(t *injector.T, call func(ctx context.Context) userSendResult) <-chan userSendResult {
	ch := make(chan userSendResult, 1)
	ctx, cancel := context.WithTimeout(t.Context(), injector.BlockingCallLimit)
	go func() {
		defer cancel()
		ch <- call(ctx)
	}()
	time.Sleep(20 * time.Millisecond)
	return ch
}

// userSendPending fails the spec if the call on ch has already returned.
func userSendPending(t *injector.T, ch <-chan userSendResult, call string, st state.State) {
	select {
	case res := <-ch:
		t.Fatalf("%s returned in %v (%d bytes %q, error %v); RFC 9293 queues it until ESTABLISHED",
			call, st, res.n, res.data, res.err)
	default:
	}
}

// userSendWait waits for the call on ch to return.
func userSendWait(t *injector.T, ch <-chan userSendResult, call string) userSendResult {
	res := <-ch
	if res.err == context.DeadlineExceeded && t.Context().Err() == nil {
		t.Fatalf("%s blocked for %v: the target never served it", call, injector.BlockingCallLimit)
	}
	return res
}

// userSendBlocked reaches st (userOpenReach) with a blocking socket and
// makes call on it (userSendAsync), which must wait: nothing is sent, the
// state does not change and the call does not return.
func userSendBlocked(t *injector.T, st state.State, name string, call func(ctx context.Context, fd int) userSendResult) (reached, <-chan userSendResult) {
	r := userOpenReach(t, st)
	t.Expect(t.Sockets().SetNonblock(r.fd, false)).To(gm.Succeed())
	ch := userSendAsync(t, func(ctx context.Context) userSendResult { return call(ctx, r.fd) })
	r.ExpectNothing(200 * time.Millisecond)
	t.Expect(r.State()).To(BeInState(st))
	userSendPending(t, ch, name, st)
	return r, ch
}

// userSendExpectData expects the segment carrying data,
// <SEQ=ISS+seq><ACK=IRS+ack><CTL=ACK[,PSH]>. With ackFirst, a bare ACK with
// the same numbers may come first (the one that completes a handshake).
func userSendExpectData(t *injector.T, r reached, seq, ack int64, data []byte, ackFirst bool) expectations.Observed {
	m := BeSegment(FlagsInclude(wire.ACK), Seq(seq), Ack(ack), Payload(data))
	o := r.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(seq), Ack(ack)))
	if ackFirst && o.Segment.Flags == wire.ACK && len(o.Segment.Payload) == 0 {
		o = r.Expect(m)
	} else {
		t.Expect(o).To(m)
	}
	t.Expect(o.Segment.Flags&^wire.PSH).To(gm.Equal(wire.ACK),
		"the data segment's flags: want ACK or ACK,PSH, got %v", o.Segment.Flags)
	return o
}

// Section 3.10.2, CLOSED STATE, SEND: "error: connection does not exist"; nothing is sent.
var _ = spec("T007", state.Closed, "SEND on a socket with no connection: error, nothing sent", injector.Needs{},
	func(t *injector.T) {
		fd := t.Socket()
		userOpenWriteRefused(t, fd, []byte("no connection"), "write() on an unconnected socket")
		userOpenNothingSent(t, 200*time.Millisecond)
	})

// Section 3.10.2, SEND in SYN-SENT or SYN-RECEIVED: the data is queued for transmission
// after entering ESTABLISHED; nothing is sent meanwhile. A blocking write()
// is the SEND: it must neither fail nor put data on the wire before the
// handshake ends, and the data must leave, <SEQ=ISS+1>, once it has.
func userSendBeforeEstablished(st state.State) func(t *injector.T) {
	return func(t *injector.T) {
		data := []byte("queued before ESTABLISHED")
		r, ch := userSendBlocked(t, st, "write()", func(ctx context.Context, fd int) userSendResult {
			n, err := t.Sockets().Write(ctx, fd, data)
			return userSendResult{n: n, err: err}
		})

		if st == state.SynSent {
			r.Send(wire.SYN | wire.ACK)
		} else {
			r.Send(wire.ACK) // acknowledges the target's SYN,ACK
		}
		res := userSendWait(t, ch, "write()")
		t.Expect(res.err).To(gm.Succeed(), "write() queued in %v", st)
		t.Expect(res.n).To(gm.Equal(len(data)))
		userSendExpectData(t, r, 1, 1, data, true)
		t.Expect(r.State()).To(BeInState(state.Established))
	}
}

var (
	_ = spec("T008", state.SynSent, "SEND is queued until ESTABLISHED, then sent", withState, userSendBeforeEstablished(state.SynSent))
	_ = spec("T008", state.SynReceived, "SEND (simultaneous open) is queued until ESTABLISHED, then sent", withState, userSendBeforeEstablished(state.SynReceived))
)

// Section 3.10.2, SEND in ESTABLISHED or CLOSE-WAIT: the data goes out at once in
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK[,PSH]> (nothing holds it back: the
// window is open and nothing is outstanding); the state does not change. In
// CLOSE-WAIT the peer has closed only its own direction.
func userSendData(st state.State) func(t *injector.T) {
	return func(t *injector.T) {
		r := reach(t, st)
		ack := int64(1)
		if st == state.CloseWait {
			ack = 2 // the peer's FIN
		}
		data := []byte("RFC 9293 section 3.10.2")
		t.Write(r.fd, data)
		userSendExpectData(t, r, 1, ack, data, false)
		t.Expect(r.State()).To(BeInState(st))
	}
}

var (
	_ = spec("T009", state.Established, "SEND: data segment <SEQ=SND.NXT><ACK=RCV.NXT>, ESTABLISHED", withState, userSendData(state.Established))
	_ = spec("T009", state.CloseWait, "SEND: data segment <SEQ=SND.NXT><ACK=RCV.NXT>, CLOSE-WAIT", withState, userSendData(state.CloseWait))
)

// Section 3.10.2, SEND after the user's CLOSE (FIN-WAIT-1, FIN-WAIT-2, CLOSING, LAST-ACK,
// TIME-WAIT): "error: connection closing"; no data is sent.
func userSendClosing(st state.State) func(t *injector.T) {
	return func(t *injector.T) {
		r := reach(t, st)
		userOpenWriteRefused(t, r.fd, []byte("after CLOSE"), "write() after shutdown(SHUT_WR)")
		r.ExpectNothing(userOpenQuiet(st))
		t.Expect(r.State()).To(BeInState(st))
	}
}

var (
	_ = spec("T010", state.FinWait1, "SEND after CLOSE: error, nothing sent", withState, userSendClosing(state.FinWait1))
	_ = spec("T010", state.FinWait2, "SEND after CLOSE: error, nothing sent", withState, userSendClosing(state.FinWait2))
	_ = spec("T010", state.Closing, "SEND after CLOSE: error, nothing sent", withState, userSendClosing(state.Closing))
	_ = spec("T010", state.LastAck, "SEND after CLOSE: error, nothing sent", withState, userSendClosing(state.LastAck))
	_ = spec("T010", state.TimeWait, "SEND after CLOSE: error, nothing sent", withState, userSendClosing(state.TimeWait))
)

// Section 3.10.3, CLOSED STATE, RECEIVE: "error: connection does not exist".
var _ = spec("T011", state.Closed, "RECEIVE on a socket with no connection: error, nothing sent", injector.Needs{},
	func(t *injector.T) {
		fd := t.Socket()
		t.Expect(t.Sockets().SetNonblock(fd, true)).To(gm.Succeed())
		b, err := t.Sockets().Read(t.Context(), fd, 100)
		userOpenRefused(t, err, "read() on an unconnected socket")
		t.Expect(b).To(gm.BeEmpty())
		userOpenNothingSent(t, 200*time.Millisecond)
	})

// Section 3.10.3, RECEIVE in LISTEN: queued until ESTABLISHED. A non-blocking read() that
// says "not yet" (EAGAIN) is that. A sockets listener never becomes the
// connection itself (accept() makes a new socket), so a stack may refuse
// the call; the spec then checks the listener was left alone and skips.
var _ = spec("T012", state.Listen, "RECEIVE on a listening socket: queued (or untestable), LISTEN, nothing sent", withState,
	func(t *injector.T) {
		r := reach(t, state.Listen)
		t.Expect(t.Sockets().SetNonblock(r.lfd, true)).To(gm.Succeed())
		b, err := t.Sockets().Read(t.Context(), r.lfd, 100)
		r.ExpectNothing(200 * time.Millisecond)
		t.Expect(t.ListenerState(servicePort)).To(BeInState(state.Listen))
		if err == nil {
			t.Fatalf("read() on a listening socket returned %d bytes (end of stream if none); RFC 9293 queues it until ESTABLISHED", len(b))
		}
		if err == syscall.EAGAIN {
			return
		}
		errno := userOpenRefused(t, err, "read() on a listening socket")
		t.Skipf("read() on a listening socket returned %s and the listener stayed in LISTEN: a sockets listener never becomes the connection, so a RECEIVE on it cannot wait for ESTABLISHED",
			injector.ErrnoName(errno))
	})

// Section 3.10.3, RECEIVE in SYN-SENT or SYN-RECEIVED: queued until ESTABLISHED. A
// blocking read() waits through the handshake and returns the peer's
// first data.
func userReceiveBeforeEstablished(st state.State) func(t *injector.T) {
	return func(t *injector.T) {
		r, ch := userSendBlocked(t, st, "read()", func(ctx context.Context, fd int) userSendResult {
			b, err := t.Sockets().Read(ctx, fd, 100)
			return userSendResult{n: len(b), data: b, err: err}
		})

		if st == state.SynSent {
			r.Send(wire.SYN | wire.ACK)
			r.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(1), PayloadLen(0)))
		} else {
			r.Send(wire.ACK) // acknowledges the target's SYN,ACK
		}
		t.Expect(r.State()).To(BeInState(state.Established))
		data := []byte("first data after the handshake")
		r.Send(wire.PSH|wire.ACK, injector.WithPayload(data))
		res := userSendWait(t, ch, "read()")
		t.Expect(res.err).To(gm.Succeed(), "read() queued in %v", st)
		t.Expect(res.data).To(gm.Equal(data))
		t.Expect(r.State()).To(BeInState(state.Established))
	}
}

var (
	_ = spec("T012", state.SynSent, "RECEIVE is queued until ESTABLISHED, then served", withState, userReceiveBeforeEstablished(state.SynSent))
	_ = spec("T012", state.SynReceived, "RECEIVE (simultaneous open) is queued until ESTABLISHED, then served", withState, userReceiveBeforeEstablished(state.SynReceived))
)

// Section 3.10.3, RECEIVE in ESTABLISHED, FIN-WAIT-1 or FIN-WAIT-2: the data that arrived is
// returned to the user; the state does not change. In the FIN-WAIT states
// the user has closed only its own direction. In FIN-WAIT-1 the peer's
// data does not acknowledge the target's FIN, so the state stays.
func userReceiveData(st state.State) func(t *injector.T) {
	return func(t *injector.T) {
		r := reach(t, st)
		data := []byte("data for RECEIVE")
		if st == state.FinWait1 {
			r.Send(wire.PSH|wire.ACK, injector.WithPayload(data), injector.WithAck(r.RcvNxt.Sub(1)))
		} else {
			r.Send(wire.PSH|wire.ACK, injector.WithPayload(data))
		}
		t.Expect(t.Read(r.fd, 100)).To(gm.Equal(data))
		t.Expect(r.State()).To(BeInState(st))
	}
}

var (
	_ = spec("T013", state.Established, "RECEIVE returns the data, ESTABLISHED", withState, userReceiveData(state.Established))
	_ = spec("T013", state.FinWait1, "RECEIVE returns the data, FIN-WAIT-1", withState, userReceiveData(state.FinWait1))
	_ = spec("T013", state.FinWait2, "RECEIVE returns the data, FIN-WAIT-2", withState, userReceiveData(state.FinWait2))
)

// Section 3.10.3, RECEIVE in CLOSE-WAIT: what is still buffered is returned, then "error:
// connection closing" (end of stream), for as many RECEIVEs as are made;
// nothing is sent and the state stays CLOSE-WAIT.
var _ = spec("T014", state.CloseWait, "RECEIVE returns the buffered data, then end of stream; CLOSE-WAIT", withState,
	func(t *injector.T) {
		r := reach(t, state.Established)
		data := []byte("last data before FIN")
		r.Send(wire.FIN|wire.PSH|wire.ACK, injector.WithPayload(data))
		r.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(int64(1+len(data)+1)), PayloadLen(0)))
		t.Expect(r.State()).To(BeInState(state.CloseWait))

		t.Expect(t.Read(r.fd, 100)).To(gm.Equal(data))
		t.Expect(t.Read(r.fd, 100)).To(gm.BeEmpty(), "read() after the data: end of stream")
		t.Expect(t.Read(r.fd, 100)).To(gm.BeEmpty(), "read() again: end of stream")
		r.ExpectNothing(200 * time.Millisecond)
		t.Expect(r.State()).To(BeInState(state.CloseWait))
	})

// Section 3.10.3, RECEIVE in CLOSING, LAST-ACK or TIME-WAIT: "error: connection closing"
// (the peer's FIN has come: end of stream); nothing is sent and the state
// does not change.
func userReceiveClosing(st state.State) func(t *injector.T) {
	return func(t *injector.T) {
		r := reach(t, st)
		t.Expect(t.Read(r.fd, 100)).To(gm.BeEmpty(), "read(): end of stream")
		r.ExpectNothing(userOpenQuiet(st))
		t.Expect(r.State()).To(BeInState(st))
	}
}

var (
	_ = spec("T015", state.Closing, "RECEIVE: end of stream, nothing sent", withState, userReceiveClosing(state.Closing))
	_ = spec("T015", state.LastAck, "RECEIVE: end of stream, nothing sent", withState, userReceiveClosing(state.LastAck))
	_ = spec("T015", state.TimeWait, "RECEIVE: end of stream, nothing sent", withState, userReceiveClosing(state.TimeWait))
)
