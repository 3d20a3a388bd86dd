package expectations

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"
)

var synAck = Observed{
	Segment: wire.Segment{
		IP:      wire.IP{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), TTL: 64},
		SrcPort: 8080, DstPort: 40000, Seq: 5000, Ack: 1001, Flags: wire.SYN | wire.ACK, Window: 29200,
		Options: []wire.Option{wire.MSS(1460), wire.SACKPermitted{}},
	},
	At:   1500 * time.Microsecond,
	Base: Base{ISS: 5000, KnownISS: true, IRS: 1000, KnownIRS: true},
}

func TestEveryMismatchedFieldIsListed(t *testing.T) {
	m := BeSegment(Flags(wire.RST|wire.ACK), Seq(1), Ack(1), Window(0), HasOption(wire.MSS(536)), NoOption(wire.KindSACKPermitted))
	ok, err := m.Match(synAck)
	if ok || err != nil {
		t.Fatalf("Match = %v, %v", ok, err)
	}
	want := `segment does not match
  expected  flags R., seq ISS+1, ack IRS+1, win 0, option mss 536, option no sackOK
  actual    192.0.2.1.8080 > 192.0.2.2.40000: Flags [S.], seq 5000, ack 1001, win 29200, options [mss 1460,sackOK], length 0 (at +0.001500 s)
  fields    flags: want R. got S.
            seq: want ISS+1 got ISS+0 (5000)
            win: want 0 got 29200
            option: want mss 536 got mss 1460
            option: want no sackOK got sackOK`
	if got := m.FailureMessage(synAck); got != want {
		t.Errorf("FailureMessage\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestMatchingFields(t *testing.T) {
	g := gomega.NewGomega(func(msg string, _ ...int) { t.Fatal(msg) })
	g.Expect(synAck).To(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1), SeqNum(5000), AckNum(1001),
		HasOptionKind(wire.KindMSS), HasOption(wire.MSS(1460)), WindowNonZero(), PayloadLen(0), Payload(nil),
		Options(wire.MSS(1460), wire.SACKPermitted{}), TTL(64), ECN(0), At(time.Millisecond, time.Millisecond),
		FlagsInclude(wire.SYN)))
	g.Expect(synAck.Segment).To(BeSegment(Flags(wire.SYN | wire.ACK)))
	g.Expect(synAck).NotTo(BeSegment(Flags(wire.RST)))
	g.Expect(synAck).To(gomega.Or(BeSegment(Flags(wire.RST)), BeSegment(Seq(0))))
	g.Expect(state.SynReceived).To(BeInState(state.SynReceived))
}

func TestRelativeNumbersNeedTheirBase(t *testing.T) {
	o := synAck
	o.Base = Base{}
	m := BeSegment(Seq(0), Ack(1))
	want := `segment does not match
  expected  seq ISS+0, ack IRS+1
  actual    192.0.2.1.8080 > 192.0.2.2.40000: Flags [S.], seq 5000, ack 1001, win 29200, options [mss 1460,sackOK], length 0 (at +0.001500 s)
  fields    seq: want ISS+0 got 5000, and the target's ISS is not known yet
            ack: want IRS+1 got 1001, and the peer's ISN is not known`
	if got := m.FailureMessage(o); got != want {
		t.Errorf("FailureMessage\n got:\n%s\nwant:\n%s", got, want)
	}
	rst := synAck
	rst.Segment.Flags = wire.RST
	if got := BeSegment(Ack(1)).FailureMessage(rst); !contains(got, "ack: want IRS+1 got none (ACK bit clear)") {
		t.Errorf("ACK-less segment:\n%s", got)
	}
	if got := BeSegment(Seq(-3)).String(); got != "seq ISS-3" {
		t.Errorf("negative offset prints %q", got)
	}
}

func TestOtherMessages(t *testing.T) {
	if _, err := BeSegment().Match(42); err == nil || err.Error() != "expected an expectations.Observed or wire.Segment, got int" {
		t.Errorf("Match(42): %v", err)
	}
	if got := BeSegment(Flags(wire.SYN | wire.ACK)).NegatedFailureMessage(synAck); !contains(got, "not expected  flags S.") {
		t.Errorf("negated: %s", got)
	}
	want := "connection state does not match\n  expected  ESTABLISHED\n  actual    SYN-RECEIVED"
	if got := BeInState(state.Established).FailureMessage(state.SynReceived); got != want {
		t.Errorf("state message %q", got)
	}
	if _, err := BeInState(state.Closed).Match("CLOSED"); err == nil {
		t.Error("BeInState must reject a string")
	}
	if got := BeSegment(Payload([]byte("hi"))).FailureMessage(synAck); !contains(got, `payload: want 2 bytes "hi" got 0 bytes ""`) {
		t.Errorf("payload message:\n%s", got)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
