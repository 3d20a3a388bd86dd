package expectations

// The failures known deviations declare (Deviation.Fails) where several
// share one: pieces of the messages the specs fail with, each naming the
// check (the field compared, the segment waited for, the state read), none
// holding a sequence number, port, address or time, which change from run
// to run and from one family to the other.

// stateMismatch is the failure of a state check: the spec expected the
// connection in state want, the target had it in state got.
func stateMismatch(want, got string) string {
	return "connection state does not match expected " + want + " actual " + got
}

const (
	// No ACK came where the spec waited for one (an ACK of data, a
	// challenge ACK, the ACK that an unacceptable segment draws).
	noACK        = "no segment arrived within 3s expected flags ."
	noACKAtLeast = "no segment arrived within 3s expected flags at least ."
	// No RST came where the spec waited for one.
	noRST = "no segment arrived within 3s expected flags R"
	// Nothing came where the spec waited for a segment.
	noSegment = "no segment arrived within 3s"
	// A pure ACK was waited for and none came.
	noPureACK = "expected an acknowledgment: flags [.], no data"
	// The ACK field of the segment that came is not the one expected.
	wrongACK = "fields ack: want"
	// The ACK of a SYN,ACK that carried a FIN covers the SYN only.
	finNotAcked = "fields ack: want IRS+2 got IRS+1"
	// A script's ACK of the peer's FIN covers the data only.
	scriptFINNotAcked = "fields ack: want 2 got 1"
	// An RST,ACK came where an ACK was expected.
	rstForACK = "fields flags: want . got R."
	// Data came without PSH.
	noPSH = "fields flags: want P. got ."
	// A SYN,ACK or SYN came without the MSS option.
	noMSSOption = "fields option: want mss (any value) got no mss, options []"
	// A segment came where the spec expected none: before the check
	// (sentEarlier), or within its 200 ms.
	sentEarlier     = "for 0s, but 1 arrived"
	sentWithin200ms = "for 200ms, but 1 arrived"
	// Text the spec expected to be discarded was read.
	discardedTextRead = "the discarded text must not reach the application"
	// Data went out into a window the peer's last ACK closed: one octet
	// (a probe) was expected.
	windowUpdateIgnored = "fields length: want 1 got 22"
	// A half-open connection the spec expected to be dropped was not.
	halfOpenKept = "the half-open connection must be dropped"
	// A SYN,ACK a script waits for never came.
	scriptNoSYNACK = "timed out waiting for an outbound packet expected > S. 0:0(0) ack 1"
	// A second shutdown(SHUT_WR) returned no error.
	secondShutdownFails = "a second shutdown(SHUT_WR) succeeded"
	// A SYN from an address no host may send from was answered (the
	// checks of MUST-63 and of T038).
	invalidSourceAnswered = "a SYN from an invalid source address must be"
	// A hard ICMP error left the connection established.
	notAbortedByICMP = "Expected <state.State>: ESTABLISHED To satisfy at least one of these matchers: [state CLOSED state UNKNOWN]"
	// The application's error after an RST in CLOSE-WAIT is not
	// ECONNRESET.
	rstInCloseWaitFails = `RFC 9293 section 3.10.7.4: the user receives a "connection reset" signal`
	// The SYN,ACK did not agree to ECN.
	noECN = "fields flags: want SE. got S."
	// A SYN went out to a broadcast or multicast address.
	sentToBroadcast = "expected no segment, to anyone, for 200ms, but the target sent"
)
