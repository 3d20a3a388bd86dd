package seqs

import (
	"net"
	"net/netip"

	"github.com/soypat/seqs"
	"github.com/soypat/seqs/stacks"

	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
)

// conn is one connection the stack has had: seqs reuses a TCPConn's memory
// for the next connection (on a listener, at once), so a connection is the
// TCPConn together with the counter it had when it was met.
type conn struct {
	c      *stacks.TCPConn
	id     uint8
	local  uint16
	remote netip.AddrPort
	// last is the state seqs reported at the last look; gone is set once
	// seqs has dropped the connection (TIME-WAIT, an RST, an abort).
	last seqs.State
	gone bool
	// reset says an RST from the peer ended it; resetSeen that a read or
	// write has reported it already.
	reset, resetSeen bool
}

// stateNames maps seqs' control block states to RFC 9293's.
var stateNames = map[seqs.State]state.State{
	seqs.StateClosed:      state.Closed,
	seqs.StateListen:      state.Listen,
	seqs.StateSynRcvd:     state.SynReceived,
	seqs.StateSynSent:     state.SynSent,
	seqs.StateEstablished: state.Established,
	seqs.StateFinWait1:    state.FinWait1,
	seqs.StateFinWait2:    state.FinWait2,
	seqs.StateClosing:     state.Closing,
	seqs.StateTimeWait:    state.TimeWait,
	seqs.StateCloseWait:   state.CloseWait,
	seqs.StateLastAck:     state.LastAck,
}

func remoteOf(c *stacks.TCPConn) netip.AddrPort {
	a, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok || a.Port == 0 {
		return netip.AddrPort{}
	}
	ap := a.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// track returns the record of c's current connection, making one if it is
// new. mu must be held.
func (s *Stack) track(c *stacks.TCPConn) *conn {
	id := connID(c)
	for _, k := range s.conns {
		if k.c == c && k.id == id && !k.gone {
			return k
		}
	}
	k := &conn{c: c, id: id, local: c.LocalPort(), remote: remoteOf(c), last: c.State()}
	s.conns = append(s.conns, k)
	return k
}

// refresh notes every connection's state: it records the connections
// listeners have taken in since the last look, and marks those seqs has
// dropped. rst says the segment just injected, to port, carried RST. mu
// must be held.
func (s *Stack) refresh(port uint16, rst bool) {
	for _, so := range s.fds {
		if so.lis == nil {
			continue
		}
		cs, _ := listenerConns(so.lis)
		for _, c := range cs {
			if c.LocalPort() != 0 && remoteOf(c).IsValid() {
				s.track(c)
			}
		}
	}
	for _, k := range s.conns {
		if k.gone {
			continue
		}
		if connID(k.c) != k.id || k.c.LocalPort() != k.local {
			k.gone = true
			k.reset = rst && port == k.local && k.last != seqs.StateTimeWait
			continue
		}
		k.last = k.c.State()
		if !k.remote.IsValid() {
			k.remote = remoteOf(k.c)
		}
	}
}

// State reports the state of the connection t names, from seqs' own
// control block; a listener's tuple (no Remote) is LISTEN while it is
// open. A connection seqs has dropped reads as CLOSED.
func (s *Stack) State(t targets.Tuple) (state.State, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.Local.Addr() != targets.DocumentationAddrs.Local4 && t.Local.Addr().IsValid() {
		return state.Unknown, false
	}
	port := t.Local.Port()
	if !t.Remote.IsValid() {
		for _, so := range s.fds {
			if so.lis != nil && so.port == port {
				return state.Listen, true
			}
		}
		if s.listened[port] {
			return state.Closed, true
		}
		return state.Unknown, false
	}
	for i := len(s.conns) - 1; i >= 0; i-- {
		k := s.conns[i]
		if k.local != port || k.remote != t.Remote {
			continue
		}
		if k.gone {
			return state.Closed, true
		}
		return stateNames[k.last], true
	}
	return state.Unknown, false
}
