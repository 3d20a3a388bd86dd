package suites

import (
	"fmt"
	"syscall"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// RFC 7323 section 2.3: the window field of a SYN or SYN,ACK is never
// scaled, and once scaling is in force the window field of every other
// segment is the receive window shifted right by the shift the sender
// advertised on its SYN (rounded down, so by less than 2^shift). Checked
// on an active open: the target's SYN, then its ACK of the peer's SYN,ACK,
// where the connection has just been established and nothing has been
// received or read, so the window is still the SYN's: the ACK's field
// shifted back gives the SYN's window, within the 2^shift the shift rounds
// away (or at least 65535 when the SYN's window was capped there). A stack
// that scales its SYN's window, or does not scale its later window fields,
// is a factor 2^shift off. Once established the receive window may open
// (netstack's does), so the first data segment's window, on either side,
// is checked not to be smaller than the SYN's (RFC 9293 section 3.8.6,
// SHLD-14: no shrinking), and not to be larger than the receive buffer
// where the target tells it.
var _ = behaviourWithID("RFC 7323 2.3: the target's window field is its window shifted by its own shift, and its SYN's is never shifted",
	[]string{"T046", "T009", "rfc7323:2.3", "rfc7323:2.2", "rfc9293:3.8.6", "rfc9293:3.10.7.3", "state:SYN-SENT", "state:SYN-RECEIVED", "state:ESTABLISHED"},
	injector.Needs{},
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		c, fd, synack := passiveOpen(t, lfd, injector.DefaultWindow)
		t.Write(fd, []byte("first data after the handshake"))
		data := c.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Ack(1), PayloadLen(30)))
		wsConsistent(t, "SYN,ACK", synack.Segment, "first data segment", data.Segment, false)
		wsWithinBuffer(t, fd, synack.Segment, data.Segment)

		afd := t.Socket()
		a := startConnect(t, afd)
		syn := a.Expect(BeSegment(FlagsInclude(wire.SYN), Seq(0)))
		a.Send(wire.SYN | wire.ACK)
		ack := a.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(1)))
		wsConsistent(t, "SYN", syn.Segment, "ACK of the SYN,ACK", ack.Segment, true)
		t.Expect(t.Sockets().SetNonblock(afd, false)).To(gm.Succeed())
		t.Write(afd, []byte("first data after the handshake"))
		adata := a.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Ack(1), PayloadLen(30)))
		wsConsistent(t, "SYN", syn.Segment, "first data segment", adata.Segment, false)
		wsWithinBuffer(t, afd, syn.Segment, adata.Segment)
	})

// wsConsistent checks that later's window field, shifted by the shift the
// target offered on syn, is not smaller than syn's window, and, when same,
// not larger either (RFC 7323 section 2.3).
func wsConsistent(t *injector.T, synName string, syn wire.Segment, laterName string, later wire.Segment, same bool) {
	o, ok := syn.Option(wire.KindWindowScale)
	if !ok {
		t.Skipf("the target's %s has no window scale option: its window fields are not scaled (RFC 7323 section 2.2)", synName)
	}
	shift := min(uint8(o.(wire.WindowScale)), 14) // RFC 7323 section 2.3: a larger shift is taken as 14
	synWnd, real := int64(syn.Window), int64(later.Window)<<shift
	round := int64(1) << shift
	want := fmt.Sprintf("at least %d", synWnd-round+1)
	if same && synWnd < 65535 {
		want = fmt.Sprintf("within %d of %d", round, synWnd)
	}
	if real <= synWnd-round || (same && synWnd < 65535 && real >= synWnd+round) {
		t.Fatalf("RFC 7323 section 2.3: the target's windows disagree: its %s advertised %d (a SYN's window is never scaled) and shift %d; its %s, with nothing received or read in between, has window field %d, which shifted by %d is %d, not %s\n  %-9s %v\n  %-9s %v",
			synName, synWnd, shift, laterName, later.Window, shift, real, want, synName, syn, "later", later)
	}
}

// wsWithinBuffer checks that the window later offers, shifted by the shift
// syn offered, fits in the socket's receive buffer (SO_RCVBUF), where the
// target tells it: a window beyond the buffer is one the target could not
// take in (RFC 9293 section 3.8.6), the mark of a window field left
// unshifted.
func wsWithinBuffer(t *injector.T, fd int, syn, later wire.Segment) {
	o, ok := syn.Option(wire.KindWindowScale)
	buf, err := t.Sockets().GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	if !ok || err != nil {
		return
	}
	shift := min(uint8(o.(wire.WindowScale)), 14)
	if real := int64(later.Window) << shift; real > int64(buf) {
		t.Fatalf("RFC 7323 section 2.3: the target's window field %d, shifted by its shift %d, offers %d octets, more than its receive buffer of %d (SO_RCVBUF): is the field shifted?\n  actual    %v",
			later.Window, shift, real, buf, later)
	}
}
