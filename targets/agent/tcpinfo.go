package agent

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/tcpconform/tcpconform/targets"
)

// TCPInfoInstance is an Instance whose agent announced "tcpinfo": it reads
// Linux's struct tcp_info of a socket with the "tcpinfo" request.
type TCPInfoInstance struct{ *Instance }

var _ targets.TCPInfo = TCPInfoInstance{}

// TCPInfo implements targets.TCPInfo.
func (in TCPInfoInstance) TCPInfo(fd int) (map[string]int64, error) {
	f, err := in.A.Call("tcpinfo", strconv.Itoa(fd))
	var e *Error
	if errors.As(err, &e) {
		return nil, e.Errno
	}
	if err != nil {
		return nil, err
	}
	if len(f) != 1 {
		return nil, fmt.Errorf("%s: tcpinfo reply %q", in.A.spec.Name, f)
	}
	b, err := hex.DecodeString(f[0])
	if err != nil {
		return nil, fmt.Errorf("%s: tcpinfo reply: %w", in.A.spec.Name, err)
	}
	return targets.LinuxTCPInfo(b), nil
}
