package netstack

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
)

// mapState converts netstack's endpoint state to the RFC 9293 state.
//
// Netstack-internal states: StateInitial and StateBound (a socket that was
// never connected) read as CLOSED, StateConnecting (the SYN is being sent) as
// SYN-SENT. Abort paths (RST received, retransmission or user timeout, SYN-ACK
// retries exhausted) end in StateError rather than StateClose; both read as
// CLOSED.
func mapState(s tcp.EndpointState) state.State {
	switch s {
	case tcp.StateInitial, tcp.StateBound, tcp.StateClose, tcp.StateError:
		return state.Closed
	case tcp.StateConnecting, tcp.StateSynSent:
		return state.SynSent
	case tcp.StateSynRecv:
		return state.SynReceived
	case tcp.StateEstablished:
		return state.Established
	case tcp.StateListen:
		return state.Listen
	case tcp.StateFinWait1:
		return state.FinWait1
	case tcp.StateFinWait2:
		return state.FinWait2
	case tcp.StateCloseWait:
		return state.CloseWait
	case tcp.StateClosing:
		return state.Closing
	case tcp.StateLastAck:
		return state.LastAck
	case tcp.StateTimeWait:
		return state.TimeWait
	}
	return state.Unknown
}

// probeRecord is what the TCP probe last saw for a 4-tuple: the endpoint,
// whose state State reads live, or nil if the probe could not find it.
type probeRecord struct {
	ep *tcp.Endpoint
}

// probe is installed with tcp.NewProtocolProbe. Netstack calls it on a
// processor goroutine, with the endpoint's lock held, after every segment a
// connected endpoint (ESTABLISHED and later) has processed. It is not called
// for segments handled by the handshake, so it never sees SYN-RECEIVED
// children; State finds those among the stack's registered endpoints.
//
// tcp.TCPEndpointState carries no connection state on this gVisor version, so
// the probe looks the endpoint up in the stack's demultiplexer (taking the
// demuxer's lock after the endpoint's, the order netstack itself uses when an
// endpoint registers) and records its state, already updated by the segment.
func (in *instance) probe(st *tcp.TCPEndpointState) {
	id := stack.TransportEndpointID(st.ID)
	t := targets.Tuple{
		Local:  addrPort(id.LocalAddress, id.LocalPort),
		Remote: addrPort(id.RemoteAddress, id.RemotePort),
	}
	var rec probeRecord
	protos := []tcpip.NetworkProtocolNumber{ipv4.ProtocolNumber, ipv6.ProtocolNumber}
	if id.LocalAddress.Len() == 16 {
		protos[0], protos[1] = protos[1], protos[0]
	}
	for _, p := range protos {
		if te, ok := in.s.FindTransportEndpoint(p, tcp.ProtocolNumber, id, nicID).(*tcp.Endpoint); ok {
			rec = probeRecord{ep: te}
			break
		}
	}
	in.probeMu.Lock()
	in.probed[t] = rec
	in.probeMu.Unlock()
}

// remember adds the TCP endpoints among eps to the known set.
func (in *instance) remember(eps []stack.TransportEndpoint) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, e := range eps {
		if te, ok := e.(*tcp.Endpoint); ok {
			in.known[te] = struct{}{}
		}
	}
}

// State implements targets.Instance. It looks, in order, at:
//
//  1. endpoints registered with the stack right now, which include passive
//     children in SYN-RECEIVED before accept (netstack registers a child as
//     soon as the SYN arrives) and connections in TIME-WAIT;
//  2. every endpoint the instance has met before (made or accepted by
//     Sockets, or seen registered by an earlier Settle or State), whose state
//     can still be read after the application closed it or netstack
//     unregistered it;
//  3. the probe's record for the tuple.
//
// The live endpoint's state is preferred; when several endpoints carry the
// tuple (a tuple reused after an earlier connection closed), one that is not
// CLOSED wins. Nothing known gives ok=false. Call Clock.Settle first: the
// state is an atomic read that can run ahead of processing still under way.
func (in *instance) State(t targets.Tuple) (state.State, bool) {
	if in.isClosed() {
		return state.Unknown, false
	}
	want := normTuple(t)
	in.remember(in.s.RegisteredEndpoints())

	in.mu.Lock()
	eps := make([]*tcp.Endpoint, 0, len(in.known))
	for e := range in.known {
		eps = append(eps, e)
	}
	in.mu.Unlock()

	found := false
	best := state.Unknown
	for _, e := range eps {
		info, ok := e.Info().(*stack.TransportEndpointInfo)
		if !ok {
			continue
		}
		got := targets.Tuple{
			Local:  addrPort(info.ID.LocalAddress, info.ID.LocalPort),
			Remote: addrPort(info.ID.RemoteAddress, info.ID.RemotePort),
		}
		if !tupleMatch(want, normTuple(got)) {
			continue
		}
		s := mapState(e.EndpointState())
		if !found || (best == state.Closed && s != state.Closed) {
			best, found = s, true
		}
	}
	if found {
		return best, true
	}

	in.probeMu.Lock()
	rec, ok := in.probed[want]
	in.probeMu.Unlock()
	if !ok {
		return state.Unknown, false
	}
	if rec.ep != nil {
		return mapState(rec.ep.EndpointState()), true
	}
	// The probe saw the connection but not its endpoint: it is gone.
	return state.Closed, true
}

// tupleMatch compares a requested tuple with an endpoint's. A request whose
// remote side is unset matches a listener (or an unconnected socket) bound to
// the local port; an unspecified local address on the endpoint (a wildcard
// bind) matches any local address.
func tupleMatch(want, got targets.Tuple) bool {
	if want.Local.Port() != got.Local.Port() {
		return false
	}
	if got.Local.Addr().IsValid() && !got.Local.Addr().IsUnspecified() &&
		want.Local.Addr().IsValid() && !want.Local.Addr().IsUnspecified() &&
		want.Local.Addr() != got.Local.Addr() {
		return false
	}
	wantListen := !want.Remote.IsValid() || want.Remote.Port() == 0
	gotListen := !got.Remote.IsValid() || got.Remote.Port() == 0
	if wantListen || gotListen {
		return wantListen && gotListen
	}
	return want.Remote == got.Remote &&
		got.Local.Addr().IsValid() && !got.Local.Addr().IsUnspecified()
}

func normAddrPort(ap netip.AddrPort) netip.AddrPort {
	if !ap.IsValid() {
		return ap
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func normTuple(t targets.Tuple) targets.Tuple {
	return targets.Tuple{Local: normAddrPort(t.Local), Remote: normAddrPort(t.Remote)}
}

// addrPort converts a netstack address and port; an empty address gives an
// invalid netip.Addr (with the port kept).
func addrPort(a tcpip.Address, port uint16) netip.AddrPort {
	var ip netip.Addr
	if a.Len() > 0 {
		ip, _ = netip.AddrFromSlice(a.AsSlice())
		ip = ip.Unmap()
	}
	return netip.AddrPortFrom(ip, port)
}
