package expectations

// The specs each target is known to fail, with the reason: behaviour of the
// stack that departs from RFC 9293 (or from the variant its profile says it
// follows), each found by running the spec. Keys are case IDs; a key ending
// in " [IPv4]" or " [IPv6]" holds for that family only.

var linuxKnown = map[string]Deviation{
	// 3.10.4: CLOSE in CLOSING and LAST-ACK answers "connection closing".
	"T023.CLOSING":  {Reason: secondShutdown, Fails: secondShutdownFails},
	"T023.LAST-ACK": {Reason: secondShutdown, Fails: secondShutdownFails},
	// 3.10.5: ABORT in TIME-WAIT deletes the TCB.
	"T028.TIME-WAIT": {Reason: "close() with SO_LINGER {1, 0} in TIME-WAIT leaves the TIME-WAIT socket, which the kernel keeps apart from the user's, until it expires", Fails: stateMismatch("CLOSED", "TIME-WAIT")},
	// 3.10.6: STATUS reports the connection's state.
	"T029.TIME-WAIT": {Reason: "TCP_INFO on the socket says CLOSE while the connection is in TIME-WAIT: the kernel moves it to a separate TIME-WAIT socket", Fails: stateMismatch("TIME-WAIT", "CLOSED")},
	// 3.9.2.3 (MUST-63): a SYN from an invalid source address is ignored,
	// by TCP or by IP.
	"T038.LISTEN#2 [IPv4]": {Reason: directedBroadcastSource, Fails: invalidSourceAnswered},
	"MUST-63 [IPv4]":       {Reason: directedBroadcastSource, Fails: invalidSourceAnswered},
	// 3.10.7.3, fourth check, then the eighth of 3.10.7.4.
	"T047.SYN-SENT": {Reason: synAckFIN, Fails: finNotAcked},
	// 3.10.7.4, first check (Table 6): an RST below RCV.NXT is not
	// acceptable.
	"T051.CLOSE-WAIT#2": {Reason: rstBelowAfterFIN, Fails: stateMismatch("CLOSE-WAIT", "CLOSED")},
	"T051.CLOSING#2":    {Reason: rstBelowAfterFIN, Fails: stateMismatch("CLOSING", "CLOSED")},
	"T051.LAST-ACK#2":   {Reason: rstBelowAfterFIN, Fails: stateMismatch("LAST-ACK", "CLOSED")},
	// 3.10.7.4, second check with RFC 5961 section 3.2.
	"T056.TIME-WAIT":    {Reason: "in TIME-WAIT an RST not at exactly RCV.NXT is dropped silently, without the challenge ACK", Fails: noACK},
	"T059.SYN-RECEIVED": {Reason: refusedAsReset, Fails: "RFC 9293 section 3.10.7.4: signal the user \"connection refused\""},
	"suites/scripts/rst-syn-received-active.pkt": {Reason: refusedAsReset, Fails: "getsockopt(3, SOL_SOCKET, SO_ERROR, [111], [4]) returned value 104 (0x68), the script expects 111 (0x6f)"},
	"T060.CLOSE-WAIT": {Reason: rstInCloseWait, Fails: rstInCloseWaitFails},
	// 3.10.7.4, fourth check: an in-window SYN in a passive SYN-RECEIVED.
	"T066.SYN-RECEIVED": {Reason: passiveSYN, Fails: sentWithin200ms},
	// 3.10.7.4, fifth check: a segment without ACK is dropped.
	"T073.TIME-WAIT": {Reason: "in TIME-WAIT a segment without the ACK bit draws an ACK instead of being dropped silently", Fails: sentEarlier},
	// 3.10.7.4, fifth check: SND.UNA < SEG.ACK =< SND.NXT in SYN-RECEIVED.
	"T076.SYN-RECEIVED#2": {Reason: "in SYN-RECEIVED after a simultaneous open, an ACK equal to SND.UNA (the ISS) is taken as acceptable (RFC 793's SND.UNA =< SEG.ACK) and completes the handshake", Fails: "fields flags: want R got S."},
	// 3.6.1 (SHLD-3): data after a full close draws <SEQ=SND.NXT><CTL=RST>.
	"T092.FIN-WAIT-1": {Reason: "the RST for data arriving after close() takes its sequence number from the segment's ACK, so it is SND.NXT-1 while the FIN is unacknowledged, not SND.NXT", Fails: "fields seq: want"},
	// 3.6.1 (MAY-2), with RFC 1122 section 4.2.2.13.
	"MAY-2#2": {Reason: oldDuplicateSYN, Fails: stateMismatch("TIME-WAIT", "CLOSED")},
	// 3.8.6 (SHLD-14): the right edge of the receive window never moves
	// left.
	"SHLD-14 [IPv4]": {Reason: "with SO_RCVBUF 16384 an advertised 60-octet window is withdrawn (the right edge moves left) when the buffer's memory runs out", Fails: "RFC 9293 section 3.8.6 (SHLD-14): the receiver should not shrink its window, but its right edge moved from"},
	// 3.10.8 (USER TIMEOUT) and 3.8.3 (R2 set in time, MUST-21).
	"T101.ESTABLISHED":   {Reason: userTimeoutLinux, Fails: abortedLate},
	"T101.CLOSE-WAIT":    {Reason: userTimeoutLinux, Fails: abortedLate},
	"T101.FIN-WAIT-1":    {Reason: userTimeoutLinux, Fails: abortedLate},
	"T101.CLOSING":       {Reason: userTimeoutLinux, Fails: abortedLate},
	"T101.LAST-ACK":      {Reason: userTimeoutLinux, Fails: abortedLate},
	"T105.ESTABLISHED#2": {Reason: userTimeoutLinux, Fails: abortedLate},
	"T105.CLOSE-WAIT#2":  {Reason: userTimeoutLinux, Fails: abortedLate},
	"T105.FIN-WAIT-1#2":  {Reason: userTimeoutLinux, Fails: abortedLate},
	"T105.CLOSING#2":     {Reason: userTimeoutLinux, Fails: abortedLate},
	"T105.LAST-ACK#2":    {Reason: userTimeoutLinux, Fails: abortedLate},
	// 3.9.2.2 (SHLD-26): abort on a hard ICMP error.
	"SHLD-26": {Reason: hardICMPSoft, Fails: notAbortedByICMP},
	// 3.8.6.3 (SHLD-19): an ACK at least every second full-sized segment.
	"SHLD-19": {Reason: "while the application does not read, one ACK covers a burst of 8000 octets: an early ACK is sent only when the window would grow, otherwise the delayed-ACK timer waits", Fails: "RFC 9293 section 3.8.6.3 (SHLD-19): an ACK should go at least every second full-sized segment"},
}

