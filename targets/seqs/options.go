package seqs

import (
	"encoding/binary"
	"syscall"

	"github.com/soypat/seqs"
)

// SetsockoptInt implements targets.Sockets. seqs has socket buffers, sized
// when a connection or listener is made (SO_SNDBUF, SO_RCVBUF, at most
// 65535: its windows are unscaled), and no Nagle algorithm, so TCP_NODELAY
// 1 is what it does anyway. SO_REUSEADDR is remembered (seqs gives a port
// to one socket whatever it says). It has no keep-alive timer, no MSS
// option, no cork: everything else gives ENOPROTOOPT, TCP_NODELAY 0 too.
func (s *Stack) SetsockoptInt(fd, level, name, value int) error {
	return s.do(fd, func(so *socket) error {
		switch {
		case level == syscall.SOL_SOCKET && name == syscall.SO_REUSEADDR:
			so.reuseaddr = value != 0
		case level == syscall.SOL_SOCKET && name == syscall.SO_SNDBUF:
			so.sndbuf = value
		case level == syscall.SOL_SOCKET && name == syscall.SO_RCVBUF:
			so.rcvbuf = value
		case level == syscall.IPPROTO_TCP && name == syscall.TCP_NODELAY && value != 0:
		default:
			return syscall.ENOPROTOOPT
		}
		return nil
	})
}

// GetsockoptInt implements targets.Sockets for the options SetsockoptInt
// takes, and SO_ERROR (cleared once read, as on Linux).
func (s *Stack) GetsockoptInt(fd, level, name int) (int, error) {
	var v int
	err := s.do(fd, func(so *socket) error {
		switch {
		case level == syscall.SOL_SOCKET && name == syscall.SO_REUSEADDR:
			v = boolInt(so.reuseaddr)
		case level == syscall.SOL_SOCKET && name == syscall.SO_SNDBUF:
			v = int(bufSize(so.sndbuf))
		case level == syscall.SOL_SOCKET && name == syscall.SO_RCVBUF:
			v = int(bufSize(so.rcvbuf))
		case level == syscall.IPPROTO_TCP && name == syscall.TCP_NODELAY:
			v = 1
		case level == syscall.SOL_SOCKET && name == syscall.SO_ERROR:
			switch k := so.conn; {
			case so.soError != 0 || k == nil || !k.gone:
			case k.last == seqs.StateSynSent:
				s.connected(so) // sets soError
			case k.reset && !k.resetSeen:
				k.resetSeen = true
				so.soError = syscall.ECONNRESET
			}
			v, so.soError = int(so.soError), 0
		default:
			return syscall.ENOPROTOOPT
		}
		return nil
	})
	return v, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SetsockoptBytes implements targets.RawSockopts for SO_LINGER: {1, 0}
// makes close() abort the connection (PortStack.CloseTCP); seqs cannot
// wait for a close to finish, so a non-zero linger time gives ENOPROTOOPT.
func (s *Stack) SetsockoptBytes(fd, level, name int, value []byte) error {
	return s.do(fd, func(so *socket) error {
		if level != syscall.SOL_SOCKET || name != syscall.SO_LINGER {
			return syscall.ENOPROTOOPT
		}
		if len(value) < 8 {
			return syscall.EINVAL
		}
		on := binary.NativeEndian.Uint32(value[0:4]) != 0
		secs := binary.NativeEndian.Uint32(value[4:8])
		if on && secs != 0 {
			return syscall.ENOPROTOOPT
		}
		so.abortOnClose = on
		return nil
	})
}
