package uml

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"

	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/ether"
)

// The guest's NIC and the harness's side of the virtual wire. Both are
// locally administered unicast addresses (IEEE 802: bit 1 of the first
// octet), so they can clash with no real card.
var (
	guestMAC   = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	harnessMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
)

// ethernet is the guest's Ethernet segment as the harness sees it: UML's
// vector driver ("bess" transport) connects to a unix SOCK_SEQPACKET socket
// the harness listens on and sends one Ethernet frame per message. The
// segment is the guest's alone, so the harness answers ARP and neighbour
// solicitations for every address but the guest's own, as the one
// neighbour on it, and any peer address the harness picks is reachable.
type ethernet struct {
	*ether.Link
	path string
}

func listenEthernet(path string, guest4, guest6 netip.Addr) (*ethernet, error) {
	s, err := listenBess(path)
	if err != nil {
		return nil, err
	}
	peer := targets.DocumentationAddrs
	l := ether.New(s, ether.Config{
		Name: "uml", MAC: harnessMAC, StackMAC: guestMAC,
		Stack4: guest4, Stack6: guest6, Own4: peer.Peer4, Own6: peer.Peer6,
		Claim: func(a netip.Addr) bool { return a != guest4 && a != guest6 },
	})
	return &ethernet{Link: l, path: path}, nil
}

// bess is the unix socket UML's vector driver connects to; it implements
// ether.Frames once the guest has connected.
type bess struct {
	ln   *net.UnixListener
	path string

	ready  chan struct{} // closed once the guest has connected
	conn   *net.UnixConn
	done   chan struct{}
	once   sync.Once
	cmu    sync.Mutex // guards conn's arrival against closed
	closed bool
}

func listenBess(path string) (*bess, error) {
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, err
	}
	s := &bess{ln: ln, path: path, ready: make(chan struct{}), done: make(chan struct{})}
	go func() {
		c, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		s.cmu.Lock()
		defer s.cmu.Unlock()
		if s.closed {
			c.Close()
			return
		}
		s.conn = c
		close(s.ready)
	}()
	return s, nil
}

var errWireClosed = errors.New("uml: the guest's network is closed")

// ReadFrame implements ether.Frames.
func (s *bess) ReadFrame(b []byte) (int, error) {
	select {
	case <-s.ready:
	case <-s.done:
		return 0, errWireClosed
	}
	return s.conn.Read(b)
}

// WriteFrame implements ether.Frames.
func (s *bess) WriteFrame(f []byte) error {
	select {
	case <-s.ready:
	case <-s.done:
		return errWireClosed
	default:
		return errors.New("uml: the guest has not connected its network yet")
	}
	_, err := s.conn.Write(f)
	return err
}

// Close implements ether.Frames; it removes the socket file.
func (s *bess) Close() error {
	s.once.Do(func() {
		s.cmu.Lock()
		s.closed = true
		if s.conn != nil {
			s.conn.Close()
		}
		s.cmu.Unlock()
		close(s.done)
		s.ln.Close()
		os.Remove(s.path)
	})
	return nil
}
