// Package wire is the segment model of the harness: what a TCP segment in an
// IPv4 or IPv6 datagram looks like, how it is encoded to bytes (with switches
// to get lengths and checksums wrong on purpose) and decoded from bytes (with
// the checksums verified), and how it prints as one tcpdump-style line.
package wire

import "strings"

// Flags is the set of TCP control bits (RFC 9293 section 3.1; ECE and CWR
// from RFC 3168; AE, the former NS bit, from RFC 9768's accurate ECN).
type Flags uint16

// The control bits, at their positions in the 12-bit field of the header.
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
	AE
)

// flagLetters pairs each flag with the letter tcpdump prints for it, in
// tcpdump's order; ACK prints last as '.'.
var flagLetters = []struct {
	f      Flags
	letter byte
}{
	{SYN, 'S'}, {FIN, 'F'}, {PSH, 'P'}, {RST, 'R'}, {URG, 'U'},
	{ECE, 'E'}, {CWR, 'W'}, {AE, 'e'}, {ACK, '.'},
}

// String prints the flags as tcpdump does ("S", "S.", "F.", "R"); an empty set
// prints "none". Bits beyond AE are shown as a number.
func (f Flags) String() string {
	var b strings.Builder
	for _, fl := range flagLetters {
		if f&fl.f != 0 {
			b.WriteByte(fl.letter)
		}
	}
	if rest := f &^ (FIN | SYN | RST | PSH | ACK | URG | ECE | CWR | AE); rest != 0 {
		b.WriteString("+0x")
		b.WriteString(strings.TrimLeft(hex16(uint16(rest)), "0"))
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// ParseFlags reads the tcpdump / packetdrill letters ("S.", "FP.", "R") back
// into a flag set; '.' is ACK. It reports false on any other character.
func ParseFlags(s string) (Flags, bool) {
	var f Flags
	for i := 0; i < len(s); i++ {
		found := false
		for _, fl := range flagLetters {
			if s[i] == fl.letter {
				f |= fl.f
				found = true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
	return f, true
}

// Has reports whether every flag in g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

func hex16(v uint16) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf]})
}
