package posix

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
)

// linuxStates maps the kernel's TCP state numbers (include/net/tcp_states.h)
// to RFC 9293 states. TCP_NEW_SYN_RECV (12) is a request socket: a passive
// child in SYN-RECEIVED that has no full socket yet.
var linuxStates = map[uint8]state.State{
	1: state.Established, 2: state.SynSent, 3: state.SynReceived, 4: state.FinWait1,
	5: state.FinWait2, 6: state.TimeWait, 7: state.Closed, 8: state.CloseWait,
	9: state.LastAck, 10: state.Listen, 11: state.Closing, 12: state.SynReceived,
}

// Netlink sock_diag, from linux/sock_diag.h and linux/inet_diag.h.
const (
	sockDiagByFamily = 20
	diagReqLen       = 56 // struct inet_diag_req_v2
	diagMsgLen       = 72 // struct inet_diag_msg
)

// diagEntry is one socket as sock_diag reports it.
type diagEntry struct {
	tuple targets.Tuple
	state uint8
}

// State reports the state of a connection as targets.Instance.State does.
// The kernel is asked through sock_diag (else /proc/net/tcp, see
// procNetEntries),
// which sees every TCP socket of the namespace: held by a descriptor or not,
// request sockets (SYN-RECEIVED before accept) and TIME-WAIT included. A
// connection seen before and gone now reads as CLOSED.
func (k *Stack) State(t targets.Tuple) (state.State, bool) {
	// Sockets of IPv4 connections may be IPv6 sockets with mapped
	// addresses (packetdrill's ipv4-mapped-ipv6), so an IPv4 tuple is
	// looked up in both families.
	local := netip.AddrPortFrom(t.Local.Addr().Unmap(), t.Local.Port())
	var entries []diagEntry
	for _, fam := range diagFamilies(local.Addr()) {
		es, err := k.diag(fam)
		if err != nil {
			// A kernel without sock_diag for TCP sockets (no
			// inet_diag) still has /proc/net/tcp.
			if es, err = k.procNetEntries(fam); err != nil {
				return state.Unknown, false
			}
		}
		entries = append(entries, es...)
	}
	listener := !t.Remote.IsValid()
	best := state.Unknown
	for _, e := range entries {
		if listener {
			// A listener bound to the wildcard address listens on ours.
			wild := e.tuple.Local.Addr().IsUnspecified() && e.tuple.Local.Port() == local.Port()
			if e.state == 10 && (e.tuple.Local == local || wild) {
				return state.Listen, true
			}
			continue
		}
		if e.tuple.Local != local {
			continue
		}
		if e.tuple.Remote == t.Remote {
			s := linuxStates[e.state]
			if best == state.Unknown || best == state.Closed {
				best = s
			}
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if best != state.Unknown {
		k.seen[t] = true
		return best, true
	}
	if k.seen[t] {
		return state.Closed, true
	}
	return state.Unknown, false
}

// diagFamilies are the socket families that can hold a connection of a's.
func diagFamilies(a netip.Addr) []uint8 {
	if a.Is4() {
		return []uint8{unix.AF_INET, unix.AF_INET6}
	}
	return []uint8{unix.AF_INET6}
}

// diag dumps the namespace's TCP sockets of one family.
func (k *Stack) diag(family uint8) ([]diagEntry, error) {
	var s int
	err := k.th.Do(func() error {
		var err error
		s, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer unix.Close(s)

	req := make([]byte, unix.NLMSG_HDRLEN+diagReqLen)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], sockDiagByFamily)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	body := req[unix.NLMSG_HDRLEN:]
	body[0] = family
	body[1] = unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(body[4:], 0xffffffff) // every state
	if err := unix.Sendto(s, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	var out []diagEntry
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(s, buf, 0)
		if err != nil {
			return nil, err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if errno := -int32(binary.NativeEndian.Uint32(m.Data)); errno > 0 {
						return nil, fmt.Errorf("sock_diag: %w", unix.Errno(errno))
					}
				}
				return nil, fmt.Errorf("sock_diag: netlink error")
			}
			if len(m.Data) < diagMsgLen {
				continue
			}
			out = append(out, parseDiag(m.Data))
		}
	}
}

