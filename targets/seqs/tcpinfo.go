package seqs

import (
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
)

var _ targets.TCPInfo = (*Stack)(nil)

// TCPInfo implements targets.TCPInfo with the one field seqs keeps that
// Linux's tcp_info has: the state (tcpi_state), from seqs' control block.
func (s *Stack) TCPInfo(fd int) (map[string]int64, error) {
	var st state.State
	err := s.do(fd, func(so *socket) error {
		switch k := so.conn; {
		case so.lis != nil:
			st = state.Listen
		case k == nil || k.gone:
			st = state.Closed
		default:
			st = stateNames[k.c.State()]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	n, _ := st.Linux()
	return map[string]int64{"tcpi_state": n}, nil
}
