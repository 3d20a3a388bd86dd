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
	f       *os.File
	a       *Agent
	packets chan targets.Packet
	stop    chan struct{}
	wg      sync.WaitGroup
	// injected and received count datagrams written and read, for Settle.
	injected, received atomic.Uint64
}

func newLink(f *os.File, a *Agent) *Link {
	l := &Link{f: f, a: a, packets: make(chan targets.Packet, 4096), stop: make(chan struct{})}
	l.wg.Add(1)
	go l.read()
	return l
}

// read delivers the TCP packets the agent sends.
func (l *Link) read() {
	defer l.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := l.f.Read(buf)
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
	_, err := l.f.Write(pkt)
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
