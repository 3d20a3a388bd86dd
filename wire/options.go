package wire

import (
	"bytes"
	"fmt"
	"strings"
)

// OptionKind is the kind byte of a TCP option (IANA "TCP Option Kind
// Numbers"). Kinds the package has no name for print as Kind(n).
type OptionKind uint8

// Option kinds the harness understands.
const (
	KindEOL           OptionKind = 0  // RFC 9293 section 3.2
	KindNOP           OptionKind = 1  // RFC 9293 section 3.2
	KindMSS           OptionKind = 2  // RFC 9293 section 3.7.1
	KindWindowScale   OptionKind = 3  // RFC 7323 section 2
	KindSACKPermitted OptionKind = 4  // RFC 2018
	KindSACK          OptionKind = 5  // RFC 2018
	KindTimestamps    OptionKind = 8  // RFC 7323 section 3
	KindMD5           OptionKind = 19 // RFC 2385
	KindUserTimeout   OptionKind = 28 // RFC 5482
	KindAO            OptionKind = 29 // RFC 5925
	KindMPTCP         OptionKind = 30 // RFC 8684
	KindFastOpen      OptionKind = 34 // RFC 7413
	// KindExperimental is shared by experiments told apart by the 16-bit
	// ExID that starts the data (RFC 6994).
	KindExperimental OptionKind = 254
)

// FastOpenExID is the ExID of Fast Open sent as an experimental option, as
// stacks did before kind 34 was assigned (RFC 7413 section 4.1.1).
var FastOpenExID = []byte{0xF9, 0x89}

// FastOpenCookie returns the cookie a Fast Open option carries (kind 34, or
// the experimental form), and whether o is one. A cookie request carries
// none.
func FastOpenCookie(o Option) ([]byte, bool) {
	u, ok := o.(Unknown)
	switch {
	case !ok:
		return nil, false
	case u.Type == KindFastOpen:
		return u.Data, true
	case u.Type == KindExperimental && bytes.HasPrefix(u.Data, FastOpenExID):
		return u.Data[len(FastOpenExID):], true
	}
	return nil, false
}

// WithFastOpenCookie is the Fast Open option o, in the same form, carrying
// cookie c.
func WithFastOpenCookie(o Option, c []byte) Option {
	u := o.(Unknown)
	if u.Type == KindExperimental {
		c = append(append([]byte{}, FastOpenExID...), c...)
	}
	return Unknown{Type: u.Type, Data: c}
}

var kindNames = map[OptionKind]string{
	KindEOL: "eol", KindNOP: "nop", KindMSS: "mss", KindWindowScale: "wscale",
	KindSACKPermitted: "sackOK", KindSACK: "sack", KindTimestamps: "TS",
	KindMD5: "md5", KindUserTimeout: "uto", KindAO: "tcp-ao", KindMPTCP: "mptcp",
	KindFastOpen: "tfo",
}

