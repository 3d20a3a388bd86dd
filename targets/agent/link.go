package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcpconform/tcpconform/targets"
)

// Link is the packet channel: one datagram of the socket pair is one raw IP
// packet. It implements targets.Link; packets are stamped with the wall
// clock when the harness reads them.
type Link struct {
	f       PacketConn
	a       *Agent
	packets chan targets.Packet
	stop    chan struct{}
	wg      sync.WaitGroup
	// injected and received count datagrams written and read, for Settle.
	injected, received atomic.Uint64
}

func newLink(f PacketConn, a *Agent) *Link {
	l := &Link{f: f, a: a, packets: make(chan targets.Packet, 4096), stop: make(chan struct{})}
	l.wg.Add(1)
	go l.read()
	return l
}

// PacketConn carries the packet channel: one call, one raw IP packet.
type PacketConn interface {
	// ReadPacket waits for the next packet the agent sent; it fails once
	// the channel is closed.
	ReadPacket(b []byte) (int, error)
	// WritePacket hands one packet to the agent.
	WritePacket(b []byte) error
	Close() error
}

// fileConn is the default packet channel: a datagram socket pair.
type fileConn struct{ f *os.File }

func (c fileConn) ReadPacket(b []byte) (int, error) { return c.f.Read(b) }
func (c fileConn) WritePacket(b []byte) error {
	_, err := c.f.Write(b)
	return err
}
func (c fileConn) Close() error { return c.f.Close() }

// Drain drops every packet read so far and not yet taken, so that a new
// case on a reused agent starts with an empty queue.
func (l *Link) Drain() {
	for {
		select {
		case <-l.packets:
		default:
			return
		}
	}
}

// read delivers the TCP packets the agent sends.
func (l *Link) read() {
	defer l.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := l.f.ReadPacket(buf)
		if err != nil {
			return // closed
		}
		at := time.Now()
		if !isTCP(buf[:n]) {
			l.received.Add(1)
			continue
		}
		p := targets.Packet{At: at, Data: append([]byte(nil), buf[:n]...)}
		select {
		case l.packets <- p:
			l.received.Add(1)
		case <-l.stop:
			return
		}
	}
}

// isTCP reports whether a raw IP datagram carries TCP directly.
func isTCP(b []byte) bool {
	const tcp = 6
	if len(b) < 20 {
		return false
	}
	switch b[0] >> 4 {
	case 4:
		return b[9] == tcp
	case 6:
		return len(b) >= 40 && b[6] == tcp
	}
	return false
}

// Inject implements targets.Link.
func (l *Link) Inject(pkt []byte) error {
	select {
	case <-l.stop:
		return errors.New(l.a.spec.Name + ": closed")
	default:
	}
	if err := l.a.deadErr(); err != nil {
		return err
	}
	err := l.f.WritePacket(pkt)
	if err != nil {
		// The agent's end of the socket pair is gone: it died.
		return fmt.Errorf("%w: %s: packet not delivered: %v", targets.ErrTargetFailed, l.a.spec.Name, err)
	}
	l.injected.Add(1)
	return nil
}

// Poll implements targets.Link.
func (l *Link) Poll() (targets.Packet, bool) {
	select {
	case p := <-l.packets:
		return p, true
	default:
		return targets.Packet{}, false
	}
}

// Next implements targets.Link. When the agent has died it says so, once
// what it sent before has been read.
func (l *Link) Next(ctx context.Context) (targets.Packet, error) {
	select {
	case p := <-l.packets:
		return p, nil
	default:
	}
	select {
	case p := <-l.packets:
		return p, nil
	case <-ctx.Done():
		return targets.Packet{}, ctx.Err()
	case <-l.a.exited:
		select {
		case p := <-l.packets:
			return p, nil
		default:
		}
		return targets.Packet{}, l.a.deadErr()
	case <-l.stop:
		return targets.Packet{}, errors.New(l.a.spec.Name + ": closed")
	}
}

func (l *Link) close() {
	close(l.stop)
	l.f.Close()
	l.wg.Wait()
}
