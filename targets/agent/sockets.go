package agent

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"syscall"

	"github.com/tcpconform/tcpconform/internal/linuxabi"
	"github.com/tcpconform/tcpconform/targets"
)

// Sockets implements targets.Sockets (and targets.RawSockopts for
// SO_LINGER) by requests to the agent. Errors the agent reports come back as
// syscall.Errno; a dead or hung agent gives an error saying so.
type Sockets struct{ A *Agent }

var (
	_ targets.Sockets     = Sockets{}
	_ targets.RawSockopts = Sockets{}
)

// errno turns an agent *Error into its bare syscall.Errno, as scripts
// compare errors with ==.
func errno(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e.Errno
	}
	return err
}

func itoa(i int) string { return strconv.Itoa(i) }

func parseAddrPort(f []string) (netip.AddrPort, error) {
	if len(f) < 2 {
		return netip.AddrPort{}, fmt.Errorf("agent: expected ADDR PORT, got %q", f)
	}
	a, err := netip.ParseAddr(f[0])
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("agent: bad address %q", f[0])
	}
	p, err := strconv.ParseUint(f[1], 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("agent: bad port %q", f[1])
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}

func parseInt(f []string) (int, error) {
	if len(f) < 1 {
		return 0, errors.New("agent: expected a number")
	}
	return strconv.Atoi(f[0])
}

// Socket implements targets.Sockets.
func (s Sockets) Socket(domain, typ, proto int) (int, error) {
	var dom string
	switch domain {
	case syscall.AF_INET:
		dom = "inet"
	case syscall.AF_INET6:
		dom = "inet6"
	default:
		return -1, syscall.EAFNOSUPPORT
	}
	if typ&^(syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC) != syscall.SOCK_STREAM {
		return -1, syscall.ESOCKTNOSUPPORT
	}
	if proto != 0 && proto != syscall.IPPROTO_TCP {
		return -1, syscall.EPROTONOSUPPORT
	}
	args := []string{dom}
	if typ&syscall.SOCK_NONBLOCK != 0 {
		args = append(args, "nonblock")
	}
	f, err := s.A.Call("socket", args...)
	if err != nil {
		return -1, errno(err)
	}
	return parseInt(f)
}

// Bind implements targets.Sockets.
func (s Sockets) Bind(fd int, addr netip.AddrPort) error {
	_, err := s.A.Call("bind", itoa(fd), addr.Addr().String(), itoa(int(addr.Port())))
	return errno(err)
}

// Listen implements targets.Sockets.
func (s Sockets) Listen(fd int, backlog int) error {
	_, err := s.A.Call("listen", itoa(fd), itoa(backlog))
	return errno(err)
}

// Accept implements targets.Sockets.
func (s Sockets) Accept(ctx context.Context, fd int) (int, netip.AddrPort, error) {
	f, err := s.A.CallBlocking(ctx, "accept", itoa(fd))
	if err != nil {
		return -1, netip.AddrPort{}, errno(err)
	}
	nfd, err := parseInt(f)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	ap, err := parseAddrPort(f[1:])
	return nfd, ap, err
}

// Connect implements targets.Sockets.
func (s Sockets) Connect(ctx context.Context, fd int, addr netip.AddrPort) error {
	_, err := s.A.CallBlocking(ctx, "connect", itoa(fd), addr.Addr().String(), itoa(int(addr.Port())))
	return errno(err)
}

// Read implements targets.Sockets.
func (s Sockets) Read(ctx context.Context, fd int, n int) ([]byte, error) {
	return received(s.A.CallBlocking(ctx, "recv", itoa(fd), itoa(n)))
}

// received reads the reply of recv or recvfrom: LEN [HEX].
func received(f []string, err error) ([]byte, error) {
	if err != nil {
		return nil, errno(err)
	}
	if len(f) < 1 {
		return nil, errors.New("agent: recv reply without a length")
	}
	if len(f) < 2 {
		return []byte{}, nil
	}
	return hex.DecodeString(f[1])
}

// Write implements targets.Sockets.
func (s Sockets) Write(ctx context.Context, fd int, b []byte) (int, error) {
	data, err := s.A.stage(hex.EncodeToString(b))
	if err != nil {
		return 0, errno(err)
	}
	f, err := s.A.CallBlocking(ctx, "send", itoa(fd), data)
	if err != nil {
		return 0, errno(err)
	}
	return parseInt(f)
}

// Shutdown implements targets.Sockets.
func (s Sockets) Shutdown(fd int, how int) error {
	var h string
	switch how {
	case syscall.SHUT_RD:
		h = "rd"
	case syscall.SHUT_WR:
		h = "wr"
	case syscall.SHUT_RDWR:
		h = "rdwr"
	default:
		return syscall.EINVAL
	}
	_, err := s.A.Call("shutdown", itoa(fd), h)
	return errno(err)
}

// Close implements targets.Sockets.
func (s Sockets) Close(fd int) error {
	_, err := s.A.Call("close", itoa(fd))
	return errno(err)
}

// SetNonblock implements targets.Sockets.
func (s Sockets) SetNonblock(fd int, nonblocking bool) error {
	v := "0"
	if nonblocking {
		v = "1"
	}
	_, err := s.A.Call("nonblock", itoa(fd), v)
	return errno(err)
}

// optName maps Linux option numbers to the protocol's option names, by
// the one option table; linger takes two values, so it goes through
// SetsockoptBytes.
func optName(level, name int) (string, bool) {
	o, ok := linuxabi.SockoptByNumber(level, name)
	return o.Proto, ok && o.Proto != "" && o.Proto != "linger"
}

// SetsockoptInt implements targets.Sockets.
func (s Sockets) SetsockoptInt(fd, level, name, value int) error {
	n, ok := optName(level, name)
	if !ok {
		return syscall.ENOPROTOOPT
	}
	_, err := s.A.Call("setsockopt", itoa(fd), n, itoa(value))
	return errno(err)
}

// GetsockoptInt implements targets.Sockets.
func (s Sockets) GetsockoptInt(fd, level, name int) (int, error) {
	n, ok := optName(level, name)
	if !ok {
		return 0, syscall.ENOPROTOOPT
	}
	f, err := s.A.Call("getsockopt", itoa(fd), n)
	if err != nil {
		return 0, errno(err)
	}
	return parseInt(f)
}

// SetsockoptBytes implements targets.RawSockopts for SO_LINGER (a struct
// linger in the host's byte order); anything else gives ENOPROTOOPT.
func (s Sockets) SetsockoptBytes(fd, level, name int, value []byte) error {
	if level != syscall.SOL_SOCKET || name != syscall.SO_LINGER {
		return syscall.ENOPROTOOPT
	}
	if len(value) < 8 {
		return syscall.EINVAL
	}
	on := int32(binary.NativeEndian.Uint32(value))
	secs := int32(binary.NativeEndian.Uint32(value[4:]))
	_, err := s.A.Call("setsockopt", itoa(fd), "linger", itoa(int(on)), itoa(int(secs)))
	return errno(err)
}

// LocalAddr implements targets.Sockets.
func (s Sockets) LocalAddr(fd int) (netip.AddrPort, error) {
	f, err := s.A.Call("sockname", itoa(fd))
	if err != nil {
		return netip.AddrPort{}, errno(err)
	}
	return parseAddrPort(f)
}

// RemoteAddr implements targets.Sockets.
func (s Sockets) RemoteAddr(fd int) (netip.AddrPort, error) {
	f, err := s.A.Call("peername", itoa(fd))
	if err != nil {
		return netip.AddrPort{}, errno(err)
	}
	return parseAddrPort(f)
}
