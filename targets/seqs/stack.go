package seqs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/soypat/seqs/eth"
	"github.com/soypat/seqs/stacks"

	"github.com/tcpconform/tcpconform/targets"
)

// Ethernet framing: seqs takes and gives Ethernet frames carrying IPv4
// (PortStack.RecvEth, HandleEth); the harness's link carries bare IP. Inject
// puts a header on (the peer's MAC to the stack's), and what the stack sends
// loses its header. The stack learns the peer's MAC from the frames a
// listener receives, and Connect hands it over, so no ARP is ever needed.
var (
	stackMAC = [6]byte{0x02, 0, 0x5e, 0, 0x53, 0x01}
	peerMAC  = [6]byte{0x02, 0, 0x5e, 0, 0x53, 0x02}
)

// frameMTU is the longest frame the stack takes or sends: an IP MTU of
// targets.DefaultMTU plus the Ethernet header. PortStack counts its MTU in
// whole frames.
const frameMTU = targets.DefaultMTU + eth.SizeEthernetHeader

// tick is how often the poll loop lets the stack act on its own: seqs has
// no timers, it looks at the wall clock whenever it is polled (a SYN is
// sent again 3 s after the last, a closing connection with no answer for
// 3 s is dropped).
const tick = time.Millisecond

// maxDrain bounds the frames one drain takes from the stack, so that a
// stack stuck sending cannot hang the harness.
const maxDrain = 4096

// Stack owns one seqs PortStack at targets.DocumentationAddrs' IPv4
// address (seqs has no IPv6). It takes injected IPv4 packets, queues the
// packets the stack sends, and implements targets.Sockets over seqs' TCPConn
// and TCPListener. All access to seqs goes through mu: seqs is not safe for
// concurrent use.
type Stack struct {
	mu    sync.Mutex
	ps    *stacks.PortStack
	frame []byte
	fds   map[int]*socket
	conns []*conn // every connection met, for State and for reads after a reset
	// listened holds the ports listeners have had, so that State can tell
	// a closed listener from one never opened.
	listened map[uint16]bool
	rng      uint32
	closed   bool
	// broken says why the stack can no longer be used: seqs panicked.
	broken error

	qmu   sync.Mutex
	queue []targets.Packet
	ready chan struct{} // holds a token while queue is not empty

	stop chan struct{}
	done chan struct{}
}

