package agent

import "github.com/tcpconform/tcpconform/targets"

// TCPInfoInstance is an Instance whose agent announced "tcpinfo": it reads
// Linux's struct tcp_info of a socket with the "tcpinfo" request.
type TCPInfoInstance struct{ *Instance }

var _ targets.TCPInfo = TCPInfoInstance{}

// TCPInfo implements targets.TCPInfo.
func (in TCPInfoInstance) TCPInfo(fd int) (map[string]int64, error) { return in.LinuxTCPInfo(fd) }
