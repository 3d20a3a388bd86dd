package netstack

import (
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// linuxCAState numbers congestion-control states as Linux's tcpi_ca_state
// does (TCP_CA_Open 0, Disorder 1, CWR 2, Recovery 3, Loss 4).
var linuxCAState = map[tcpip.CongestionControlState]int64{
	tcpip.Open: 0, tcpip.Disorder: 1, tcpip.FastRecovery: 3, tcpip.SACKRecovery: 3, tcpip.RTORecovery: 4,
}

// TCPInfo implements targets.TCPInfo with the fields netstack keeps.
func (in *instance) TCPInfo(fd int) (map[string]int64, error) {
	so, err := sockets{in}.get(fd)
	if err != nil {
		return nil, err
	}
	var info tcpip.TCPInfoOption
	if e := so.ep.GetSockOpt(&info); e != nil {
		return nil, toErr(e)
	}
	us := func(d time.Duration) int64 { return int64(d / time.Microsecond) }
	out := map[string]int64{
		"tcpi_rtt":          us(info.RTT),
		"tcpi_rttvar":       us(info.RTTVar),
		"tcpi_rto":          us(info.RTO),
		"tcpi_snd_cwnd":     int64(info.SndCwnd),
		"tcpi_snd_ssthresh": int64(info.SndSsthresh),
	}
	// A state with no Linux number is left out, so an assert on it skips
	// rather than reading 0 (TCP_CA_Open).
	if v, ok := mapState(tcp.EndpointState(info.State)).Linux(); ok {
		out["tcpi_state"] = v
	}
	if v, ok := linuxCAState[info.CcState]; ok {
		out["tcpi_ca_state"] = v
	}
	return out, nil
}
