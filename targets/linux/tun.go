package linux

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tcpconform/tcpconform/internal/posix"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"
)

// tunName is the device's name inside each namespace: packetdrill's own,
// which scripts' shell commands name ("tc qdisc replace dev tun0 ..."). Names
// are per namespace, so every instance uses the same one.
const tunName = "tun0"

// Offload flags of TUNSETOFFLOAD (linux/if_tun.h): what the device tells the
// kernel it may leave to it.
const (
	tunOffloadCsum   = 0x01 // TUN_F_CSUM: the checksum
	tunOffloadTSO4   = 0x02 // TUN_F_TSO4: segmentation of TCP over IPv4
	tunOffloadTSO6   = 0x04 // TUN_F_TSO6: segmentation of TCP over IPv6
	tunOffloadTSOECN = 0x08 // TUN_F_TSO_ECN: segmentation of segments with CWR
)

// packetdrillOffloads are the offloads packetdrill gives its TUN device, "like
// a typical ethernet device": the kernel hands it TCP segments of up to 64 KB
// and leaves their checksums to it.
const packetdrillOffloads = tunOffloadCsum | tunOffloadTSO4 | tunOffloadTSO6 | tunOffloadTSOECN

// setUp configures the namespace on its own thread: loopback up, the TUN
// device, IPv6 quiet (no DAD, no router solicitations, no link-local
// address), the MTU, the addresses, and the link up. It returns the TUN file.
//
// The device is packetdrill's: every packet read or written starts with a
// virtio header (IFF_VNET_HDR), through which injected TCP can carry a
// receive offload's segment size, and, with cfg.Offload, the kernel may
// leave checksums and segmentation to it, so it sends segments of up to
// 64 KB, as a NIC with TSO is handed them. Without it what is read is
// what the stack put on the wire, segment by segment. ctx bounds the wait
// for the IPv6 address (awaitAddr6).
func setUp(ctx context.Context, cfg targets.Config) (*os.File, error) {
	if err := ifUp("lo"); err != nil {
		return nil, err
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(tunName)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("TUNSETIFF: %w", err)
	}
	offloads := 0
	if cfg.Offload {
		offloads = packetdrillOffloads
	}
	if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, offloads); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("TUNSETOFFLOAD %#x: %w", offloads, err)
	}
	tun := os.NewFile(uintptr(fd), "/dev/net/tun") // non-blocking: the poller owns it
	for name, value := range map[string]string{
		"net/ipv6/conf/" + tunName + "/accept_dad":           "0",
		"net/ipv6/conf/" + tunName + "/dad_transmits":        "0",
		"net/ipv6/conf/" + tunName + "/router_solicitations": "0",
		"net/ipv6/conf/" + tunName + "/accept_ra":            "0",
		"net/ipv6/conf/" + tunName + "/addr_gen_mode":        "1",
	} {
		if err := posix.WriteSysctl(name, value); err != nil {
			tun.Close()
			return nil, err
		}
	}
	if cfg.MTU != 0 {
		if err := setMTU(cfg.MTU); err != nil {
			tun.Close()
			return nil, err
		}
	}
	if err := addAddr4(addrs.Local4, 24); err != nil {
		tun.Close()
		return nil, err
	}
	if err := ifUp(tunName); err != nil {
		tun.Close()
		return nil, err
	}
	if err := addAddr6(addrs.Local6, 64); err != nil {
		tun.Close()
		return nil, err
	}
	if err := awaitAddr6(ctx, addrs.Local6); err != nil {
		tun.Close()
		return nil, err
	}
	return tun, nil
}

// addrWait bounds awaitAddr6 when ctx has no sooner deadline. The wait is
// the host's, not the stack's under test: the kernel makes the address
// usable from a work item that takes the RTNL lock, which the teardown of
// other namespaces (cleanup_net unregistering their devices) holds for as
// long as the machine's load makes it; on two loaded cores with 8 cases at
// once it was seen to take more than the 1 s this wait used to allow, and
// the case then ended in a harness error.
const addrWait = 20 * time.Second

