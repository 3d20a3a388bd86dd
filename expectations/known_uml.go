package expectations

import "maps"

// umlKnown is what Linux 6.1 under User-mode Linux does differently from
// RFC 9293: the host kernel's known deviations (linuxKnown) where 6.1
// shares them, and those of its own, which later kernels no longer have.
var umlKnown = func() map[string]Deviation {
	m := maps.Clone(linuxKnown)
	// 6.1 keeps the right edge of a small receive buffer's window.
	delete(m, "SHLD-14 [IPv4]")
	maps.Copy(m, map[string]Deviation{
		// RFC 9293 section 3.10.7.4, ACK processing in ESTABLISHED.
		"T080.ESTABLISHED": {Reason: "Linux 6.1 drops an ACK of data not yet sent (SEG.ACK > SND.NXT) in ESTABLISHED without the ACK RFC 9293 section 3.10.7.4 asks for", Fails: noACK},
		// RFC 5961 section 3.2.
		"T056.SYN-RECEIVED": {Reason: "in SYN-RECEIVED (a request socket) Linux 6.1 takes an in-window RST that is not at RCV.NXT and drops the connection, without RFC 5961 section 3.2's challenge ACK", Fails: noACK},
		// RFC 9293 section 3.10.7.4, the window update rule.
		"T107.ESTABLISHED#2": {Reason: "Linux 6.1 ignores a zero window on an ACK with the same SEQ and ACK as the last window update (it lets such a segment only open the window; RFC 9293 section 3.10.7.4 updates when SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK), so the data goes out into the closed window", Fails: windowUpdateIgnored},
	})
	return m
}()