var netstackKnown = map[string]Deviation{
	// 3.10.1 (MUST-46): an OPEN to a broadcast or multicast address is
	// refused.
	"T003.CLOSED": {Reason: "connect() to a broadcast or multicast address is accepted and a SYN sent to it", Fails: sentToBroadcast},
	// 3.10.3: RECEIVE in SYN-RECEIVED is queued until ESTABLISHED.
	"T012.SYN-RECEIVED": {Reason: "read() in SYN-RECEIVED (after a simultaneous open) fails with ENOTCONN instead of waiting for the connection", Fails: "read() returned in SYN-RECEIVED (0 bytes \"\", error transport endpoint is not connected)"},
	// 3.10.4: CLOSE in SYN-RECEIVED sends a FIN; in CLOSING and LAST-ACK it
	// answers "connection closing".
	"T019.SYN-RECEIVED": {Reason: "close() in SYN-RECEIVED (after a simultaneous open) drops the connection silently: no FIN, no RST", Fails: "no segment arrived within 3s expected flags F., seq ISS+1, ack IRS+1, length 0"},
	"T023.CLOSING":      {Reason: secondShutdown, Fails: secondShutdownFails},
	"T023.LAST-ACK":     {Reason: secondShutdown, Fails: secondShutdownFails},
	// 3.10.5: ABORT sends <SEQ=SND.NXT><CTL=RST>; in CLOSING, LAST-ACK and
	// TIME-WAIT it deletes the TCB.
	"T027.SYN-RECEIVED": {Reason: "close() with SO_LINGER {1, 0} in SYN-RECEIVED (after a simultaneous open) sends RST,ACK with sequence number 0, not SND.NXT", Fails: "fields seq: want"},
	"T028.CLOSING":      {Reason: abortAfterFIN, Fails: stateMismatch("CLOSED", "CLOSING")},
	"T028.LAST-ACK":     {Reason: abortAfterFIN, Fails: stateMismatch("CLOSED", "LAST-ACK")},
	"T028.TIME-WAIT":    {Reason: abortAfterFIN, Fails: stateMismatch("CLOSED", "TIME-WAIT")},
	// 3.10.7.3, fourth check, then the eighth of 3.10.7.4.
	"T047.SYN-SENT": {Reason: synAckFIN, Fails: finNotAcked},
	// 3.10.7.4, second check: an acceptable RST in TIME-WAIT closes the
	// connection (T062); RFC 1337's fix F1 (T063) ignores it.
	"T055.TIME-WAIT":                   {Reason: rfc1337TimeWait, Fails: stateMismatch("CLOSED", "TIME-WAIT")},
	"T062.TIME-WAIT":                   {Reason: rfc1337TimeWait, Fails: stateMismatch("CLOSED", "TIME-WAIT")},
	"suites/scripts/rst-time-wait.pkt": {Reason: rfc1337TimeWait, Fails: "fields flags: want R got ."},
	"T056.SYN-RECEIVED":                {Reason: "an in-window RST in SYN-RECEIVED that is not at RCV.NXT closes the connection (RFC 793) instead of drawing a challenge ACK", Fails: noACK},
	"T056.TIME-WAIT":                   {Reason: "in TIME-WAIT an in-window RST is ignored (RFC 1337) without the challenge ACK", Fails: noACK},
	"T060.CLOSE-WAIT":                  {Reason: rstInCloseWait, Fails: rstInCloseWaitFails},
	// 3.10.7.4, fourth check: an in-window SYN in SYN-RECEIVED.
	"T066.SYN-RECEIVED": {Reason: passiveSYN, Fails: sentWithin200ms},
	"T067.SYN-RECEIVED": {Reason: "an in-window SYN in SYN-RECEIVED after a simultaneous open draws RST,ACK and a new SYN that restarts the handshake: neither RFC 5961's challenge ACK nor RFC 793's reset and close", Fails: rstForACK},
	// 3.10.7.4, fourth check with RFC 5961 section 4.2.
	"T069.TIME-WAIT": {Reason: "a SYN in TIME-WAIT that cannot reopen the connection is dropped without the challenge ACK", Fails: noACK},
	// 3.10.7.4, fifth check with RFC 5961 section 5.2 (MAY-12).
	"T074.ESTABLISHED": {Reason: noACKCheck, Fails: wrongACK},
	"T074.FIN-WAIT-1":  {Reason: noACKCheck, Fails: wrongACK},
	"T074.FIN-WAIT-2":  {Reason: noACKCheck, Fails: wrongACK},
	"T074.CLOSE-WAIT":  {Reason: noACKCheck, Fails: noACK},
	"T074.CLOSING":     {Reason: noACKCheck, Fails: rstForACK},
	"T074.LAST-ACK":    {Reason: noACKCheck, Fails: rstForACK},
	// 3.10.7.4, fifth check: SND.UNA < SEG.ACK =< SND.NXT in SYN-RECEIVED.
	"T076.SYN-RECEIVED#2": {Reason: "in SYN-RECEIVED after a simultaneous open, an ACK below SND.UNA completes the handshake instead of drawing <SEQ=SEG.ACK><CTL=RST>", Fails: noRST},
	// 3.10.7.4, fifth check: an ACK of something not yet sent is answered
	// with an ACK and dropped.
	"T080.ESTABLISHED": {Reason: "in ESTABLISHED an ACK for data not yet sent (SEG.ACK > SND.NXT) is dropped without the ACK RFC 9293 asks for (it is sent in the other states)", Fails: noACK},
	// 3.10.7.4, seventh check: text after the peer's FIN is ignored.
	"T093.CLOSING":  {Reason: textAfterFIN, Fails: sentEarlier},
	"T093.LAST-ACK": {Reason: textAfterFIN, Fails: sentEarlier},
	// 3.9.2.3 (MUST-63).
	"MUST-63 [IPv4]": {Reason: "a SYN from a 0.0.0.0/8 source, which RFC 1122 section 3.2.1.3 forbids as a source, is answered", Fails: invalidSourceAnswered},
	// 3.10.8 (USER TIMEOUT) and 3.8.3 (R2 set in time, MUST-21).
	"T101.ESTABLISHED":   {Reason: userTimeoutNetstack, Fails: abortedLate},
	"T101.CLOSE-WAIT":    {Reason: userTimeoutNetstack, Fails: abortedLate},
	"T101.FIN-WAIT-1":    {Reason: userTimeoutNetstack, Fails: abortedLate},
	"T101.CLOSING":       {Reason: userTimeoutNetstack, Fails: abortedLate},
	"T101.LAST-ACK":      {Reason: userTimeoutNetstack, Fails: abortedLate},
	"T105.ESTABLISHED#2": {Reason: userTimeoutNetstack, Fails: abortedLate},
	"T105.CLOSE-WAIT#2":  {Reason: userTimeoutNetstack, Fails: abortedLate},
	"T105.FIN-WAIT-1#2":  {Reason: userTimeoutNetstack, Fails: abortedLate},
	"T105.CLOSING#2":     {Reason: userTimeoutNetstack, Fails: abortedLate},
	"T105.LAST-ACK#2":    {Reason: userTimeoutNetstack, Fails: abortedLate},
	// 3.8.3 (MUST-23): R2 for a SYN allows at least 3 minutes.
	"T105.SYN-SENT": {Reason: synGiveUp, Fails: stateMismatch("SYN-SENT", "CLOSED")},
	// 3.8.3 (MUST-21): R2 can be set per connection.
	"T105.SYN-SENT#2":   {Reason: synCountIgnored, Fails: stateMismatch("CLOSED", "SYN-SENT")},
	"T105.SYN-RECEIVED": {Reason: synCountIgnored, Fails: stateMismatch("CLOSED", "SYN-RECEIVED")},
	// 3.9.2.2 (SHLD-26): abort on a hard ICMP error.
	"SHLD-26": {Reason: hardICMPSoft, Fails: notAbortedByICMP},
	// 3.8.2 (SHLD-8).
	"SHLD-8": {Reason: "no Explicit Congestion Notification (RFC 3168): the SYN,ACK does not agree to ECN", Fails: noECN},
	// 3.6.1 (SHLD-4, MAY-2), with RFC 1122 section 4.2.2.13.
	"SHLD-4":  {Reason: "no timestamp-based TIME-WAIT reuse (RFC 6191): a SYN with a newer timestamp but a lower sequence number is dropped", Fails: "no segment arrived within 3s expected SYN,ACK acknowledging the new SYN (RFC 6191 honours it)"},
	"MAY-2":   {Reason: "a connection reopened from TIME-WAIT soon after can get the old connection's ISS, below the old sequence numbers: nothing makes the new ISS exceed them", Fails: "RFC 9293 section 3.6.1 (MAY-2): reopening from TIME-WAIT needs an ISS above the old connection's sequence numbers"},
	"MAY-2#2": {Reason: oldDuplicateSYN, Fails: stateMismatch("TIME-WAIT", "CLOSED")},
	// 3.8.3 (MUST-23): R2 for a SYN allows at least 3 minutes.
	"MUST-23": {Reason: synGiveUp, Fails: "RFC 9293 section 3.8.3 (MUST-23): R2 for a SYN must allow at least 3 minutes"},
	// 3.7.4 (SHLD-7): the Nagle algorithm.
	"SHLD-7": {Reason: "the target's sockets start with TCP_NODELAY on: Nagle's algorithm, which works when turned on (SHLD-7.enabled), is off by default", Fails: "Nagle should be on unless the application turns it off"},
	// 3.8.6.2.1 (MUST-38): sender silly window syndrome avoidance.
	"MUST-38": {Reason: "no sender silly-window avoidance: a 10-octet usable window is filled at once with a 10-octet segment", Fails: "for 20ms, but 1 arrived"},
	// 3.8.6.3 (SHLD-18): delayed ACKs.
	"SHLD-18": {Reason: "no delayed ACK: every segment is acknowledged at once", Fails: "RFC 9293 section 3.8.6.3 (SHLD-18): ACKs should be delayed"},
}