// awaitAddr6 waits until the IPv6 address can be bound: even without DAD the
// kernel finishes adding it on a work queue, and a bind before that fails
// with EADDRNOTAVAIL. It polls, backing off from 200 us to 10 ms, until ctx
// is done or addrWait has passed.
func awaitAddr6(ctx context.Context, a netip.Addr) error {
	s, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	sa := &unix.SockaddrInet6{Addr: a.As16()}
	ctx, cancel := context.WithTimeout(ctx, addrWait)
	defer cancel()
	start := time.Now()
	pause := 200 * time.Microsecond
	for {
		err := unix.Bind(s, sa)
		if err == nil {
			return nil
		}
		if err != unix.EADDRNOTAVAIL {
			return fmt.Errorf("address %v: bind: %w", a, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("address %v did not become usable within %v: %w (%v)", a, time.Since(start).Round(time.Millisecond), err, context.Cause(ctx))
		case <-time.After(pause):
		}
		pause = min(2*pause, 10*time.Millisecond)
	}
}

// ifreqOn opens a datagram socket of the family for interface ioctls on the
// named interface; the caller closes the socket.
func ifreqOn(family int, name string) (int, *unix.Ifreq, error) {
	s, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, nil, err
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(s)
		return -1, nil, err
	}
	return s, ifr, nil
}

// ifUp sets IFF_UP on an interface.
func ifUp(name string) error {
	s, ifr, err := ifreqOn(unix.AF_INET, name)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("%s flags: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("%s up: %w", name, err)
	}
	return nil
}

// setMTU sets the TUN device's MTU, as packetdrill's --mtu does before the
// device is up. IPv6 needs at least 1280 (RFC 8200 section 5).
func setMTU(mtu int) error {
	if mtu < 68 || mtu > 65535 {
		return fmt.Errorf("%w: MTU %d is outside 68..65535", targets.ErrUnsupported, mtu)
	}
	s, ifr, err := ifreqOn(unix.AF_INET, tunName)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	ifr.SetUint32(uint32(mtu))
	if err := unix.IoctlIfreq(s, unix.SIOCSIFMTU, ifr); err != nil {
		return fmt.Errorf("%s MTU %d: %w", tunName, mtu, err)
	}
	return nil
}

// addAddr4 gives the TUN an IPv4 address and netmask.
func addAddr4(a netip.Addr, bits int) error {
	s, ifr, err := ifreqOn(unix.AF_INET, tunName)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	b := a.As4()
	if err := ifr.SetInet4Addr(b[:]); err != nil {
		return err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCSIFADDR, ifr); err != nil {
		return fmt.Errorf("address %v: %w", a, err)
	}
	m := [4]byte{}
	for i := 0; i < bits; i++ {
		m[i/8] |= 0x80 >> (i % 8)
	}
	if err := ifr.SetInet4Addr(m[:]); err != nil {
		return err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCSIFNETMASK, ifr); err != nil {
		return fmt.Errorf("netmask /%d: %w", bits, err)
	}
	// The subnet's broadcast address, as an Ethernet LAN has it: the
	// kernel then knows 192.0.2.255 for the broadcast address it is, and
	// SYNs from or to it are discarded (RFC 9293 section 3.9.2.3, MUST-57
	// and MUST-63) rather than answered.
	for i := range b {
		b[i] |= ^m[i]
	}
	if err := ifr.SetInet4Addr(b[:]); err != nil {
		return err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCSIFBRDADDR, ifr); err != nil {
		return fmt.Errorf("broadcast address: %w", err)
	}
	return nil
}

// in6Ifreq is the kernel's struct in6_ifreq.
type in6Ifreq struct {
	addr      [16]byte
	prefixLen uint32
	ifindex   int32
}

