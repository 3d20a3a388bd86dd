package script

import "strings"

// set builds a set from space-separated words.
func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// knownSyscalls are the system calls packetdrill runs: the upstream list
// and nplab's SCTP calls.
var knownSyscalls = set(`socket bind listen accept connect read readv recv
	recvfrom recvmsg write writev send sendto sendmsg fcntl ioctl close shutdown
	getsockopt setsockopt poll cap_set open sendfile epoll_create epoll_ctl
	epoll_wait pipe splice psp_rx_assoc psp_tx_assoc
	sctp_bindx sctp_peeloff sctp_getpaddrs sctp_freepaddrs sctp_getladdrs
	sctp_freeladdrs sctp_sendmsg sctp_recvmsg sctp_connectx sctp_send sctp_sendx
	sctp_sendv sctp_recvv`)

// icmpTypes are the ICMP (v4 and v6) type names.
var icmpTypes = set(`echo_reply unreachable source_quench redirect
	echo_request time_exceeded parameter_problem timestamp_request
	timestamp_reply information_request information_reply
	address_mask_request address_mask_reply packet_too_big`)

// icmpCodes are the ICMP (v4 and v6) code names.
var icmpCodes = set(`net_unreachable host_unreachable protocol_unreachable
	port_unreachable frag_needed source_route_failed net_unknown host_unknown
	source_host_isolated net_prohibited host_prohibited
	net_unreachable_for_tos host_unreachable_for_tos packet_filtered
	precedence_violation precedence_cutoff
	no_route admin_prohibited not_neighbour address_unreachable`)