const (
	synAckFIN               = "a FIN on the SYN,ACK is ignored: the connection becomes ESTABLISHED and the ACK covers the SYN only"
	passiveSYN              = "an in-window SYN in SYN-RECEIVED after a passive open is answered with RST,ACK and the half-open connection dropped (RFC 793's reset), not silently returned to LISTEN"
	refusedAsReset          = "an RST in SYN-RECEIVED after a simultaneous open reports ECONNRESET, not ECONNREFUSED"
	secondShutdown          = "a second shutdown(SHUT_WR) in CLOSING or LAST-ACK succeeds (the socket API's shutdown is idempotent) where RFC 9293 answers \"connection closing\""
	abortAfterFIN           = "close() with SO_LINGER {1, 0} after the FIN was sent leaves the connection in its closing state instead of deleting it"
	rfc1337TimeWait         = "an RST in TIME-WAIT is ignored (RFC 1337's fix F1, transition T063) instead of closing the connection"
	textAfterFIN            = "data arriving after the peer's FIN draws RST,ACK and closes the connection, where RFC 9293 ignores the segment text"
	rstBelowAfterFIN        = "after the peer's FIN an RST at RCV.NXT-1 is accepted and closes the connection (the FIN's sequence number is taken as in the window)"
	rstInCloseWait          = "an RST in CLOSE-WAIT is reported to the application as EPIPE, not ECONNRESET"
	directedBroadcastSource = "with reverse-path filtering off (a new namespace's default), a SYN from the subnet's directed broadcast address 192.0.2.255 is answered"
	oldDuplicateSYN         = "after an old duplicate SYN reopened a TIME-WAIT connection and the peer reset the SYN,ACK, the connection is CLOSED, not back in TIME-WAIT"
	hardICMPSoft            = "a hard ICMP error (port unreachable) about data of an established connection does not abort it (it aborts only a connection being opened)"
	userTimeoutLinux        = "TCP_USER_TIMEOUT counts from the first timer-driven retransmission, not from the original send: a 500 ms timeout ends the connection at about 925 ms"
	// abortedLate is how a timeout that ends the connection after its time
	// fails (suites' timedOutBy); one that never ends it fails otherwise.
	abortedLate         = "the connection was aborted late"
	userTimeoutNetstack = "the user timeout is checked only when the retransmission timer fires: a 500 ms timeout ends the connection at 2 s, a 1.5 s one at 2.5 s"
	synGiveUp           = "SYN retransmission gives up after about 127 s (7 SYNs), short of the 3 minutes"
	synCountIgnored     = "TCP_SYNCNT is accepted but has no effect: SYNs and SYN,ACKs follow the default schedule (6 retransmissions, closed at 127 s)"
	noACKCheck          = "no RFC 5961 section 5.2 check of the ACK field: data whose ACK is far below SND.UNA is taken (or dropped, or reset after the peer's FIN) instead of drawing a challenge ACK"
)

