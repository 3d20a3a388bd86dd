package script

import (
	"maps"
	"strings"
)

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

// icmpNames lists each ICMP type packetdrill knows by name, one a line,
// followed by the names of its codes; a type's line merges its ICMPv4 and
// ICMPv6 tables (RFC 792, RFC 4443). A name marked "nplab:" is only in
// nplab's tables, one marked "google:" only in google's. Any type may also
// be written "type_N" and any code "code_N".
var icmpNames = parseICMPNames(`
	echo_reply
	echo_request
	unreachable net_unreachable host_unreachable protocol_unreachable
		port_unreachable frag_needed source_route_failed net_unknown
		host_unknown source_host_isolated net_prohibited host_prohibited
		net_unreachable_for_tos host_unreachable_for_tos packet_filtered
		precedence_violation precedence_cutoff no_route admin_prohibited
		not_neighbour address_unreachable
	source_quench
	redirect
	time_exceeded nplab:ttl_exceeded_in_transit nplab:frag_reass_exceeded
		exceeded_hop_limit exceeded_frag_time
	parameter_problem header_field unknown_next_header unknown_option
	timestamp_request
	timestamp_reply
	information_request
	information_reply
	address_mask_request
	address_mask_reply
	packet_too_big
	nplab:router_advertisement
`)

// allICMPCodes are the code names of every type, for a type given by an
// undefined -D symbol.
var allICMPCodes = func() map[string]syntaxKind {
	all := map[string]syntaxKind{}
	for _, t := range icmpNames {
		maps.Copy(all, t.codes)
	}
	return all
}()

// icmpType is one ICMP type name: the dialect that knows it and its codes.
type icmpType struct {
	kind  syntaxKind // everyDialect, nplabOnly or googleOnly
	codes map[string]syntaxKind
}

// parseICMPNames reads the icmpNames table: a line that starts at a single
// tab names a type, and its codes follow it up to the next such line.
func parseICMPNames(table string) map[string]icmpType {
	types := map[string]icmpType{}
	var cur icmpType
	for _, line := range strings.Split(table, "\n") {
		words := strings.Fields(line)
		if len(words) == 0 {
			continue
		}
		if !strings.HasPrefix(line, "\t\t") {
			kind, name := icmpNameKind(words[0])
			cur = icmpType{kind: kind, codes: map[string]syntaxKind{}}
			types[name] = cur
			words = words[1:]
		}
		for _, w := range words {
			kind, name := icmpNameKind(w)
			cur.codes[name] = kind
		}
	}
	return types
}

// icmpNameKind splits a "dialect:" mark off an icmpNames entry.
func icmpNameKind(w string) (syntaxKind, string) {
	if name, ok := strings.CutPrefix(w, "nplab:"); ok {
		return nplabOnly, name
	}
	if name, ok := strings.CutPrefix(w, "google:"); ok {
		return googleOnly, name
	}
	return everyDialect, w
}