// addAddr6 gives the TUN an IPv6 address. DAD is off on the device, so the
// address is usable at once.
func addAddr6(a netip.Addr, bits int) error {
	s, ifr, err := ifreqOn(unix.AF_INET6, tunName)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	if err := unix.IoctlIfreq(s, unix.SIOCGIFINDEX, ifr); err != nil {
		return fmt.Errorf("index of %s: %w", tunName, err)
	}
	req := in6Ifreq{addr: a.As16(), prefixLen: uint32(bits), ifindex: int32(ifr.Uint32())}
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(s), unix.SIOCSIFADDR, uintptr(unsafe.Pointer(&req))); errno != 0 {
		return fmt.Errorf("address %v: %w", a, errno)
	}
	return nil
}

// link is the instance's targets.Link over the TUN device. What the kernel
// sends is taken from a packet socket on the device, which stamps each packet
// in the kernel as it leaves (SO_TIMESTAMPNS), as packetdrill's sniffer does:
// a timestamp taken when a goroutine gets round to reading would carry the
// scheduler's delays. The TUN device's own queue is read and discarded so
// that it never fills. Only TCP is kept.
type link struct {
	tun     *os.File
	sniffer *os.File
	// groSize is Config.GROSize: the segment size injected TCP carries in
	// its virtio header, or 0.
	groSize int
	packets chan targets.Packet
	stop    chan struct{}
	wg      sync.WaitGroup
}

// openSniffer opens, on the namespace's thread, a packet socket bound to the
// TUN device that reports kernel timestamps.
func openSniffer() (*os.File, error) {
	// Protocol 0 at creation, ETH_P_ALL at bind: a socket created with a
	// protocol hooks every device at once, and rebinding it to one device
	// then waits out an RCU grace period.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	ifr, err := unix.NewIfreq(tunName)
	if err == nil {
		err = unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr)
	}
	if err == nil {
		err = unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: int(ifr.Uint32())})
	}
	if err == nil {
		err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}
	if err == nil {
		// Each packet's status says whether its checksum was left to
		// the device (TP_STATUS_CSUMNOTREADY).
		err = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1)
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("packet socket on %s: %w", tunName, err)
	}
	return os.NewFile(uintptr(fd), "packet socket"), nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func newLink(tun, sniffer *os.File, groSize int) *link {
	l := &link{tun: tun, sniffer: sniffer, groSize: groSize, packets: make(chan targets.Packet, 4096), stop: make(chan struct{})}
	l.wg.Add(2)
	go l.drain()
	go l.sniff()
	return l
}

// maxPacket holds the largest datagram the device can be handed (a TSO
// segment of 64 KB and its headers) and its virtio header.
const maxPacket = 1 << 17

// drain reads and drops what the TUN device queues.
func (l *link) drain() {
	defer l.wg.Done()
	buf := make([]byte, maxPacket)
	for {
		if _, err := l.tun.Read(buf); err != nil {
			return // closed
		}
	}
}

// sniff delivers the TCP packets the kernel sends out on the device, with
// the kernel's timestamps.
func (l *link) sniff() {
	defer l.wg.Done()
	rc, err := l.sniffer.SyscallConn()
	if err != nil {
		return
	}
	buf := make([]byte, maxPacket)
	oob := make([]byte, 256)
	for {
		var n, oobn int
		var from unix.Sockaddr
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, oob, 0)
			return rerr != unix.EAGAIN
		})
		if err != nil {
			return // closed
		}
		if rerr != nil {
			// A passing error (the device taken down by a script's
			// command, say) does not end the capture.
			select {
			case <-l.stop:
				return
			default:
				continue
			}
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); !ok || ll.Pkttype != unix.PACKET_OUTGOING || !isTCP(buf[:n]) {
			continue
		}
		at, partial := control(oob[:oobn])
		p := targets.Packet{At: at, Data: append([]byte(nil), buf[:n]...)}
		if partial {
			// The device's part of checksum offload: a NIC would
			// fill it in before the segment reached the wire.
			wire.CompleteTCPChecksum(p.Data)
		}
		select {
		case l.packets <- p:
		case <-l.stop:
			return
		}
	}
}

