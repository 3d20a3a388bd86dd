// Package script reads the packetdrill script language: a lexer and parser
// that build an AST whose every node knows its file:line:col, and a static
// check that rejects what cannot run before anything runs.
//
// The language is free-form: one event may span lines, and a new event starts
// wherever the grammar needs a time after the previous action is complete.
package script

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tcpconform/tcpconform/wire"
)

// Pos is a position in a script: 1-based line and column (in bytes).
type Pos struct {
	File string
	Line int
	Col  int
}

// String prints file:line:col, or only the file for a place outside any
// script's text (a command line's option, say).
func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Where prints file:line, or only the file for a place outside any
// script's text.
func (p Pos) Where() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Error is one problem found in a script, at a position.
type Error struct {
	Pos Pos
	Msg string
}

// Error prints "file:line:col: message".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ErrorList is every problem found in a script, in order of position.
type ErrorList []*Error

// Error prints one problem a line.
func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// File is one parsed script.
type File struct {
	Path string
	// Options are the --name[=value] lines at the top.
	Options []*Option
	// Init is the untimed shell command before the first event, Cleanup the
	// one after the last; nil when absent.
	Init    *Command
	Events  []*Event
	Cleanup *Command
	// Labels are read from a header comment "// labels: a b c" before the
	// first event; Title is the text of the first comment line.
	Labels []string
	Title  string
	// Warnings are the places where the script parses here but would not
	// under the packetdrill it is written for (see portability.go); they
	// never make the script bad.
	Warnings ErrorList
}

// Option is one "--name" or "--name=value" header line.
type Option struct {
	Pos      Pos
	Name     string // without the leading dashes
	Value    string // unquoted; "" when HasValue is false
	HasValue bool
}

// TimeKind says how an event's time is written.
type TimeKind int

const (
	// Absolute: seconds since the script's start ("1.5", "0").
	Absolute TimeKind = iota
	// Relative: seconds after the previous event ("+0.1").
	Relative
	// AnyTime: "*", whenever, with no time-out (outbound packets only).
	AnyTime
)

// Time is the time column of an event. Times are kept to the microsecond.
type Time struct {
	Pos   Pos
	Kind  TimeKind
	Start time.Duration
	// Range is set for "a~b" and "+a~+b" (outbound packets only); End is in
	// the same base as Start.
	Range bool
	End   time.Duration
	// Blocking is set for "T...END name(...)": the call starts at Start and
	// must return at BlockEnd, written in the same base as Start.
	Blocking bool
	BlockEnd time.Duration
}

// Event is one timed action.
type Event struct {
	Pos    Pos // where its time starts: the event's line
	Time   Time
	Action Action
}

// Action is what an event does: *Packet, *Syscall, *Command or *Code.
type Action interface {
	Position() Pos
	action()
}

// Direction is a packet's direction as the script sees it.
type Direction int

const (
	// Inbound ('<'): the harness injects the packet into the target.
	Inbound Direction = iota
	// Outbound ('>'): the target must send a matching packet.
	Outbound
)

func (d Direction) String() string {
	if d == Inbound {
		return "<"
	}
	return ">"
}

// Protocol is the transport of a packet line.
type Protocol int

const (
	TCP Protocol = iota
	UDP
	ICMP
)

// ECN is an ECN spec in an ip-info block.
type ECN int

const (
	ECNUnset ECN = iota
	NoECN
	ECT0
	ECT1
	CE
	ECT01 // ECT(0) or ECT(1); outbound only
)

// IPInfo is an optional "[...]" or "(...)" block of IP header fields; nil
// pointers and ECNUnset mean "not written".
type IPInfo struct {
	ECN ECN
	TOS *uint8
	// TOSWord is the word that set TOS: "tos", or nplab's "class" for the
	// IPv6 traffic class. Both set the same header byte.
	TOSWord   string
	FlowLabel *uint32
	TTL       *uint8
	// TTLWord is the word that set TTL: "ttl", or nplab's "hlim" for the
	// IPv6 hop limit. Both set the same header byte.
	TTLWord string
}

