package expectations

// The specs each target is known to fail, with the reason: real behaviour of
// the stack that departs from RFC 9293, each checked by running the spec.

// synAckFIN: RFC 9293 section 3.10.7.3 (fourth check, then the eighth of
// 3.10.7.4) processes a FIN that rides on the SYN,ACK.
const synAckFIN = "a FIN on the SYN,ACK is ignored: the connection becomes ESTABLISHED and the ACK covers the SYN only"

var linuxKnown = map[string]string{
	"T047.SYN-SENT": synAckFIN,
}

var netstackKnown = map[string]string{
	"T047.SYN-SENT": synAckFIN,
}