var lwipKnown = map[string]Deviation{
	// 3.10.1 (MUST-46): an OPEN to a broadcast or multicast address is
	// refused.
	"T003.CLOSED": {Reason: "connect() to a broadcast or multicast address is accepted and a SYN sent to it", Fails: sentToBroadcast},
	// 3.10.2 and 3.10.3: calls refused, or queued, by state.
	"T005.LISTEN":     {Reason: "write() on a listening socket fails with EINPROGRESS (lwIP's answer for a netconn that is not idle), which says the call is under way rather than refused", Fails: "write() on a listening socket returned EINPROGRESS: the call went ahead"},
	"T008.SYN-SENT":   {Reason: "write() in SYN-SENT fails at once with EINPROGRESS, on a blocking socket too, instead of queueing the data until ESTABLISHED", Fails: "write() returned in SYN-SENT (0 bytes \"\", error operation now in progress)"},
	"T011.CLOSED":     {Reason: "read() on a socket that never connected fails with EAGAIN, as if data might still come, instead of an error: lwIP waits for data on any TCP socket", Fails: "read() on an unconnected socket returned EAGAIN: the call went ahead"},
	"T014.CLOSE-WAIT": {Reason: "once read() has returned end of stream, lwIP shuts the socket's receive side and later reads fail with ENOTCONN instead of returning end of stream again", Fails: "read() failed: ENOTCONN"},
	// 3.10.5: ABORT is close() with SO_LINGER {1, 0}.
	"T026.SYN-SENT":    {Reason: lwipAbortUnacked, Fails: sentWithin200ms},
	"T028.CLOSING":     {Reason: lwipAbortUnacked, Fails: sentWithin200ms},
	"T028.LAST-ACK":    {Reason: lwipAbortUnacked, Fails: sentWithin200ms},
	"T027.ESTABLISHED": {Reason: lwipAbortGraceful, Fails: "fields flags: want at least R got F."},
	"T027.FIN-WAIT-2":  {Reason: lwipAbortGraceful, Fails: noSegment},
	"T027.CLOSE-WAIT":  {Reason: lwipAbortGraceful, Fails: "fields flags: want at least R got F."},
	"T028.TIME-WAIT":   {Reason: lwipAbortGraceful, Fails: stateMismatch("CLOSED", "TIME-WAIT")},
	// 3.10.7.1, 3.10.7.2, 3.10.7.4 and 3.5.2: a reset for a segment with
	// ACK is <SEQ=SEG.ACK><CTL=RST>.
	"T032.CLOSED":         {Reason: lwipRSTACK, Fails: lwipRSTACKFails},
	"T034.LISTEN":         {Reason: lwipRSTACK, Fails: lwipRSTACKFails},
	"T035.LISTEN":         {Reason: lwipRSTACK, Fails: lwipRSTACKFails},
	"T076.SYN-RECEIVED":   {Reason: lwipRSTACK, Fails: lwipRSTACKFails},
	"T076.SYN-RECEIVED#3": {Reason: lwipRSTACK, Fails: "flags: want R got R."},
	"T100.CLOSED":         {Reason: lwipRSTACK, Fails: lwipRSTACKFails},
	"MUST-11":             {Reason: lwipRSTACK, Fails: lwipRSTACKFails},
	"suites/scripts/rst-closed-port-forms.pkt":    {Reason: lwipRSTACK, Fails: lwipRSTACKFails},
	"suites/scripts/close-remote-first.pkt":       {Reason: lwipRSTACK, Fails: lwipRSTACKFails},
	"suites/scripts/rst-syn-received-passive.pkt": {Reason: lwipRSTACK, Fails: lwipRSTACKFails},
	"suites/closed_port_ack.go":                   {Reason: lwipRSTACK, Fails: lwipRSTACKFails},
	"suites/scripts/rst-closed-port.pkt":          {Reason: "the RST,ACK for a SYN to a closed port advertises a window of 65407 (lwIP 2.1.3's tcp_rst byte-swaps its 32767 twice) where the script expects 0", Fails: "fields win: want 0 got 65407"},
	// 3.9.2.3 (MUST-63): a SYN from an invalid source address is ignored.
	"T038.LISTEN#2 [IPv4]": {Reason: lwipBadSource, Fails: invalidSourceAnswered},
	"MUST-63":              {Reason: lwipBadSource, Fails: invalidSourceAnswered},
	// 3.10.7.3: SYN-SENT.
	"T041.SYN-SENT": {Reason: "an unacceptable ACK in SYN-SENT draws RST,ACK (the ACK bit set) and at once a retransmission of the SYN", Fails: lwipRSTACKFails},
	"T043.SYN-SENT": {Reason: "an RST acknowledging the SYN is reported as ECONNRESET, not ECONNREFUSED: lwIP reports every reset as ERR_RST", Fails: "Expected <int>: 104 to equal <int>: 111"},
	"T047.SYN-SENT": {Reason: "a FIN on the SYN,ACK is not processed: the connection becomes ESTABLISHED and the ACK covers the SYN only", Fails: finNotAcked},
	"T049.SYN-SENT": {Reason: "an acceptable ACK without SYN in SYN-SENT is answered with RST,ACK and an immediate SYN retransmission instead of being dropped (fifth check)", Fails: "for 200ms, but 2 arrived"},
	// 3.10.7.3, fourth check (MUST-10): simultaneous open.
	"T048.SYN-SENT":                               {Reason: lwipNoSimultaneousOpen, Fails: lwipNoSimultaneousOpenFails},
	"T006.SYN-RECEIVED":                           {Reason: lwipNoSimultaneousOpen, Fails: lwipNoSimultaneousOpenFails},
	"T008.SYN-RECEIVED":                           {Reason: lwipNoSimultaneousOpen, Fails: lwipNoSimultaneousOpenFails},
	"T012.SYN-RECEIVED":                           {Reason: lwipNoSimultaneousOpen, Fails: lwipNoSimultaneousOpenFails},
	"T019.SYN-RECEIVED":                           {Reason: lwipNoSimultaneousOpen, Fails: lwipNoSimultaneousOpenFails},
	"T027.SYN-RECEIVED":                           {Reason: lwipNoSimultaneousOpen, Fails: lwipNoSimultaneousOpenFails},
	"T059.SYN-RECEIVED":                           {Reason: lwipNoSimultaneousOpen, Fails: lwipNoSimultaneousOpenFails},
	"T067.SYN-RECEIVED":                           {Reason: lwipNoSimultaneousOpen, Fails: lwipNoSimultaneousOpenFails},
	"T068.SYN-RECEIVED":                           {Reason: lwipNoSimultaneousOpen, Fails: lwipNoSimultaneousOpenFails},
	"T075.SYN-RECEIVED#2":                         {Reason: lwipNoSimultaneousOpen, Fails: lwipNoSimultaneousOpenFails},
	"T076.SYN-RECEIVED#2":                         {Reason: lwipNoSimultaneousOpen, Fails: lwipNoSimultaneousOpenFails},
	"MUST-10":                                     {Reason: lwipNoSimultaneousOpen, Fails: lwipNoSimultaneousOpenFails},
	"suites/scripts/simultaneous-open.pkt":        {Reason: lwipNoSimultaneousOpen, Fails: scriptNoSYNACK},
	"suites/scripts/simultaneous-open-synack.pkt": {Reason: lwipNoSimultaneousOpen, Fails: scriptNoSYNACK},
	"suites/scripts/rst-syn-received-active.pkt":  {Reason: lwipNoSimultaneousOpen, Fails: scriptNoSYNACK},
	// 3.10.7.4, first check: an unacceptable segment is dropped after the
	// ACK.
	"T050.SYN-RECEIVED":   {Reason: lwipSynRcvdSeqCheck, Fails: stateMismatch("SYN-RECEIVED", "ESTABLISHED")},
	"T050.SYN-RECEIVED#2": {Reason: lwipSynRcvdSeqCheck, Fails: stateMismatch("SYN-RECEIVED", "ESTABLISHED")},
	// 3.8.6.3 and 3.10.7.4, seventh check: the ACK of data.
	// 3.10.7.4, seventh check, with RFC 5681 section 4.2.
	// 3.10.7.4, second check: RST in TIME-WAIT (RFC 1337 fix F1).
	"T055.TIME-WAIT":                   {Reason: lwipTimeWaitRST, Fails: stateMismatch("CLOSED", "TIME-WAIT")},
	"T062.TIME-WAIT":                   {Reason: lwipTimeWaitRST, Fails: stateMismatch("CLOSED", "TIME-WAIT")},
	"suites/scripts/rst-time-wait.pkt": {Reason: lwipTimeWaitRST, Fails: "fields flags: want R got ."},
	"T056.TIME-WAIT":                   {Reason: "in TIME-WAIT an in-window RST not at RCV.NXT is dropped silently (RFC 1337), without RFC 5961's challenge ACK", Fails: noACK},
	// 3.10.7.4, fourth check.
	"T066.SYN-RECEIVED": {Reason: "an in-window SYN in SYN-RECEIVED after a passive open is ignored: the half-open connection stays instead of being dropped (back to LISTEN)", Fails: halfOpenKept},
	"T069.TIME-WAIT":    {Reason: "a SYN at RCV.NXT in TIME-WAIT draws RST,ACK with sequence number 0 (the SYN's empty ACK field) instead of RFC 5961's challenge ACK", Fails: rstForACK},
	// 3.10.7.4, fifth check: a segment without ACK is dropped.
	"T073.ESTABLISHED": {Reason: lwipNoACKBit, Fails: discardedTextRead},
	"T073.FIN-WAIT-1":  {Reason: lwipNoACKBit, Fails: discardedTextRead},
	"T073.FIN-WAIT-2":  {Reason: lwipNoACKBit, Fails: discardedTextRead},
	"T073.TIME-WAIT":   {Reason: "in TIME-WAIT text without the ACK bit draws an ACK instead of being dropped silently", Fails: sentEarlier},
	// 3.10.7.4, fifth check with RFC 5961 section 5.2 (MAY-12).
	"T074.ESTABLISHED": {Reason: lwipNoACKCheck, Fails: wrongACK},
	"T074.FIN-WAIT-1":  {Reason: lwipNoACKCheck, Fails: wrongACK},
	"T074.FIN-WAIT-2":  {Reason: lwipNoACKCheck, Fails: wrongACK},
	"T074.CLOSE-WAIT":  {Reason: lwipNoACKCheck, Fails: noACK},
	"T074.CLOSING":     {Reason: lwipNoACKCheck, Fails: "segment arrived late expected flags ."},
	"T074.LAST-ACK":    {Reason: lwipNoACKCheck, Fails: "segment arrived late expected flags ."},
	// 3.8.1 and RFC 6298 section 2.1: the initial RTO.
	"T102.SYN-SENT#2":                      {Reason: lwipInitialRTO, Fails: "segment arrived late expected flags S, seq ISS+0, length 0"},
	"T103.SYN-RECEIVED":                    {Reason: lwipInitialRTO, Fails: "segment arrived late expected flags S., seq ISS+0, ack IRS+1, length 0"},
	"suites/scripts/retransmit-synack.pkt": {Reason: lwipInitialRTO, Fails: "timing error: expected outbound packet at"},
	// 3.8.6.1 (SHLD-29) and 3.10.7.4, fifth check (the window update).
	"T107.ESTABLISHED#2": {Reason: "a zero-window ACK with the same SEQ and ACK as the last window update is ignored (lwIP lets such a segment only open the window; RFC 9293 updates when SND.WL2 =< SEG.ACK), so the data goes out into the closed window", Fails: windowUpdateIgnored},
	"T107.CLOSE-WAIT#2":  {Reason: "the first zero-window probe leaves three ticks of the 500 ms slow timer after the window closed (about 1.25 s), later than the 1 s RTO of RFC 6298 the spec allows (SHLD-29)", Fails: "zero-window probes: the retransmission timer does not double on expiry"},
	// 3.8.4 (MUST-26, MUST-27): the keep-alive interval.
	// 3.9.2.2 (MUST-54, SHLD-26): ICMP errors.
	"MUST-54": {Reason: lwipNoICMP, Fails: stateMismatch("CLOSED", "SYN-SENT")},
	"SHLD-26": {Reason: lwipNoICMP, Fails: notAbortedByICMP},
	// 3.8.2 (SHLD-8).
	"SHLD-8": {Reason: "no Explicit Congestion Notification (RFC 3168) in this build: the SYN,ACK does not agree to ECN", Fails: noECN},
	// 3.4.1 (MUST-8).
	"MUST-8": {Reason: "the ISS is not clock-driven: without LWIP_HOOK_TCP_ISN, tcp_next_iss adds the slow timer's tick count to a static counter, so ISNs for one four-tuple a fraction of a second apart can be equal", Fails: "want a tick between"},
}

