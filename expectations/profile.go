package expectations

import (
	"slices"
	"strings"
	"time"
)

// MSL is the maximum segment lifetime RFC 9293 section 3.4.2 assumes.
const MSL = 2 * time.Minute

// Profile is what the reference expects of one target where the RFCs leave a
// choice, or where the target departs from them on purpose and says so. Cases
// read their expectations from the profile, never from what the target
// reports about itself, so a target cannot pass by describing its own fault.
type Profile struct {
	Target string
	// TimeWait is how long a connection stays in TIME-WAIT.
	TimeWait time.Duration
	// TimerGranularity is how coarse the target's TCP timers are (the
	// clock granularity G of RFC 6298 section 4): what a timer sends (a
	// delayed ACK, a retransmission, a probe) may leave up to this much
	// after it is due, on top of the clock's tolerance. Zero for timers
	// that fire when due.
	TimerGranularity time.Duration
	// Latency is how much later than a native stack the target may
	// answer a segment or carry out a call, on top of the clock's
	// tolerance: a kernel in a virtual machine whose every system call is
	// trapped. What it sends may be that much late, never early.
	Latency time.Duration
	// Variants are the rule sets of the transition table the target
	// follows ("base", "rfc5961", "rfc1337", ...; see Transition.Variant).
	// A spec of a variant the target does not follow is skipped.
	Variants []string
	// Notes say, one line each, where the profile departs from RFC 9293
	// in general.
	Notes []string
	// Known are the specs the target is known to fail, by case ID
	// ("T047.SYN-SENT", or "T038.LISTEN#2 [IPv4]" for one family only),
	// each with the reason and the failure it is expected to show. Such a
	// spec is an expected failure when it fails that way; any other
	// failure of it is a failure like any other, and so is its passing,
	// so the profile stays honest.
	Known map[string]Deviation
}

// Deviation is a spec a target is known to fail: why, and how.
type Deviation struct {
	// Reason says what the target does instead of what the spec asks.
	Reason string
	// Fails is a piece of the failure message the spec is expected to
	// end with: the failing check's field, or its message (see FailsAs).
	// A failure that does not contain it is a failure of the spec like
	// any other. Never empty.
	Fails string
}

// FailsAs reports whether a failure message is the one d declares: whether
// it contains d.Fails, runs of white space in either counting as one space
// (a message's lines are indented and aligned, a profile's text is not).
// A deviation that declares no failure matches none.
func (d Deviation) FailsAs(failure string) bool {
	want := collapseSpace(d.Fails)
	return want != "" && strings.Contains(collapseSpace(failure), want)
}

// collapseSpace turns every run of white space in s into one space.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Follows reports whether the target follows the rules of a variant.
func (p Profile) Follows(variant string) bool {
	return slices.Contains(p.Variants, variant)
}

// Reference is the profile of a stack that does what RFC 9293 says, with
// the RFC 5961 mitigations it describes.
var Reference = Profile{
	Target: "rfc9293",
	// RFC 9293 section 3.10.8 (TIME-WAIT timeout): 2 MSL.
	TimeWait: 2 * MSL,
	Variants: []string{"base", "rfc5961"},
}

// linuxNotes hold for the kernel whatever its device offloads.
var linuxNotes = []string{
	"TIME-WAIT lasts 60 s (TCP_TIMEWAIT_LEN), not 2 MSL (4 min; RFC 9293 section 3.10.8)",
	"ACKs may be delayed by up to about 40 ms outside quick-ack mode (RFC 9293 section 3.8.6.3 allows up to 0.5 s)",
	"RFC 1337's TIME-WAIT assassination fix is off: an RST in TIME-WAIT closes the connection",
}

