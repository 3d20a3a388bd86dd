package agent

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"

	"github.com/tcpconform/tcpconform/targets"
)

// FlaggedSockets are the sockets of an agent that announced the "flags"
// feature: besides Sockets' calls they take Linux's MSG_ flags, by the
// protocol's sendto and recvfrom requests (targets.FlaggedIO).
type FlaggedSockets struct{ Sockets }

var _ targets.FlaggedIO = FlaggedSockets{}

// SendTo implements targets.FlaggedIO.
func (s FlaggedSockets) SendTo(ctx context.Context, fd int, b []byte, flags int, addr netip.AddrPort) (int, error) {
	data := "-" // no data
	if len(b) > 0 {
		var err error
		if data, err = s.A.stage(hex.EncodeToString(b)); err != nil {
			return 0, errno(err)
		}
	}
	args := []string{itoa(fd), itoa(flags), data}
	if addr.IsValid() {
		args = append(args, addr.Addr().String(), itoa(int(addr.Port())))
	}
	f, err := s.A.CallBlocking(ctx, "sendto", args...)
	if err != nil {
		return 0, errno(err)
	}
	return parseInt(f)
}

// RecvFrom implements targets.FlaggedIO.
func (s FlaggedSockets) RecvFrom(ctx context.Context, fd int, n int, flags int) ([]byte, error) {
	return received(s.A.CallBlocking(ctx, "recvfrom", itoa(fd), itoa(n), itoa(flags)))
}

// RecvMsg implements targets.FlaggedIO: the protocol carries no message
// flags or control messages, so it is unsupported.
func (s FlaggedSockets) RecvMsg(ctx context.Context, fd int, n int, flags int) (int, int, []targets.Cmsg, error) {
	return 0, 0, nil, fmt.Errorf("%w: the agent protocol has no recvmsg (message flags, control messages)", targets.ErrUnsupported)
}