// Encap is one encapsulation prefix ("ipv4 A > B:", "gre ...:", "mpls
// ...:"). The harness parses them but runs none yet; Text is the source.
type Encap struct {
	Pos  Pos
	Kind string // "ipv4", "ipv6", "gre" or "mpls"
	// Src and Dst are the outer addresses of an ipv4/ipv6 prefix.
	Src, Dst netip.Addr
	Text     string
}

// Ports are explicit "sport>dport" ports on a packet line.
type Ports struct {
	Src, Dst uint16
}

// Packet is a packet line.
type Packet struct {
	Pos    Pos
	Dir    Direction
	Proto  Protocol
	Encaps []Encap
	IP     IPInfo
	// PSPSPI is set for "encap psp spi N".
	PSPSPI *uint32
	Ports  *Ports

	// TCP fields.
	Flags wire.Flags
	// ACE is the AccECN 3-bit field written as a digit after '.', or -1.
	ACE int
	// Seq is "start:end(len)", relative to the ISN of the sending side
	// (absolute on SYNs); End == Start + Len is checked.
	SeqStart, SeqEnd uint32
	Len              int
	// AbsSeq is nplab's "start:end(len)!": the numbers are absolute, not
	// relative to the sender's ISN.
	AbsSeq bool
	// AnySeq is nplab's "...(len)": any sequence number matches (SeqStart
	// is 0 and SeqEnd is Len).
	AnySeq bool
	Ack    *uint32 // nil when not written (then 0)
	Win    *uint16 // nil when not written (outbound: not checked)
	Urg    *uint16 // nil when not written (then 0)
	// Options are the TCP options in wire order; AnyOptions is "<...>".
	// MD5, FO, FOEXP and AccECN options appear as wire.Unknown.
	Options    []wire.Option
	HasOptions bool
	AnyOptions bool
	// MD5Valid is nplab's "md5 valid": the md5 option (16 zero bytes in
	// Options) must carry the digest computed with the connection's key.
	MD5Valid bool
	// UDPEncap is nplab's "/udp(sport > dport)" after a TCP packet: the
	// segment travels inside a UDP datagram with these ports (FreeBSD's
	// UDP tunnelling of TCP).
	UDPEncap *Ports

	// UDP: Len is the payload length.

	// ICMP fields.
	ICMPType, ICMPCode string
	MTU, ID            *uint32
	Echoed             *Echoed

	// Undefined lists the upper-case words written where a value was
	// expected (an FO cookie, an ICMP type or code) that no -D definition
	// replaced, such as TFO_COOKIE or CODE: the script can be read, but it
	// cannot run until they are defined.
	Undefined []*Symbol
}

// Echoed is the offending packet an ICMP error quotes: "[1:1001(1000)]",
// "[udp (1000)]" or "[raw (N)]".
type Echoed struct {
	Proto            string // "tcp", "udp" or "raw"
	SeqStart, SeqEnd uint32
	Len              int
	// UDPEncap is nplab's "/udp(sport > dport)" after an echoed TCP range.
	UDPEncap *Ports
}

// Syscall is a system call line: name(args) = result [ERRNO (note)].
type Syscall struct {
	Pos    Pos
	Name   string
	Args   []Expr
	Result Expr
	// Errno is the expected errno symbol ("EINPROGRESS"), or "".
	Errno string
	// Note is the free text in parentheses after the result, never compared.
	Note string
}

// Command is a back-quoted shell command.
type Command struct {
	Pos Pos
	Cmd string
}

// Code is a "%{ ... }%" block (Python in packetdrill; assertions here).
type Code struct {
	Pos  Pos
	Text string
}

