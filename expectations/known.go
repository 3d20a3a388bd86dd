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
	// Section 3.6.1 (SHLD-3): data after a full close draws an RST, which
	// the row gives <SEQ=SND.NXT>.
	"T092.FIN-WAIT-1": "the RST for data arriving after close() takes its sequence number from the segment's ACK, so it is SND.NXT-1 while the FIN is unacknowledged, not SND.NXT",
	"suites/scripts/rst-syn-received-active.pkt": "an RST in SYN-RECEIVED after a simultaneous open reports ECONNRESET, not ECONNREFUSED",
	// Section 3.10.5: ABORT in TIME-WAIT deletes the TCB.
	"T028.TIME-WAIT": "close() with SO_LINGER {1, 0} in TIME-WAIT leaves the TIME-WAIT socket, which the kernel keeps apart from the user's, until it expires",
	// Section 3.10.6: STATUS reports the connection's state.
	"T029.TIME-WAIT":       "TCP_INFO on the socket says CLOSE while the connection is in TIME-WAIT: the kernel moves it to a separate TIME-WAIT socket",
	"T023.CLOSING":         secondShutdown,
	"T023.LAST-ACK":        secondShutdown,
	"T038.LISTEN#2 [IPv4]": "with reverse-path filtering off (a new namespace's default), a SYN from the subnet's directed broadcast address 192.0.2.255 is answered",
}

var netstackKnown = map[string]string{
	"T047.SYN-SENT":       synAckFIN,
	"T066.SYN-RECEIVED":   passiveSYN,
	"T067.SYN-RECEIVED":   "an in-window SYN in SYN-RECEIVED after a simultaneous open draws RST,ACK and a new SYN that restarts the handshake: neither RFC 5961's challenge ACK nor RFC 793's reset and close",
	"T076.SYN-RECEIVED#2": "in SYN-RECEIVED after a simultaneous open, an ACK below SND.UNA completes the handshake instead of drawing <SEQ=SEG.ACK><CTL=RST>",
	// RFC 9293 section 3.10.7.4, second check: an acceptable RST in
	// TIME-WAIT closes the connection; RFC 1337's fix F1 ignores it.
	"suites/scripts/rst-time-wait.pkt": rfc1337TimeWait,
	// Section 3.10.7.4, fifth check: an ACK of something not yet sent is
	// answered with an ACK and dropped.
	"T080.ESTABLISHED": "in ESTABLISHED an ACK for data not yet sent (SEG.ACK > SND.NXT) is dropped without the ACK RFC 9293 asks for (it is sent in the other states)",
	// Section 3.10.7.4, seventh check: text after the peer's FIN is ignored.
	// Section 3.10.1: an OPEN to a broadcast or multicast address is refused
	// (MUST-46).
	"T003.CLOSED": "connect() to a broadcast or multicast address is accepted and a SYN sent to it",
	// Section 3.10.3: RECEIVE in SYN-RECEIVED is queued until ESTABLISHED.
	"T012.SYN-RECEIVED": "read() in SYN-RECEIVED (after a simultaneous open) fails with ENOTCONN instead of waiting for the connection",
	// Section 3.10.4: CLOSE in SYN-RECEIVED sends a FIN.
	"T019.SYN-RECEIVED": "close() in SYN-RECEIVED (after a simultaneous open) drops the connection silently: no FIN, no RST",
	"T023.CLOSING":      secondShutdown,
	"T023.LAST-ACK":     secondShutdown,
	// Section 3.10.5: ABORT sends <SEQ=SND.NXT><CTL=RST>.
	"T027.SYN-RECEIVED": "close() with SO_LINGER {1, 0} in SYN-RECEIVED (after a simultaneous open) sends RST,ACK with sequence number 0, not SND.NXT",
	// Section 3.10.5: ABORT in CLOSING, LAST-ACK and TIME-WAIT deletes the TCB.
	"T028.CLOSING":   abortAfterFIN,
	"T028.LAST-ACK":  abortAfterFIN,
	"T028.TIME-WAIT": abortAfterFIN,
	"T093.CLOSING":   textAfterFIN,
	"T093.LAST-ACK":  textAfterFIN,
}

const rfc1337TimeWait = "an RST in TIME-WAIT is ignored (RFC 1337's fix F1, transition T063) instead of closing the connection"

const textAfterFIN = "data arriving after the peer's FIN draws RST,ACK and closes the connection, where RFC 9293 ignores the segment text"

// secondShutdown: RFC 9293 section 3.10.4 answers a CLOSE in CLOSING and
// LAST-ACK with "error: connection closing".
const secondShutdown = "a second shutdown(SHUT_WR) in CLOSING or LAST-ACK succeeds (the socket API's shutdown is idempotent) where RFC 9293 answers \"connection closing\""

const abortAfterFIN = "close() with SO_LINGER {1, 0} after the FIN was sent leaves the connection in its closing state instead of deleting it"