// NewStack starts a stack; seed drives its initial sequence numbers and
// ephemeral ports. Stop stops it.
func NewStack(seed uint64) *Stack {
	ps := stacks.NewPortStack(stacks.PortStackConfig{
		MaxOpenPortsTCP: 64,
		MAC:             stackMAC,
		MTU:             frameMTU,
	})
	ps.SetAddr(targets.DocumentationAddrs.Local4)
	rng := uint32(seed) ^ uint32(seed>>32)
	if rng == 0 {
		rng = 0x9e3779b9
	}
	s := &Stack{
		ps:       ps,
		frame:    make([]byte, frameMTU),
		fds:      map[int]*socket{},
		listened: map[uint16]bool{},
		rng:      rng,
		ready:    make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go s.poll()
	return s
}

// poll lets the stack act on the passing of time: it flags every open port
// as pending, so that HandleEth looks at each connection's clock, and
// drains what that sends.
func (s *Stack) poll() {
	defer close(s.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		var err error
		func() {
			defer s.recoverPanic(&err)
			for _, p := range s.openPorts() {
				s.ps.FlagPendingTCP(p)
			}
			s.drain()
		}()
		s.mu.Unlock()
	}
}

// recoverPanic turns a panic of seqs into an error saying the target
// failed, so that it fails the case at hand rather than the harness; the
// stack is broken from then on. mu must be held.
func (s *Stack) recoverPanic(err *error) {
	if r := recover(); r != nil {
		if s.broken == nil {
			s.broken = fmt.Errorf("%w: seqs panicked: %v", targets.ErrTargetFailed, r)
		}
		*err = s.broken
	}
}

// openPorts lists the local ports of the sockets and connections the stack
// may still be serving.
func (s *Stack) openPorts() []uint16 {
	var ports []uint16
	for _, so := range s.fds {
		if so.lis != nil {
			ports = append(ports, so.port)
		}
	}
	for _, c := range s.conns {
		if !c.gone {
			ports = append(ports, c.local)
		}
	}
	return ports
}

// drain takes every frame the stack has to send, queues the IPv4 ones as
// packets, and then notes the state of each connection. mu must be held.
func (s *Stack) drain() {
	if s.broken != nil {
		return
	}
	for i := 0; i < maxDrain; i++ {
		n, err := s.ps.HandleEth(s.frame)
		if n == 0 {
			if err != nil {
				continue // a port was closed on an error; look at the others
			}
			break
		}
		f := s.frame[:n]
		if binary.BigEndian.Uint16(f[12:14]) != uint16(eth.EtherTypeIPv4) {
			continue // ARP: the harness's link carries IP only
		}
		s.emit(append([]byte(nil), f[eth.SizeEthernetHeader:]...))
	}
	s.refresh(0, false)
}

func (s *Stack) emit(pkt []byte) {
	s.qmu.Lock()
	s.queue = append(s.queue, targets.Packet{At: time.Now(), Data: pkt})
	s.qmu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// errClosed is returned by calls on a closed stack.
var errClosed = errors.New("seqs target: closed")

// Inject hands one IP datagram to the stack and drains what it answers.
// seqs takes IPv4 only; anything else is dropped, as the wire would.
func (s *Stack) Inject(pkt []byte) (err error) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 || len(pkt)+eth.SizeEthernetHeader > frameMTU {
		return nil
	}
	f := make([]byte, eth.SizeEthernetHeader+len(pkt))
	copy(f[0:6], stackMAC[:])
	copy(f[6:12], peerMAC[:])
	binary.BigEndian.PutUint16(f[12:14], uint16(eth.EtherTypeIPv4))
	copy(f[eth.SizeEthernetHeader:], pkt)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if s.broken != nil {
		return s.broken
	}
	defer s.recoverPanic(&err)
	port, rst := rstTo(pkt)
	// A segment seqs refuses (bad checksum, no socket) is dropped, as
	// on the wire; the error says nothing the harness must act on.
	_ = s.ps.RecvEth(f)
	s.refresh(port, rst)
	s.drain()
	return nil
}

// rstTo returns the destination port of a TCP segment and whether it
// carries RST, so that a connection it ends is known to have been reset.
func rstTo(pkt []byte) (port uint16, rst bool) {
	ihl := int(pkt[0]&0xf) * 4
	if pkt[9] != 6 || len(pkt) < ihl+14 {
		return 0, false
	}
	return binary.BigEndian.Uint16(pkt[ihl+2:]), pkt[ihl+13]&0x04 != 0
}

// Poll returns the next packet the stack sent, if any.
func (s *Stack) Poll() (targets.Packet, bool) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if len(s.queue) == 0 {
		return targets.Packet{}, false
	}
	p := s.queue[0]
	s.queue = s.queue[1:]
	if len(s.queue) > 0 {
		select {
		case s.ready <- struct{}{}:
		default:
		}
	}
	return p, true
}

// Next waits for the next packet the stack sends, until ctx is done.
func (s *Stack) Next(ctx context.Context) (targets.Packet, error) {
	for {
		if p, ok := s.Poll(); ok {
			return p, nil
		}
		select {
		case <-s.ready:
		case <-ctx.Done():
			return targets.Packet{}, ctx.Err()
		case <-s.stop:
			return targets.Packet{}, errClosed
		}
	}
}

// Settle lets the stack act on everything handed to it. Inject and the
// socket calls drain the stack before they return, so this only waits for a
// poll already under way.
func (s *Stack) Settle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.drain()
	}
}

// Stop stops the poll loop and the stack. It is safe to call more than
// once.
func (s *Stack) Stop() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	s.mu.Unlock()
	<-s.done
	return nil
}

// random returns the next number of the stack's xorshift generator.
func (s *Stack) random() uint32 {
	x := s.rng
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	s.rng = x
	return x
}