func (p *Packet) Position() Pos  { return p.Pos }
func (s *Syscall) Position() Pos { return s.Pos }
func (c *Command) Position() Pos { return c.Pos }
func (c *Code) Position() Pos    { return c.Pos }
func (*Packet) action()          {}
func (*Syscall) action()         {}
func (*Command) action()         {}
func (*Code) action()            {}

// Expr is a system call argument or result.
type Expr interface {
	Position() Pos
	String() string
	expr()
}

// Ellipsis is "...": the harness fills the argument in.
type Ellipsis struct{ Pos Pos }

// Int is an integer literal (decimal, 0x hex, negative).
type Int struct {
	Pos   Pos
	Value int64
	Text  string
}

// Symbol is a named constant (SOCK_STREAM, O_NONBLOCK, EINPROGRESS...).
type Symbol struct {
	Pos  Pos
	Name string
	// Option is 1 + the index in Packet.Options of the option whose value
	// the symbol stands for (a Fast Open cookie), or 0.
	Option int
}

// String is a quoted string, concatenated when several are juxtaposed;
// Prefix is set for the '"abc"...' form.
type String struct {
	Pos    Pos
	Value  string
	Prefix bool
}

// BinaryOp is "a | b".
type BinaryOp struct {
	Pos  Pos
	Op   string
	L, R Expr
}

// Array is "[a, b]"; "[N]" (a pointer to an int) is an Array of one.
type Array struct {
	Pos   Pos
	Elems []Expr
}

// Struct is "{a, b}" or "{name=a, name=b}".
type Struct struct {
	Pos    Pos
	Fields []Expr
}

// Assign is "name=value" inside a struct, or "name(index)=value" as in
// msg_iov(1)=[...].
type Assign struct {
	Pos   Pos
	Name  string
	Index Expr // nil unless written
	Value Expr
}

// Call is a function-like form: inet_addr("..."), htons(8080).
type Call struct {
	Pos  Pos
	Name string
	Args []Expr
}

func (e *Ellipsis) Position() Pos { return e.Pos }
func (e *Int) Position() Pos      { return e.Pos }
func (e *Symbol) Position() Pos   { return e.Pos }
func (e *String) Position() Pos   { return e.Pos }
func (e *BinaryOp) Position() Pos { return e.Pos }
func (e *Array) Position() Pos    { return e.Pos }
func (e *Struct) Position() Pos   { return e.Pos }
func (e *Assign) Position() Pos   { return e.Pos }
func (e *Call) Position() Pos     { return e.Pos }
func (*Ellipsis) expr()           {}
func (*Int) expr()                {}
func (*Symbol) expr()             {}
func (*String) expr()             {}
func (*BinaryOp) expr()           {}
func (*Array) expr()              {}
func (*Struct) expr()             {}
func (*Assign) expr()             {}
func (*Call) expr()               {}

func (e *Ellipsis) String() string { return "..." }
func (e *Int) String() string {
	if e.Text != "" {
		return e.Text
	}
	return fmt.Sprint(e.Value)
}
func (e *Symbol) String() string { return e.Name }
func (e *String) String() string {
	if e.Prefix {
		return fmt.Sprintf("%q...", e.Value)
	}
	return fmt.Sprintf("%q", e.Value)
}
func (e *BinaryOp) String() string { return e.L.String() + e.Op + e.R.String() }
func (e *Array) String() string    { return "[" + joinExprs(e.Elems) + "]" }
func (e *Struct) String() string   { return "{" + joinExprs(e.Fields) + "}" }
func (e *Assign) String() string {
	if e.Index != nil {
		return fmt.Sprintf("%s(%v)=%v", e.Name, e.Index, e.Value)
	}
	return e.Name + "=" + e.Value.String()
}
func (e *Call) String() string { return e.Name + "(" + joinExprs(e.Args) + ")" }

func joinExprs(es []Expr) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.String()
	}
	return strings.Join(s, ", ")
}
