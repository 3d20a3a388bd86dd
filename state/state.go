// Package state names the states of the TCP connection state machine of
// RFC 9293 section 3.3.2 (Figure 5; RFC 793 Figure 6).
package state

import "fmt"

// State is one RFC 9293 connection state. The zero value is Unknown: a target
// that cannot tell, or a connection it has never seen.
type State uint8

// The connection states, in the order RFC 9293 section 3.3.2 lists them.
const (
	Unknown State = iota
	Listen
	SynSent
	SynReceived
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
	Closed
)

var names = [...]string{
	Unknown:     "UNKNOWN",
	Listen:      "LISTEN",
	SynSent:     "SYN-SENT",
	SynReceived: "SYN-RECEIVED",
	Established: "ESTABLISHED",
	FinWait1:    "FIN-WAIT-1",
	FinWait2:    "FIN-WAIT-2",
	CloseWait:   "CLOSE-WAIT",
	Closing:     "CLOSING",
	LastAck:     "LAST-ACK",
	TimeWait:    "TIME-WAIT",
	Closed:      "CLOSED",
}

// String returns the RFC spelling ("SYN-RECEIVED", "FIN-WAIT-1"); values it
// does not know print as State(n).
func (s State) String() string {
	if int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// All lists every state except Unknown.
func All() []State {
	out := make([]State, 0, len(names)-1)
	for s := Listen; s <= Closed; s++ {
		out = append(out, s)
	}
	return out
}

// Parse reads the RFC spelling of a state, case-sensitively, and also accepts
// the common short forms without the inner hyphen ("FIN-WAIT1", "SYN-RCVD").
func Parse(name string) (State, error) {
	for s, n := range names {
		if n == name && State(s) != Unknown {
			return State(s), nil
		}
	}
	switch name {
	case "SYN-RCVD", "SYN_RECV":
		return SynReceived, nil
	case "FIN-WAIT1":
		return FinWait1, nil
	case "FIN-WAIT2":
		return FinWait2, nil
	}
	return Unknown, fmt.Errorf("state: unknown TCP state %q", name)
}

// Synchronized reports whether s is one of the synchronized states of RFC 9293
// section 3.5.2 (ESTABLISHED and every state after it), in which an
// unacceptable segment draws an empty ACK rather than a reset.
func (s State) Synchronized() bool { return s >= Established && s <= TimeWait }

// GomegaString makes failure messages print the state's name, not its number.
func (s State) GomegaString() string { return s.String() }

// linuxNumbers are Linux's numbers for the states (include/net/tcp_states.h),
// as TCP_INFO's tcpi_state reports them.
var linuxNumbers = map[State]int64{
	Established: 1, SynSent: 2, SynReceived: 3, FinWait1: 4,
	FinWait2: 5, TimeWait: 6, Closed: 7, CloseWait: 8,
	LastAck: 9, Listen: 10, Closing: 11,
}

// Linux returns Linux's number for s (TCP_ESTABLISHED is 1), as TCP_INFO's
// tcpi_state gives it; ok is false for Unknown.
func (s State) Linux() (n int64, ok bool) {
	n, ok = linuxNumbers[s]
	return n, ok
}