// control reads a sniffed packet's control messages: its SO_TIMESTAMPNS
// stamp (or now, without one), and whether the kernel left its checksum to
// the device.
func control(oob []byte) (at time.Time, partial bool) {
	at = time.Now()
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return at, false
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16:
			ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
			at = time.Unix(ts.Sec, ts.Nsec)
		case m.Header.Level == unix.SOL_PACKET && m.Header.Type == unix.PACKET_AUXDATA && len(m.Data) >= int(unsafe.Sizeof(unix.TpacketAuxdata{})):
			aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&m.Data[0]))
			partial = aux.Status&unix.TP_STATUS_CSUMNOTREADY != 0
		}
	}
	return at, partial
}

// isTCP reports whether a raw IP datagram carries TCP directly.
func isTCP(b []byte) bool {
	if len(b) < 20 {
		return false
	}
	switch b[0] >> 4 {
	case 4:
		return b[9] == unix.IPPROTO_TCP
	case 6:
		return len(b) >= 40 && b[6] == unix.IPPROTO_TCP
	}
	return false
}

// Inject implements targets.Link: the datagram goes in behind a virtio header
// (struct virtio_net_hdr, in the host's byte order) that asks for nothing, or,
// with a GRO size, marks TCP as a receive offload's merge of segments of that
// size, as packetdrill's --mss does. The checksums are the packet's own.
func (l *link) Inject(pkt []byte) error {
	b := make([]byte, vnetHdrLen, vnetHdrLen+len(pkt))
	if l.groSize > 0 && isTCP(pkt) {
		b[1] = vnetGSOTCPv4
		if pkt[0]>>4 == 6 {
			b[1] = vnetGSOTCPv6
		}
		binary.NativeEndian.PutUint16(b[4:], uint16(l.groSize))
	}
	_, err := l.tun.Write(append(b, pkt...))
	return err
}

// The virtio header (linux/virtio_net.h): flags, gso_type, hdr_len,
// gso_size, csum_start, csum_offset.
const (
	vnetHdrLen   = 10
	vnetGSOTCPv4 = 1 // VIRTIO_NET_HDR_GSO_TCPV4
	vnetGSOTCPv6 = 4 // VIRTIO_NET_HDR_GSO_TCPV6
)

// Poll implements targets.Link.
func (l *link) Poll() (targets.Packet, bool) {
	select {
	case p := <-l.packets:
		return p, true
	default:
		return targets.Packet{}, false
	}
}

// Next implements targets.Link.
func (l *link) Next(ctx context.Context) (targets.Packet, error) {
	select {
	case p := <-l.packets:
		return p, nil
	case <-ctx.Done():
		return targets.Packet{}, ctx.Err()
	case <-l.stop:
		return targets.Packet{}, errors.New("linux target: instance closed")
	}
}

// closing counts TUN devices being torn down in the background.
var closing struct {
	sync.Mutex
	n    int
	idle *sync.Cond
}

func init() { closing.idle = sync.NewCond(&closing.Mutex) }

// close ends the link. Closing the device makes the kernel unregister it,
// which waits out an RCU grace period (10–40 ms here); that happens in the
// background, so the next case need not wait for it. The reader stops
// delivering at once; closing the non-blocking file wakes its Read.
func (l *link) close() {
	close(l.stop)
	closing.Lock()
	closing.n++
	closing.Unlock()
	go func() {
		defer func() {
			closing.Lock()
			closing.n--
			closing.idle.Broadcast()
			closing.Unlock()
		}()
		l.sniffer.Close()
		l.tun.Close()
		l.wg.Wait()
	}()
}

// WaitClosed waits until every TUN device of closed instances is gone.
func WaitClosed() {
	closing.Lock()
	defer closing.Unlock()
	for closing.n > 0 {
		closing.idle.Wait()
	}
}
