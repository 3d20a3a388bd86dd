package agentsdk

import (
	"context"
	"io"
	"sync"

	"github.com/tcpconform/tcpconform/targets"
)

// packets carries a userspace stack's packets on the packet channel: a
// reader hands each datagram to the stack, a writer sends each packet the
// stack emits, in order, one datagram each.
type packets struct {
	link targets.Link
	ch   io.ReadWriter
	done chan struct{} // closed when the channel has ended

	mu       sync.Mutex
	changed  *sync.Cond
	injected uint64 // datagrams the stack has taken
	sent     uint64 // datagrams written
	ended    bool
	// stopNext ends the writer's current wait for a packet, so that it
	// drains the link for a settle.
	stopNext context.CancelFunc
	drains   chan chan struct{}
}

func newPackets(ctx context.Context, link targets.Link, ch io.ReadWriter, logf func(string, ...any)) *packets {
	p := &packets{link: link, ch: ch, done: make(chan struct{}), drains: make(chan chan struct{}, 16), stopNext: func() {}}
	p.changed = sync.NewCond(&p.mu)
	go p.read(logf)
	go p.write(ctx, logf)
	return p
}

// read hands every datagram to the stack until the channel ends.
func (p *packets) read(logf func(string, ...any)) {
	defer func() {
		p.mu.Lock()
		p.ended = true
		p.changed.Broadcast()
		p.mu.Unlock()
		close(p.done)
	}()
	buf := make([]byte, 65536)
	for {
		n, err := p.ch.Read(buf)
		if n > 0 {
			if err := p.link.Inject(buf[:n]); err != nil {
				logf("inject: %v", err)
			}
			p.mu.Lock()
			p.injected++
			p.changed.Broadcast()
			p.mu.Unlock()
		}
		if err != nil {
			if err != io.EOF {
				logf("packet channel: %v", err)
			}
			return
		}
	}
}

// write sends the stack's packets until ctx ends; between two, it drains
// the link for any settle that asked.
func (p *packets) write(ctx context.Context, logf func(string, ...any)) {
	for ctx.Err() == nil {
		next, stop := context.WithCancel(ctx)
		p.mu.Lock()
		p.stopNext = stop
		p.mu.Unlock()
		p.serveDrains()
		pkt, err := p.link.Next(next)
		stop()
		if err == nil {
			p.send(pkt.Data, logf)
		}
		p.serveDrains()
	}
}

// serveDrains sends what the link holds for each settle waiting.
func (p *packets) serveDrains() {
	for {
		select {
		case d := <-p.drains:
			for pkt, more := p.link.Poll(); more; pkt, more = p.link.Poll() {
				p.send(pkt.Data, nil)
			}
			close(d)
		default:
			return
		}
	}
}

func (p *packets) send(b []byte, logf func(string, ...any)) {
	if _, err := p.ch.Write(b); err != nil && logf != nil {
		logf("packet channel: %v", err)
	}
	p.mu.Lock()
	p.sent++
	p.mu.Unlock()
}

// settle waits until the stack has taken the first n datagrams, lets it
// finish processing (Settle, when the backend has it), has the writer send
// every packet emitted by then, and returns how many datagrams were sent.
func (p *packets) settle(ctx context.Context, n uint64, b any) (uint64, error) {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.changed.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	p.mu.Lock()
	for p.injected < n && !p.ended && ctx.Err() == nil {
		p.changed.Wait()
	}
	p.mu.Unlock()
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	if s, has := b.(settler); has {
		s.Settle()
	}
	d := make(chan struct{})
	p.drains <- d
	p.mu.Lock()
	p.stopNext()
	p.mu.Unlock()
	select {
	case <-d:
	case <-ctx.Done():
		return 0, context.Cause(ctx)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent, nil
}
