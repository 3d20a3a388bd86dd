package suites

import (
	"syscall"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// RFC 9293 section 3.1, Checksum (MUST-3): a receiver checks the checksum
// and discards a segment whose checksum is wrong, whatever the segment: a
// SYN to a closed port and to a listener, data, a FIN and an RST in
// ESTABLISHED each draw nothing, change no state and deliver nothing. A
// stack that checks the checksum of data only (or of some control segments
// only) answers one of them, or moves to CLOSE-WAIT or CLOSED. The same
// segments with a good checksum then work, so the silence was the
// checksum's.
var _ = behaviourWithID("MUST-3: a bad checksum discards a SYN (closed port, LISTEN), data, a FIN and an RST (ESTABLISHED): no answer, no state change, nothing delivered",
	[]string{"MUST-3", "rfc9293:3.1", "state:CLOSED", "state:LISTEN", "state:ESTABLISHED"},
	injector.Needs{State: true},
	func(t *injector.T) {
		bad := injector.WithFaults(wire.Faults{BadTCPChecksum: true})
		// dropped sends s with a bad checksum, checks that nothing answers
		// it, and puts SND.NXT back as if it had been lost.
		dropped := func(c *injector.TConn, what string, flags wire.Flags, opts ...injector.SendOption) {
			at := c.SndNxt
			c.Send(flags, append(opts, bad)...)
			if err := c.TryExpectNothing(t.Context(), reqSegQuiet); err != nil {
				t.Fatalf("RFC 9293 section 3.1 (MUST-3): %s with a bad checksum must be discarded without an answer: %v", what, err)
			}
			c.SndNxt = at
		}

		closed := t.Dial(closedPort)
		dropped(closed, "a SYN to a closed port", wire.SYN)

		lfd := t.Listen(servicePort)
		t.Expect(t.Sockets().SetNonblock(lfd, true)).To(gm.Succeed())
		c := t.Dial(servicePort)
		dropped(c, "a SYN to a listener", wire.SYN)
		t.Expect(c.State()).To(noConnection(), "RFC 9293 section 3.1 (MUST-3): a SYN with a bad checksum must not open a connection")
		_, _, err := t.Sockets().Accept(t.Context(), lfd)
		t.Expect(err).To(gm.MatchError(syscall.EAGAIN), "accept() after a SYN with a bad checksum (RFC 9293 section 3.1, MUST-3)")
		c.Send(wire.SYN)
		c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1)))
		c.Send(wire.ACK)
		t.Expect(t.Sockets().SetNonblock(lfd, false)).To(gm.Succeed())
		fd := t.Accept(lfd)
		t.Expect(t.Sockets().SetNonblock(fd, true)).To(gm.Succeed())

		data := []byte("corrupted on the way")
		for _, s := range []struct {
			what  string
			flags wire.Flags
			opts  []injector.SendOption
		}{
			{"in-window data", wire.PSH | wire.ACK, []injector.SendOption{injector.WithPayload(data)}},
			{"a FIN", wire.FIN | wire.ACK, nil},
			{"an RST at RCV.NXT", wire.RST | wire.ACK, nil},
		} {
			dropped(c, s.what, s.flags, s.opts...)
			t.Expect(c.State()).To(BeInState(state.Established),
				"RFC 9293 section 3.1 (MUST-3): the state after %s with a bad checksum", s.what)
			_, err := t.Sockets().Read(t.Context(), fd, 100)
			t.Expect(err).To(gm.MatchError(syscall.EAGAIN),
				"read() after %s with a bad checksum: no data, no end of stream (RFC 9293 section 3.1, MUST-3)", s.what)
		}

		c.Send(wire.PSH|wire.ACK, injector.WithPayload(data))
		c.Expect(BeSegment(Flags(wire.ACK), Seq(1), AckNum(c.SndNxt), PayloadLen(0)))
		t.Expect(t.Read(fd, 100)).To(gm.Equal(data))
		// The good FIN is acknowledged (a stack may send its own FIN with
		// the ACK when it closes at once).
		c.Send(wire.FIN | wire.ACK)
		c.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), AckNum(c.SndNxt), PayloadLen(0)))
	})
