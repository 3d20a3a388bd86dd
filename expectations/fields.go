package expectations

import (
	"bytes"
	"fmt"
	"reflect"
	"time"

	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/wire"
)

// Field is one checked property of a segment. Fields the spec does not name
// are not checked: "don't care" is the absence of a Field, never a zero value.
type Field interface {
	// Name is the field's name in failure messages ("flags", "ack").
	Name() string
	// Want describes the expected value, relative where that reads better.
	Want() string
	// check returns whether o has the field as wanted, and what o has.
	check(o Observed) (ok bool, got string)
}

type field struct {
	name string
	want string
	fn   func(o Observed) (bool, string)
}

func (f field) Name() string                    { return f.name }
func (f field) Want() string                    { return f.want }
func (f field) check(o Observed) (bool, string) { return f.fn(o) }
func mk(name, want string, fn func(Observed) (bool, string)) Field {
	return field{name: name, want: want, fn: fn}
}

// Flags wants exactly the control bits f: no more, no fewer.
func Flags(f wire.Flags) Field {
	return mk("flags", f.String(), func(o Observed) (bool, string) {
		return o.Segment.Flags == f, o.Segment.Flags.String()
	})
}

// FlagsInclude wants at least the control bits f; others may be set too.
func FlagsInclude(f wire.Flags) Field {
	return mk("flags", "at least "+f.String(), func(o Observed) (bool, string) {
		return o.Segment.Flags.Has(f), o.Segment.Flags.String()
	})
}

// Seq wants the sequence number ISS+off, relative to the target's initial
// send sequence number. Seq(0) on a SYN is the ISS itself.
func Seq(off int64) Field {
	return mk("seq", relWant("ISS", off), func(o Observed) (bool, string) {
		got := o.Base.relSeq(o.Segment.Seq)
		if !o.Base.KnownISS {
			return false, got + ", and the target's ISS is not known yet"
		}
		return o.Segment.Seq == o.Base.ISS.Add(seq.Size(off)), got
	})
}

// SeqNum wants the absolute sequence number v.
func SeqNum(v seq.Value) Field {
	return mk("seq", fmt.Sprint(uint32(v)), func(o Observed) (bool, string) {
		return o.Segment.Seq == v, fmt.Sprint(uint32(o.Segment.Seq))
	})
}

// Ack wants the ACK bit and the acknowledgment number IRS+off, relative to the
// peer's initial sequence number: Ack(1) acknowledges the peer's SYN.
func Ack(off int64) Field {
	return ackField(relWant("IRS", off), func(o Observed) (bool, string) {
		got := o.Base.relAck(o.Segment.Ack)
		if !o.Base.KnownIRS {
			return false, got + ", and the peer's ISN is not known"
		}
		return o.Segment.Ack == o.Base.IRS.Add(seq.Size(off)), got
	})
}

// AckNum wants the ACK bit and the absolute acknowledgment number v.
func AckNum(v seq.Value) Field {
	return ackField(fmt.Sprint(uint32(v)), func(o Observed) (bool, string) {
		return o.Segment.Ack == v, fmt.Sprint(uint32(o.Segment.Ack))
	})
}

// ackField checks the acknowledgment number with fn, once the ACK bit is
// known to be set: without it the field carries no acknowledgment.
func ackField(want string, fn func(Observed) (bool, string)) Field {
	return mk("ack", want, func(o Observed) (bool, string) {
		if o.Segment.Flags&wire.ACK == 0 {
			return false, "none (ACK bit clear)"
		}
		return fn(o)
	})
}

// AckField wants the acknowledgment field to hold v even where the ACK bit is
// clear. RFC 9293 section 3.10.7.1 has a reset to a segment without ACK carry
// ACK set; this is for checking stacks that zero the field.
func AckField(v seq.Value) Field {
	return mk("ack", fmt.Sprint(uint32(v)), func(o Observed) (bool, string) {
		return o.Segment.Ack == v, fmt.Sprint(uint32(o.Segment.Ack))
	})
}

// Window wants the raw (unscaled) window field w.
func Window(w uint16) Field {
	return mk("win", fmt.Sprint(w), func(o Observed) (bool, string) {
		return o.Segment.Window == w, fmt.Sprint(o.Segment.Window)
	})
}

// WindowNonZero wants an open window.
func WindowNonZero() Field {
	return mk("win", "> 0", func(o Observed) (bool, string) {
		return o.Segment.Window > 0, fmt.Sprint(o.Segment.Window)
	})
}

// TSEcr wants a timestamps option whose TSecr is v: the TS.Recent the
// segment echoes (RFC 7323 section 4.3). A segment with no timestamps
// option passes; whether it should carry one is the options' check.
func TSEcr(v uint32) Field {
	return mk("TS ecr", fmt.Sprint(v), func(o Observed) (bool, string) {
		opt, ok := o.Segment.Option(wire.KindTimestamps)
		if !ok {
			return true, "no timestamps"
		}
		got := opt.(wire.Timestamps).Ecr
		return got == v, fmt.Sprint(got)
	})
}

