package netstack

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/tcpconform/tcpconform/targets"
)

const linkQueueLen = 1024

var errClosed = errors.New("netstack: instance closed")

// stampedLink is the stack's NIC link endpoint: a channel.Endpoint (raw IP,
// no link header, no ARP/NDP resolution, no checksum offload, no GSO) whose
// outbound side is replaced. WritePackets copies each datagram out at once and
// stamps it with the instance clock. The stack calls WritePackets
// synchronously from whatever sends (a processor goroutine, a socket call, or
// a timer callback run by ManualClock.Advance, when Now() equals that timer's
// deadline), so the stamp is the virtual time of sending. Reading packets out
// of the channel's own queue later and stamping them then would give the time
// of reading instead.
//
// Like the channel queue, the outbound queue holds at most linkQueueLen
// packets; further packets are dropped and the stack sees a lost segment.
type stampedLink struct {
	*channel.Endpoint
	vc *vclock

	mu      sync.Mutex
	q       []targets.Packet
	closed  bool
	dropped uint64
	// ready has room for one token; a write puts one there when the queue
	// was empty, so that Next can wait without polling.
	ready chan struct{}
}

var _ stack.LinkEndpoint = (*stampedLink)(nil)

func newStampedLink(vc *vclock, mtu int) *stampedLink {
	return &stampedLink{
		Endpoint: channel.New(linkQueueLen, uint32(mtu), ""),
		vc:       vc,
		ready:    make(chan struct{}, 1),
	}
}

// WritePackets implements stack.LinkWriter. It does not take ownership of the
// packets (the stack releases its own references), so it copies their bytes.
func (l *stampedLink) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	at := l.vc.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, &tcpip.ErrClosedForSend{}
	}
	n := 0
	for _, pkt := range pkts.AsSlice() {
		if len(l.q) >= linkQueueLen {
			// Same as channel.Endpoint: stop at the first packet that does
			// not fit, and report the ones that did.
			l.dropped += uint64(pkts.Len() - n)
			break
		}
		var b []byte
		for _, s := range pkt.AsSlices() {
			b = append(b, s...)
		}
		l.q = append(l.q, targets.Packet{At: at, Data: b})
		n++
	}
	if n > 0 {
		select {
		case l.ready <- struct{}{}:
		default:
		}
	}
	return n, nil
}

// Close implements stack.LinkEndpoint. It drops queued packets and wakes any
// Next waiting for one.
func (l *stampedLink) Close() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		l.q = nil
		close(l.ready)
	}
	l.mu.Unlock()
	l.Endpoint.Close()
}

func (l *stampedLink) pop() (targets.Packet, bool, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.q) == 0 {
		return targets.Packet{}, false, l.closed
	}
	p := l.q[0]
	l.q[0] = targets.Packet{}
	l.q = l.q[1:]
	if len(l.q) == 0 {
		l.q = nil
	}
	return p, true, l.closed
}

// link is the instance's targets.Link.
type link struct{ inst *instance }

// Inject hands one raw IPv4 or IPv6 datagram to the stack, choosing the
// network protocol from the version nibble. The bytes are copied. The link and
// IP layers run synchronously; TCP processing continues on a processor
// goroutine, so call Clock.Settle before looking at replies or states.
func (k link) Inject(pkt []byte) error {
	if len(pkt) == 0 {
		return errors.New("netstack: empty packet")
	}
	var proto tcpip.NetworkProtocolNumber
	switch pkt[0] >> 4 {
	case 4:
		proto = ipv4.ProtocolNumber
	case 6:
		proto = ipv6.ProtocolNumber
	default:
		return fmt.Errorf("netstack: packet has IP version %d", pkt[0]>>4)
	}
	if k.inst.isClosed() {
		return errClosed
	}
	pb := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(pkt)})
	// InjectInbound does not take ownership of pb.
	k.inst.link.InjectInbound(proto, pb)
	pb.DecRef()
	return nil
}

// Poll returns the oldest packet the stack sent, if any, without blocking.
func (k link) Poll() (targets.Packet, bool) {
	p, ok, _ := k.inst.link.pop()
	return p, ok
}

// Next waits in wall time for the next packet the stack sends.
func (k link) Next(ctx context.Context) (targets.Packet, error) {
	l := k.inst.link
	for {
		p, ok, closed := l.pop()
		if ok {
			return p, nil
		}
		if closed {
			return targets.Packet{}, errClosed
		}
		select {
		case <-l.ready:
		case <-ctx.Done():
			return targets.Packet{}, ctx.Err()
		}
	}
}
