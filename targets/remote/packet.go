package remote

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// packetSocket carries Ethernet frames on one interface through an
// AF_PACKET socket (packet(7)): it implements ether.Frames. Opening it
// changes nothing on the interface; the socket's promiscuous membership,
// which lets frames to the harness's own MAC address through a NIC's
// filter, ends with the socket.
type packetSocket struct {
	f *os.File
}

// ethPAll is ETH_P_ALL in network byte order, as packet(7) wants it.
var ethPAll = int(htons(unix.ETH_P_ALL))

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func openPacketSocket(iface string) (*packetSocket, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", iface, err)
	}
	if ifi.Flags&net.FlagUp == 0 {
		return nil, fmt.Errorf("interface %s is down (the harness never configures it: bring it up yourself)", iface)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, ethPAll)
	if err != nil {
		return nil, fmt.Errorf("AF_PACKET socket (needs CAP_NET_RAW): %w", err)
	}
	fail := func(what string, err error) (*packetSocket, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("AF_PACKET socket on %s: %s: %w", iface, what, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		return fail("bind", err)
	}
	// The harness's own frames are not news to it.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return fail("PACKET_IGNORE_OUTGOING", err)
	}
	mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		return fail("promiscuous membership", err)
	}
	// Room for bursts: a window's worth of frames.
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	return &packetSocket{f: os.NewFile(uintptr(fd), "packet:"+iface)}, nil
}

// ReadFrame implements ether.Frames.
func (s *packetSocket) ReadFrame(b []byte) (int, error) { return s.f.Read(b) }

// WriteFrame implements ether.Frames.
func (s *packetSocket) WriteFrame(f []byte) error {
	_, err := s.f.Write(f)
	return err
}

// Close implements ether.Frames.
func (s *packetSocket) Close() error { return s.f.Close() }