// parseDiag reads a struct inet_diag_msg: family, state, then the socket id
// with ports and addresses in network order.
func parseDiag(d []byte) diagEntry {
	family, st := d[0], d[1]
	id := d[4:]
	sport := binary.BigEndian.Uint16(id[0:])
	dport := binary.BigEndian.Uint16(id[2:])
	var src, dst netip.Addr
	if family == unix.AF_INET {
		src = netip.AddrFrom4([4]byte(id[4:8]))
		dst = netip.AddrFrom4([4]byte(id[20:24]))
	} else {
		src = netip.AddrFrom16([16]byte(id[4:20])).Unmap()
		dst = netip.AddrFrom16([16]byte(id[20:36])).Unmap()
	}
	e := diagEntry{state: st}
	e.tuple.Local = netip.AddrPortFrom(src, sport)
	if dport != 0 {
		e.tuple.Remote = netip.AddrPortFrom(dst, dport)
	}
	return e
}

// TCPInfo implements targets.TCPInfo with the kernel's struct tcp_info.
func (k *Stack) TCPInfo(fd int) (map[string]int64, error) {
	if _, err := k.get(fd); err != nil {
		return nil, err
	}
	ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return nil, err
	}
	return map[string]int64{
		"tcpi_state": int64(ti.State), "tcpi_ca_state": int64(ti.Ca_state),
		"tcpi_retransmits": int64(ti.Retransmits), "tcpi_probes": int64(ti.Probes),
		"tcpi_backoff": int64(ti.Backoff), "tcpi_options": int64(ti.Options),
		"tcpi_rto": int64(ti.Rto), "tcpi_ato": int64(ti.Ato),
		"tcpi_snd_mss": int64(ti.Snd_mss), "tcpi_rcv_mss": int64(ti.Rcv_mss),
		"tcpi_unacked": int64(ti.Unacked), "tcpi_sacked": int64(ti.Sacked),
		"tcpi_lost": int64(ti.Lost), "tcpi_retrans": int64(ti.Retrans),
		"tcpi_fackets": int64(ti.Fackets), "tcpi_pmtu": int64(ti.Pmtu),
		"tcpi_rcv_ssthresh": int64(ti.Rcv_ssthresh), "tcpi_rtt": int64(ti.Rtt),
		"tcpi_rttvar": int64(ti.Rttvar), "tcpi_snd_ssthresh": int64(ti.Snd_ssthresh),
		"tcpi_snd_cwnd": int64(ti.Snd_cwnd), "tcpi_advmss": int64(ti.Advmss),
		"tcpi_reordering": int64(ti.Reordering), "tcpi_rcv_rtt": int64(ti.Rcv_rtt),
		"tcpi_rcv_space": int64(ti.Rcv_space), "tcpi_total_retrans": int64(ti.Total_retrans),
		"tcpi_bytes_acked": int64(ti.Bytes_acked), "tcpi_bytes_received": int64(ti.Bytes_received),
		"tcpi_segs_out": int64(ti.Segs_out), "tcpi_segs_in": int64(ti.Segs_in),
		"tcpi_notsent_bytes": int64(ti.Notsent_bytes), "tcpi_min_rtt": int64(ti.Min_rtt),
		"tcpi_data_segs_in": int64(ti.Data_segs_in), "tcpi_data_segs_out": int64(ti.Data_segs_out),
		"tcpi_delivery_rate": int64(ti.Delivery_rate), "tcpi_delivered": int64(ti.Delivered),
		"tcpi_delivered_ce":   int64(ti.Delivered_ce),
		"tcpi_last_data_sent": int64(ti.Last_data_sent), "tcpi_last_ack_sent": int64(ti.Last_ack_sent),
		"tcpi_last_data_recv": int64(ti.Last_data_recv), "tcpi_last_ack_recv": int64(ti.Last_ack_recv),
		"tcpi_pacing_rate": int64(ti.Pacing_rate), "tcpi_max_pacing_rate": int64(ti.Max_pacing_rate),
		"tcpi_busy_time": int64(ti.Busy_time), "tcpi_rwnd_limited": int64(ti.Rwnd_limited),
		"tcpi_sndbuf_limited": int64(ti.Sndbuf_limited), "tcpi_bytes_sent": int64(ti.Bytes_sent),
		"tcpi_bytes_retrans": int64(ti.Bytes_retrans), "tcpi_dsack_dups": int64(ti.Dsack_dups),
		"tcpi_reord_seen": int64(ti.Reord_seen), "tcpi_rcv_ooopack": int64(ti.Rcv_ooopack),
		"tcpi_snd_wnd": int64(ti.Snd_wnd), "tcpi_rcv_wnd": int64(ti.Rcv_wnd),
		"tcpi_rehash": int64(ti.Rehash), "tcpi_total_rto": int64(ti.Total_rto),
		"tcpi_total_rto_recoveries": int64(ti.Total_rto_recoveries), "tcpi_total_rto_time": int64(ti.Total_rto_time),
		"tcpi_received_ce": int64(ti.Received_ce),
	}, nil
}
