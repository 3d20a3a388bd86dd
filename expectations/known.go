package expectations

// The specs each target is known to fail, with the reason: real behaviour of
// the stack that departs from RFC 9293, each checked by running the spec.

// synAckFIN: RFC 9293 section 3.10.7.3 (fourth check, then the eighth of
// 3.10.7.4) processes a FIN that rides on the SYN,ACK.
const synAckFIN = "a FIN on the SYN,ACK is ignored: the connection becomes ESTABLISHED and the ACK covers the SYN only"

// passiveSYN: RFC 9293 section 3.10.7.4, fourth check: an in-window SYN in
// SYN-RECEIVED of a passive OPEN returns the connection to LISTEN, silently.
const passiveSYN = "an in-window SYN in SYN-RECEIVED after a passive open is answered with RST,ACK and the half-open connection dropped (RFC 793's reset), not silently returned to LISTEN"

var linuxKnown = map[string]string{
	"T047.SYN-SENT":     synAckFIN,
	"T066.SYN-RECEIVED": passiveSYN,
	// RFC 9293 section 3.10.7.4, second check: an RST in SYN-RECEIVED of an
	// active OPEN tells the user "connection refused".
	"T059.SYN-RECEIVED": "an RST in SYN-RECEIVED after a simultaneous open reports ECONNRESET, not ECONNREFUSED",
	// Section 3.10.7.4, fifth check: SND.UNA < SEG.ACK =< SND.NXT.
	"T076.SYN-RECEIVED#2": "in SYN-RECEIVED after a simultaneous open, an ACK equal to SND.UNA (the ISS) is taken as acceptable (RFC 793's SND.UNA =< SEG.ACK) and completes the handshake",
	// Section 3.9.2.3, MUST-63: a SYN from an invalid source address is
	// ignored, by TCP or by IP.
	"T038.LISTEN#2 [IPv4]": "with reverse-path filtering off (a new namespace's default), a SYN from the subnet's directed broadcast address 192.0.2.255 is answered",
}

var netstackKnown = map[string]string{
	"T047.SYN-SENT":       synAckFIN,
	"T066.SYN-RECEIVED":   passiveSYN,
	"T067.SYN-RECEIVED":   "an in-window SYN in SYN-RECEIVED after a simultaneous open draws RST,ACK and a new SYN that restarts the handshake: neither RFC 5961's challenge ACK nor RFC 793's reset and close",
	"T076.SYN-RECEIVED#2": "in SYN-RECEIVED after a simultaneous open, an ACK below SND.UNA completes the handshake instead of drawing <SEQ=SEG.ACK><CTL=RST>",
}