const (
	lwipRSTACK             = "every RST lwIP sends has the ACK bit set: the reset for a segment with ACK is <SEQ=SEG.ACK><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, not <SEQ=SEG.ACK><CTL=RST>"
	lwipAbortUnacked       = "close() with SO_LINGER {1, 0} while the SYN or FIN is unacknowledged aborts with RST,ACK, where RFC 9293 sends nothing in SYN-SENT, CLOSING and LAST-ACK"
	lwipAbortGraceful      = "close() with SO_LINGER {1, 0} aborts only while data or a FIN is unacknowledged; otherwise lwIP closes gracefully (a FIN, or nothing in FIN-WAIT-2 and TIME-WAIT): no RST, and the connection is not deleted"
	lwipBadSource          = "a SYN from an address no host may use (0.0.0.0/8, the subnet's broadcast 192.0.2.255, ::1) is taken: answered with a SYN,ACK, or kept half-open"
	lwipNoSimultaneousOpen = "no simultaneous open: a SYN without ACK in SYN-SENT is ignored, so no SYN,ACK is sent and the connection stays in SYN-SENT, retransmitting its SYN"
	lwipSynRcvdSeqCheck    = "in SYN-RECEIVED a segment that fails the sequence test is answered with an ACK, but its ACK field is taken as well and completes the handshake: ESTABLISHED instead of unchanged"
	lwipTimeWaitRST        = "an RST in TIME-WAIT is ignored (RFC 1337's fix F1, transition T063) instead of closing the connection"
	lwipNoACKBit           = "text without the ACK bit is taken and delivered: lwIP does not check the ACK bit in the synchronized states"
	lwipNoACKCheck         = "no RFC 5961 section 5.2 check of the ACK field: text whose ACK lies far below SND.UNA is taken and acknowledged (after the peer's FIN, dropped without an ACK) instead of being discarded with an ACK"
	lwipInitialRTO         = "the initial retransmission timeout is 3 s (RFC 1122's), not RFC 6298's 1 s: the first SYN or SYN,ACK retransmission leaves about 2.75 s after the first"
	lwipNoICMP             = "ICMP errors are not passed to TCP: a port unreachable about the SYN, or about data, leaves the connection as it was"
)

// The failures several of lwIP's deviations share.
const (
	// An RST came with the ACK bit set.
	lwipRSTACKFails = "fields flags: want R got R."
	// A SYN came where the SYN,ACK of a simultaneous open was expected.
	lwipNoSimultaneousOpenFails = "fields flags: want S. got S"
)
