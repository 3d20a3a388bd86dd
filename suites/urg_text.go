package suites

import (
	"errors"
	"fmt"
	"syscall"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// SEGMENT ARRIVES in a synchronized state, RFC 9293 section 3.10.7.4: the
// sixth check (URG, T089–T090) and the seventh (segment text, T091–T093),
// with the half-duplex close of section 3.6.1 (T092).

// arriveSendUrg injects, on a connection made by arriveOpen or arriveReach
// (no timestamps), a segment with URG set, urgent pointer up, the given
// acknowledgment and payload, at the peer's SND.NXT, and moves SND.NXT past
// it. The peer's Send has no urgent pointer, so the segment is built here.
func arriveSendUrg(t *injector.T, r reached, ack seq.Value, up uint16, payload []byte) {
	flags := wire.URG | wire.ACK
	if len(payload) > 0 {
		flags |= wire.PSH
	}
	s := buildSegment(t, r.TConn, flags, nil, payload)
	s.Ack, s.Urgent = ack, up
	injectOn(t, r.TConn, s)
}

// URG in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2: RCV.UP = max(RCV.UP,
// SEG.UP) and the user is told of urgent data (section 3.8.5). The urgent
// data stays part of the stream (RFC 6093): with SO_OOBINLINE (which a
// target without out-of-band delivery may lack) all four octets, the urgent
// one included, are read in order, and the ACK covers them all. Nothing else
// is sent and the state stays. (The asynchronous signal, MUST-32, is not
// observable through the socket API used here.)
var _ = eachState([]state.State{state.Established, state.FinWait1, state.FinWait2}, func(st state.State) {
	spec("T089", st, "URG with data: all octets acknowledged and readable in order, state unchanged", withState,
		func(t *injector.T) {
			r := arriveReach(t, st)
			err := t.Sockets().SetsockoptInt(r.fd, syscall.SOL_SOCKET, syscall.SO_OOBINLINE, 1)
			if err != nil && !errors.Is(err, syscall.ENOPROTOOPT) {
				t.Fatalf("setsockopt(SO_OOBINLINE): %v", err)
			}
			data := []byte("abcX")
			// The pointer is the octet after the urgent data (MUST-62):
			// here the last octet is urgent.
			arriveSendUrg(t, r, sndUNA(r, st), uint16(len(data)), data)
			arriveAcks(t, r)
			t.Expect(r.State()).To(BeInState(st))
			t.Expect(readUpTo(t, r.fd, len(data))).To(gm.Equal(data))
		}, "MUST-30")
})

// URG in CLOSE-WAIT, CLOSING, LAST-ACK and TIME-WAIT is ignored: the peer
// has already sent its FIN. An acceptable zero-length segment with URG set
// draws nothing and changes nothing.
var _ = eachState([]state.State{state.CloseWait, state.Closing, state.LastAck, state.TimeWait}, func(st state.State) {
	spec("T090", st, "URG after the peer's FIN ignored: nothing sent, state unchanged", withState,
		func(t *injector.T) {
			r := arriveReach(t, st)
			arriveSendUrg(t, r, sndUNA(r, st), 1, nil)
			r.quiet(t, arriveQuiet)
			t.Expect(r.State()).To(BeInState(st))
		})
})

// In-order text in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2 is delivered:
// RCV.NXT advances over it and an ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
// follows within 0.5 s. In the FIN-WAIT states this is the half-close's
// receive path: shutdown(SHUT_WR) left reading open.
var _ = eachState([]state.State{state.Established, state.FinWait1, state.FinWait2}, func(st state.State) {
	spec("T091", st, "in-order data acknowledged and readable, state unchanged", withState,
		func(t *injector.T) {
			r := reach(t, st)
			data := []byte("in order")
			arriveAcked(t, r, st, wire.PSH|wire.ACK, injector.WithAck(sndUNA(r, st)), injector.WithPayload(data))
			t.Expect(t.Read(r.fd, 100)).To(gm.Equal(data))
		}, "MUST-40")
})

// A host with a half-duplex close (section 3.6.1, MAY-1) that gets new data
// after the application called CLOSE should send a reset (SHLD-3): the data
// cannot be delivered. close() rather than shutdown() leaves the socket to
// the stack. The reset is <SEQ=SND.NXT><CTL=RST>, the form of section
// 3.10.7.4's resets in synchronized states (section 3.6.1 gives none, so an
// ACK bit is let pass, as for ABORT), and the connection is CLOSED. In
// FIN-WAIT-1 the data does not acknowledge the FIN: SND.NXT is one past
// SEG.ACK there.
var _ = eachState([]state.State{state.FinWait1, state.FinWait2}, func(st state.State) {
	spec("T092", st, "data after close(): <SEQ=SND.NXT><CTL=RST>, CLOSED", withState,
		func(t *injector.T) {
			c, fd := acceptConn(t)
			t.Close(fd)
			c.Expect(BeSegment(Flags(wire.FIN|wire.ACK), Seq(1), Ack(1)))
			ack := c.RcvNxt.Sub(1)
			if st == state.FinWait2 {
				c.Send(wire.ACK)
				ack = c.RcvNxt
			}
			t.Expect(c.State()).To(BeInState(st))
			c.Send(wire.PSH|wire.ACK, injector.WithAck(ack), injector.WithPayload([]byte("too late")))
			o := c.Expect(BeSegment(FlagsInclude(wire.RST), SeqNum(c.RcvNxt), PayloadLen(0)))
			t.Expect(o.Segment.Flags&^wire.ACK).To(gm.Equal(wire.RST), "flags of the reset: want RST or RST,ACK, got %v", o.Segment.Flags)
			t.Expect(c.State()).To(BeInState(state.Closed))
		}, "MAY-1", "SHLD-3")
})

// Text after the peer's FIN (CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT) is
// ignored: it is not delivered (the stream still reads as ended) and
// RCV.NXT does not move. Only the earlier checks answer: in CLOSE-WAIT,
// CLOSING and LAST-ACK none does, so nothing is sent; in TIME-WAIT the fifth
// check acknowledges whatever arrives (T088), with RCV.NXT unchanged.
var _ = eachState([]state.State{state.CloseWait, state.Closing, state.LastAck, state.TimeWait}, func(st state.State) {
	spec("T093", st, "data after the peer's FIN ignored: not acknowledged nor delivered, state unchanged", withState,
		func(t *injector.T) {
			r := reach(t, st)
			rcvNxt := r.SndNxt
			r.Send(wire.PSH|wire.ACK, injector.WithAck(sndUNA(r, st)), injector.WithPayload([]byte("after FIN")))
			if st == state.TimeWait {
				r.Expect(BeSegment(Flags(wire.ACK), SeqNum(r.RcvNxt), AckNum(rcvNxt), PayloadLen(0)))
			} else {
				r.quiet(t, arriveQuiet)
			}
			t.Expect(r.State()).To(BeInState(st))
			t.Expect(t.Read(r.fd, 100)).To(gm.BeEmpty(), fmt.Sprintf("read on the socket in %v", st))
		})
})