func (k OptionKind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Option is one TCP option. The concrete types are MSS, WindowScale,
// SACKPermitted, SACK, Timestamps, NOP, EOL and Unknown.
type Option interface {
	Kind() OptionKind
	// String prints the option as tcpdump does ("mss 1460", "wscale 7").
	String() string
	// wireLen is the number of bytes the option occupies.
	wireLen() int
	// appendTo appends the option's bytes.
	appendTo(b []byte) []byte
}

// MSS is the maximum segment size option (RFC 9293 section 3.7.1).
type MSS uint16

func (MSS) Kind() OptionKind           { return KindMSS }
func (o MSS) String() string           { return fmt.Sprintf("mss %d", uint16(o)) }
func (MSS) wireLen() int               { return 4 }
func (o MSS) appendTo(b []byte) []byte { return append(b, 2, 4, byte(o>>8), byte(o)) }

// WindowScale is the window scale shift count (RFC 7323 section 2.2).
type WindowScale uint8

func (WindowScale) Kind() OptionKind           { return KindWindowScale }
func (o WindowScale) String() string           { return fmt.Sprintf("wscale %d", uint8(o)) }
func (WindowScale) wireLen() int               { return 3 }
func (o WindowScale) appendTo(b []byte) []byte { return append(b, 3, 3, byte(o)) }

// SACKPermitted offers selective acknowledgments (RFC 2018 section 2).
type SACKPermitted struct{}

func (SACKPermitted) Kind() OptionKind         { return KindSACKPermitted }
func (SACKPermitted) String() string           { return "sackOK" }
func (SACKPermitted) wireLen() int             { return 2 }
func (SACKPermitted) appendTo(b []byte) []byte { return append(b, 4, 2) }

// SACKBlock is one block of a SACK option: the octets [Left, Right).
type SACKBlock struct {
	Left, Right uint32
}

// SACK carries selective acknowledgment blocks (RFC 2018 section 3).
type SACK []SACKBlock

func (SACK) Kind() OptionKind { return KindSACK }
func (o SACK) String() string {
	parts := make([]string, len(o))
	for i, blk := range o {
		parts[i] = fmt.Sprintf("{%d:%d}", blk.Left, blk.Right)
	}
	return fmt.Sprintf("sack %d %s", len(o), strings.Join(parts, ""))
}
func (o SACK) wireLen() int { return 2 + 8*len(o) }
func (o SACK) appendTo(b []byte) []byte {
	b = append(b, 5, byte(2+8*len(o)))
	for _, blk := range o {
		b = be32(b, blk.Left)
		b = be32(b, blk.Right)
	}
	return b
}

// Timestamps is the timestamps option (RFC 7323 section 3).
type Timestamps struct {
	Val, Ecr uint32
}

func (Timestamps) Kind() OptionKind { return KindTimestamps }
func (o Timestamps) String() string { return fmt.Sprintf("TS val %d ecr %d", o.Val, o.Ecr) }
func (Timestamps) wireLen() int     { return 10 }
func (o Timestamps) appendTo(b []byte) []byte {
	return be32(be32(append(b, 8, 10), o.Val), o.Ecr)
}

// NOP is the one-byte no-operation option used for alignment.
type NOP struct{}

func (NOP) Kind() OptionKind         { return KindNOP }
func (NOP) String() string           { return "nop" }
func (NOP) wireLen() int             { return 1 }
func (NOP) appendTo(b []byte) []byte { return append(b, 1) }

// EOL ends the option list. Bytes after it are padding.
type EOL struct{}

func (EOL) Kind() OptionKind         { return KindEOL }
func (EOL) String() string           { return "eol" }
func (EOL) wireLen() int             { return 1 }
func (EOL) appendTo(b []byte) []byte { return append(b, 0) }

// Unknown is any other option, kept raw: its kind, and the data after the
// kind and length bytes. Length, when non-zero, is written in place of the
// true length, to build malformed options on purpose.
type Unknown struct {
	Type   OptionKind
	Data   []byte
	Length uint8
}

func (o Unknown) Kind() OptionKind { return o.Type }
func (o Unknown) String() string {
	if len(o.Data) == 0 {
		return o.Type.String()
	}
	return fmt.Sprintf("%v 0x%x", o.Type, o.Data)
}
func (o Unknown) wireLen() int { return 2 + len(o.Data) }
func (o Unknown) appendTo(b []byte) []byte {
	l := o.Length
	if l == 0 {
		l = byte(2 + len(o.Data))
	}
	return append(append(b, byte(o.Type), l), o.Data...)
}

func be32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// OptionsLen is the number of bytes opts occupy before padding.
func OptionsLen(opts []Option) int {
	n := 0
	for _, o := range opts {
		n += o.wireLen()
	}
	return n
}

// FindOption returns the first option of kind k in opts.
func FindOption(opts []Option, k OptionKind) (Option, bool) {
	for _, o := range opts {
		if o.Kind() == k {
			return o, true
		}
	}
	return nil, false
}

// OptionsString prints a list as tcpdump does: "[mss 1460,sackOK,nop]".
func OptionsString(opts []Option) string {
	parts := make([]string, len(opts))
	for i, o := range opts {
		parts[i] = o.String()
	}
	return "[" + strings.Join(parts, ",") + "]"
}