// Payload wants exactly the bytes p as data.
func Payload(p []byte) Field {
	return mk("payload", fmt.Sprintf("%d bytes %q", len(p), clip(p)), func(o Observed) (bool, string) {
		got := o.Segment.Payload
		return bytes.Equal(got, p), fmt.Sprintf("%d bytes %q", len(got), clip(got))
	})
}

// PayloadLen wants n bytes of data, whatever they are.
func PayloadLen(n int) Field {
	return mk("length", fmt.Sprint(n), func(o Observed) (bool, string) {
		return len(o.Segment.Payload) == n, fmt.Sprint(len(o.Segment.Payload))
	})
}

// HasOption wants the option opt, with exactly that value, somewhere in the
// option list.
func HasOption(opt wire.Option) Field {
	return mk("option", opt.String(), func(o Observed) (bool, string) {
		got, ok := o.Segment.Option(opt.Kind())
		if !ok {
			return false, "no " + opt.Kind().String() + ", options " + wire.OptionsString(o.Segment.Options)
		}
		return reflect.DeepEqual(got, opt), got.String()
	})
}

// HasOptionKind wants an option of kind k, whatever its value.
func HasOptionKind(k wire.OptionKind) Field {
	return mk("option", k.String()+" (any value)", func(o Observed) (bool, string) {
		got, ok := o.Segment.Option(k)
		if !ok {
			return false, "no " + k.String() + ", options " + wire.OptionsString(o.Segment.Options)
		}
		return true, got.String()
	})
}

// NoOption wants no option of kind k.
func NoOption(k wire.OptionKind) Field {
	return mk("option", "no "+k.String(), func(o Observed) (bool, string) {
		got, ok := o.Segment.Option(k)
		if ok {
			return false, got.String()
		}
		return true, "no " + k.String()
	})
}

// Options wants exactly the option list opts, in order.
func Options(opts ...wire.Option) Field {
	return mk("options", wire.OptionsString(opts), func(o Observed) (bool, string) {
		got := o.Segment.Options
		same := len(got) == len(opts)
		for i := 0; same && i < len(opts); i++ {
			same = reflect.DeepEqual(got[i], opts[i])
		}
		return same, wire.OptionsString(got)
	})
}

// TTL wants the IPv4 TTL or IPv6 hop limit n.
func TTL(n uint8) Field {
	return mk("ttl", fmt.Sprint(n), func(o Observed) (bool, string) {
		return o.Segment.IP.TTL == n, fmt.Sprint(o.Segment.IP.TTL)
	})
}

// ECN wants the ECN codepoint e in the IP header (RFC 3168 section 5).
func ECN(e uint8) Field {
	return mk("ecn", fmt.Sprint(e), func(o Observed) (bool, string) {
		return o.Segment.IP.ECN() == e, fmt.Sprint(o.Segment.IP.ECN())
	})
}

// At wants the segment to leave at t (since the start of the run), give or
// take tol: packetdrill's timing check.
func At(t, tol time.Duration) Field {
	return mk("time", fmt.Sprintf("+%.6f s ± %v", t.Seconds(), tol), func(o Observed) (bool, string) {
		d := o.At - t
		return d <= tol && d >= -tol, fmt.Sprintf("+%.6f s", o.At.Seconds())
	})
}

func relWant(name string, off int64) string {
	if off < 0 {
		return fmt.Sprintf("%s%d", name, off)
	}
	return fmt.Sprintf("%s+%d", name, off)
}

func clip(b []byte) []byte {
	if len(b) > 24 {
		return b[:24]
	}
	return b
}

// Urgent wants the urgent pointer u.
func Urgent(u uint16) Field {
	return mk("urg", fmt.Sprint(u), func(o Observed) (bool, string) {
		return o.Segment.Urgent == u, fmt.Sprint(o.Segment.Urgent)
	})
}

// TOS wants the whole IPv4 TOS or IPv6 traffic class byte b.
func TOS(b uint8) Field {
	return mk("tos", fmt.Sprintf("0x%02x", b), func(o Observed) (bool, string) {
		return o.Segment.IP.TOS == b, fmt.Sprintf("0x%02x", o.Segment.IP.TOS)
	})
}

// ECT wants either ECN-capable codepoint, ECT(0) or ECT(1).
func ECT() Field {
	return mk("ecn", "1 or 2 (ECT)", func(o Observed) (bool, string) {
		e := o.Segment.IP.ECN()
		return e == 1 || e == 2, fmt.Sprint(e)
	})
}

// OptionsLike wants the option list opts kind for kind in order, with equal
// values, except that timestamp values are not compared (packetdrill does not
// compare TSval unless asked, and never TSecr).
func OptionsLike(opts ...wire.Option) Field {
	return mk("options", wire.OptionsString(opts), func(o Observed) (bool, string) {
		got := o.Segment.Options
		same := len(got) == len(opts)
		for i := 0; same && i < len(opts); i++ {
			if opts[i].Kind() == wire.KindTimestamps {
				same = got[i].Kind() == wire.KindTimestamps
				continue
			}
			same = reflect.DeepEqual(got[i], opts[i])
		}
		return same, wire.OptionsString(got)
	})
}