var profiles = map[string]Profile{
	"linux": {
		Target:   "linux",
		TimeWait: 60 * time.Second, // TCP_TIMEWAIT_LEN
		// Linux's TCP timers (delayed ACK, RTO, TLP, RACK's reordering
		// window) run on jiffies: with HZ=250, Debian's and many
		// distributions' setting, a timer fires up to 4 ms after it is due.
		// packetdrill's scripts come from HZ=1000 kernels, where that fits
		// in their 4 ms tolerance; here it did not, and timer-driven
		// segments of five corpus scripts came 4.1-5.7 ms late in about
		// one run in three.
		TimerGranularity: 4 * time.Millisecond,
		Variants:         []string{"base", "rfc5961", "rfc6191", "MAY-1/SHLD-3", "MAY-2", "impl"},
		Notes:            linuxNotes,
		Known:            linuxKnown,
	},
	// The uml target runs Linux 6.1: the host kernel's profile, plus what
	// differs in that version or in a guest reached over its own NIC.
	"uml": {
		Target:   "uml",
		TimeWait: 60 * time.Second, // TCP_TIMEWAIT_LEN
		// The guest answers a SYN in 0.3 ms when idle, but in up to
		// several ms when its process or the harness waits for a core.
		Latency:  10 * time.Millisecond,
		Variants: []string{"base", "rfc5961", "rfc6191", "MAY-1/SHLD-3", "MAY-2", "impl"},
		Notes:    append(append([]string(nil), linuxNotes...), "the guest kernel is Linux 6.1 (Debian's user-mode-linux); it runs in real time, so cases that need virtual time are skipped"),
		Known:    umlKnown,
	},
	// The remote target's device runs `tcpconform agent`, so it is Linux:
	// the host kernel's profile, reached over an Ethernet link instead of
	// a TUN device. A device running another kernel needs a profile of
	// its own.
	"remote": {
		Target:   "remote",
		TimeWait: 60 * time.Second, // TCP_TIMEWAIT_LEN
		// As on the linux target: jiffies at HZ=250 (see there).
		TimerGranularity: 4 * time.Millisecond,
		Variants:         []string{"base", "rfc5961", "rfc6191", "MAY-1/SHLD-3", "MAY-2", "impl"},
		Notes:            append(append([]string(nil), linuxNotes...), "the device is a Linux machine running tcpconform agent, reached through an Ethernet link that never offloads and a control connection"),
		Known:            linuxKnown,
	},
	"netstack": {
		Target:   "netstack",
		TimeWait: 60 * time.Second,
		Variants: []string{"base", "rfc5961", "MAY-1/SHLD-3", "MAY-2", "impl"},
		Notes: []string{
			"TIME-WAIT lasts 60 s, as on Linux, not 2 MSL (4 min; RFC 9293 section 3.10.8)",
			"no delayed ACK: data is acknowledged at once (RFC 9293 section 3.8.6.3 allows delay, SHLD-18)",
			"once timestamps are negotiated, a segment without them is dropped, the handshake's final ACK included (RFC 7323 section 3.2 allows it)",
			"a retransmitted SYN,ACK repeats the first one's TSval",
			"after listen(fd, 1) the first SYN is answered with a SYN cookie (window 65535, MSS only, never retransmitted)",
		},
		Known: netstackKnown,
	},
	"lwip": {
		Target: "lwip",
		// 2 * TCP_MSL, with TCP_MSL 60 s (lwip/priv/tcp_priv.h).
		TimeWait: 2 * time.Minute,
		// The fast timer (delayed ACK) ticks every 250 ms, the slow one
		// (retransmission, persist, keep-alive) every 500 ms, in real
		// time: an event is sent at the first tick after it is due.
		TimerGranularity: 250 * time.Millisecond,
		// RFC 5961's challenge ACKs for an in-window RST or a SYN in the
		// synchronized states (sections 3.2, 4.2), though not its ACK
		// check (5.2); RFC 1337's TIME-WAIT, which ignores an RST; an
		// RST for a close() with unread data and for data after a full
		// close (MAY-1/SHLD-3); and the implementation-defined rows (a
		// SYN,FIN in LISTEN is taken as a SYN).
		Variants: []string{"base", "rfc5961", "rfc1337", "MAY-1/SHLD-3", "impl"},
		Notes: []string{
			"TIME-WAIT lasts 2 TCP_MSL = 120 s (TCP_MSL is 60 s in lwIP), not 2 MSL of 2 min (4 min; RFC 9293 section 3.10.8)",
			"the TCP timers tick in real time: 250 ms (fast: delayed ACK) and 500 ms (slow: retransmission, persist, TIME-WAIT)",
			"a lone in-order segment is acknowledged at the next 250 ms fast-timer tick (RFC 9293 section 3.8.6.3 allows 0.5 s)",
			"the initial retransmission timeout is 3 s (RFC 1122), not the 1 s of RFC 6298 section 2.1",
			"no simultaneous open, no timestamps, SACK or ECN in this build",
			"every RST carries the ACK bit",
		},
		Known: lwipKnown,
	},
	"seqs": {
		Target: "seqs",
		// seqs has no TIME-WAIT: a connection entering it is dropped at
		// once (State.IsClosed counts it as closed).
		TimeWait: 0,
		// seqs has no timers: it looks at the wall clock when polled,
		// and the target polls it every millisecond; under load the
		// poll can come a tick late.
		TimerGranularity: 2 * time.Millisecond,
		Variants:         []string{"base", "rfc5961"},
		Notes: []string{
			"IPv4 only: seqs has no IPv6",
			"no TIME-WAIT, no retransmission (a SYN is sent again every 3 s), no TCP options sent or read, no window scaling, no PSH",
			"in-order segments only, and no ACK for a segment it does not take",
			"on the peer's FIN the connection closes its side at once (CLOSE-WAIT to LAST-ACK without the application's CLOSE)",
			"a closing connection with nothing sent for 3 s is dropped",
			"no keep-alive, Nagle, delayed ACK, ECN or ICMP",
		},
		Known: seqsKnown,
	},
}

// ProfileFor returns the profile of the named target, or Reference for a
// target that has none.
func ProfileFor(target string) Profile {
	if p, ok := profiles[target]; ok {
		return p
	}
	p := Reference
	p.Target = target
	return p
}
