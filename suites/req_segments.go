package suites

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/google/gopacket/pcapgo"
	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/seq"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// Requirements of RFC 9293 on the segment format, its options, the MSS, the
// checksum and the IP addresses and fields (sections 3.1, 3.2, 3.7.1, 3.8.2,
// 3.9.1 and 3.9.2), each checked on the wire.

// reqSegQuiet is how long a spec waits to see that the target sends nothing.
const reqSegQuiet = 200 * time.Millisecond

// reqSegLinkMTU is the MTU of both targets' links (netstack's channel link
// and the Linux TUN device).
const reqSegLinkMTU = 1500

// reqSegUnknownKind is an option kind no target implements: unassigned in
// IANA's registry of TCP option kinds.
const reqSegUnknownKind wire.OptionKind = 99

// reqSegNoTS are SYN options without timestamps. Segments of a connection
// opened with them carry no options, so a spec can build them by hand
// (buildSegment) with IP fields or bytes the Segment model cannot set.
func reqSegNoTS() []wire.Option {
	return []wire.Option{wire.MSS(1460), wire.SACKPermitted{}, wire.NOP{}, wire.WindowScale(7)}
}

func reqSegIs6(t *injector.T) bool { return t.Peer().Family() == injector.IPv6 }

// reqSegDefaultMSS is the send MSS RFC 9293 section 3.7.1 has a sender
// assume without an MSS option: 536 for IPv4, 1220 for IPv6.
func reqSegDefaultMSS(t *injector.T) int {
	if reqSegIs6(t) {
		return 1220
	}
	return 536
}

// reqSegIPHeader is the fixed IP header length of the peer's family.
func reqSegIPHeader(t *injector.T) int {
	if reqSegIs6(t) {
		return 40
	}
	return 20
}

// reqSegConnect runs an active open of a fresh socket of the target: it
// returns the socket (blocking again once connected), the peer's
// connection and the target's SYN. synack are the options of the peer's
// SYN,ACK; nil lets the peer choose.
func reqSegConnect(t *injector.T, fd int, synack []wire.Option) (*injector.TConn, expectations.Observed) {
	c := startConnect(t, fd)
	syn := c.Expect(BeSegment(FlagsInclude(wire.SYN), Seq(0)))
	if synack == nil {
		c.Send(wire.SYN | wire.ACK)
	} else {
		c.Send(wire.SYN|wire.ACK, injector.WithOptions(synack...))
	}
	c.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(1)))
	t.Expect(t.Sockets().SetNonblock(fd, false)).To(gm.Succeed())
	return c, syn
}

// reqSegReceive takes the target's segments until n octets of data have
// come in order, acknowledging each data segment. It returns every data
// segment, retransmissions of data already received included (a target may
// retransmit spuriously), and the data in order.
func reqSegReceive(t *injector.T, c *injector.TConn, n int) ([]expectations.Observed, []byte) {
	var segs []expectations.Observed
	var stream []byte
	for i := 0; len(stream) < n; i++ {
		if i > n/64+64 {
			t.Fatalf("%d of %d octets arrived in %d segments", len(stream), n, i)
		}
		next := c.RcvNxt
		o := c.Expect(BeSegment(FlagsInclude(wire.ACK)))
		s := o.Segment
		if len(s.Payload) == 0 {
			continue
		}
		if s.Seq.GreaterThan(next) {
			t.Fatalf("data beyond RCV.NXT %d: octets before it were never sent\n  actual    %v", uint32(next), o)
		}
		segs = append(segs, o)
		if fresh := int(c.RcvNxt.Distance(next)); fresh > 0 {
			stream = append(stream, s.Payload[len(s.Payload)-fresh:]...)
		}
		c.Send(wire.ACK)
	}
	return segs, stream
}

// reqSegOptionSpace is the header space a segment's options occupy, padding
// included (the decoder drops the zero padding after the last option).
func reqSegOptionSpace(s wire.Segment) int { return (wire.OptionsLen(s.Options) + 3) &^ 3 }

// reqSegSendAtMost has the application write n octets on fd and takes them
// on c (reqSegReceive), failing the spec if a segment carries more than mss
// octets of data. It returns what was written and what arrived.
func reqSegSendAtMost(t *injector.T, c *injector.TConn, fd, n, mss int, why string) (data, got []byte) {
	data = pattern(n, 'a')
	t.Write(fd, data)
	segs, got := reqSegReceive(t, c, n)
	for _, o := range segs {
		if n := len(o.Segment.Payload); n > mss {
			t.Fatalf("a data segment carries %d octets, more than the send MSS %d (%s)\n  actual    %v", n, mss, why, o)
		}
	}
	return data, got
}

// reqSegTake collects what the target sends on c within d, without
// expecting anything in particular.
func reqSegTake(t *injector.T, c *injector.TConn, d time.Duration) []expectations.Observed {
	t.Sleep(d)
	n := 0
	for _, a := range t.Peer().Pending() {
		if a.Segment.DstPort == c.PeerPort && (c.TargetPort == 0 || a.Segment.SrcPort == c.TargetPort) {
			n++
		}
	}
	var out []expectations.Observed
	for range n {
		out = append(out, c.Expect(BeSegment()))
	}
	return out
}

// reqSegAwait consumes segments on c until one matches m, letting pass
// pure ACKs that do not (window updates) and retransmissions of data
// already received.
func reqSegAwait(t *injector.T, c *injector.TConn, m *SegmentMatcher) expectations.Observed {
	for range 32 {
		o, err := c.TryExpect(t.Context(), m)
		if err == nil {
			return o
		}
		var nc *injector.Nonconformance
		if !errors.As(err, &nc) {
			t.Errorf("%v", err)
		}
		s := o.Segment
		old := len(s.Payload) > 0 && s.Seq.Add(seq.Size(len(s.Payload))).LessThanEq(c.RcvNxt)
		if !old && (s.Flags != wire.ACK || len(s.Payload) > 0) {
			t.Fatalf("%s", nc.Message)
		}
	}
	t.Fatalf("no segment matching %v among the next 32", m)
	return expectations.Observed{}
}

// reqSegInjectRaw hands raw IP datagram bytes to the target, and records
// them in the pcap.
func reqSegInjectRaw(t *injector.T, b []byte) {
	inst := t.Peer().Instance()
	t.Peer().Recorder().Add(inst.Clock().Now(), true, b)
	if err := inst.Link().Inject(b); err != nil {
		t.Errorf("inject raw packet: %v", err)
	}
}

// reqSegEncode encodes s.
func reqSegEncode(t *injector.T, s wire.Segment) []byte {
	b, err := wire.Encode(s)
	if err != nil {
		t.Errorf("encode %v: %v", s, err)
	}
	return b
}

// reqSegPkt is one captured IP datagram carrying TCP, read byte by byte
// rather than by the harness's decoder, so that the specs check the bytes
// themselves.
type reqSegPkt struct {
	raw          []byte
	src, dst     netip.Addr
	tcp          []byte // header and data
	opts         []byte // option space, padding included
	sport, dport uint16
	flags        wire.Flags
	payload      int
}

func (p reqSegPkt) String() string {
	return fmt.Sprintf("%s.%d > %s.%d flags [%v] options %x, length %d", p.src, p.sport, p.dst, p.dport, p.flags, p.opts, p.payload)
}

// reqSegParse reads an IPv4 or IPv6 datagram (without extension headers)
// carrying TCP.
func reqSegParse(b []byte) (reqSegPkt, bool) {
	var p reqSegPkt
	p.raw = b
	if len(b) < 20 {
		return p, false
	}
	switch b[0] >> 4 {
	case 4:
		ihl := int(b[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(b[2:]))
		if b[9] != syscall.IPPROTO_TCP || ihl < 20 || total > len(b) || total < ihl+20 {
			return p, false
		}
		p.src = netip.AddrFrom4([4]byte(b[12:16]))
		p.dst = netip.AddrFrom4([4]byte(b[16:20]))
		p.tcp = b[ihl:total]
	case 6:
		if len(b) < 60 || b[6] != syscall.IPPROTO_TCP {
			return p, false
		}
		plen := int(binary.BigEndian.Uint16(b[4:]))
		if 40+plen > len(b) || plen < 20 {
			return p, false
		}
		p.src = netip.AddrFrom16([16]byte(b[8:24]))
		p.dst = netip.AddrFrom16([16]byte(b[24:40]))
		p.tcp = b[40 : 40+plen]
	default:
		return p, false
	}
	off := int(p.tcp[12]>>4) * 4
	if off < 20 || off > len(p.tcp) {
		return p, false
	}
	p.sport = binary.BigEndian.Uint16(p.tcp[0:])
	p.dport = binary.BigEndian.Uint16(p.tcp[2:])
	p.flags = wire.Flags(binary.BigEndian.Uint16(p.tcp[12:]) & 0x1ff)
	p.opts = p.tcp[20:off]
	p.payload = len(p.tcp) - off
	return p, true
}

// reqSegSum is the ones'-complement sum (RFC 1071) of the TCP pseudo-header
// (RFC 9293 section 3.1 for IPv4, RFC 8200 section 8.1 for IPv6) and the
// TCP header and data: 0xffff when the checksum in the header is right.
func reqSegSum(p reqSegPkt) uint16 {
	var pseudo []byte
	n := len(p.tcp)
	if p.src.Is4() {
		s, d := p.src.As4(), p.dst.As4()
		pseudo = append(append(pseudo, s[:]...), d[:]...)
		pseudo = append(pseudo, 0, syscall.IPPROTO_TCP, byte(n>>8), byte(n))
	} else {
		s, d := p.src.As16(), p.dst.As16()
		pseudo = append(append(pseudo, s[:]...), d[:]...)
		pseudo = append(pseudo, byte(n>>24), byte(n>>16), byte(n>>8), byte(n), 0, 0, 0, syscall.IPPROTO_TCP)
	}
	return reqSegOnes(reqSegOnes(0, pseudo), p.tcp)
}

func reqSegOnes(initial uint16, b []byte) uint16 {
	sum := uint32(initial)
	for ; len(b) >= 2; b = b[2:] {
		sum += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

// reqSegFixChecksum recomputes the TCP checksum of a datagram whose TCP
// bytes were changed.
func reqSegFixChecksum(t *injector.T, b []byte) {
	p, ok := reqSegParse(b)
	if !ok {
		t.Errorf("reqSegFixChecksum: not a TCP datagram: %x", b)
	}
	p.tcp[16], p.tcp[17] = 0, 0
	binary.BigEndian.PutUint16(p.tcp[16:], ^reqSegSum(p))
}

// reqSegTargetPackets returns every datagram the target sent during the
// case, from the run's pcap: those addressed to the peer.
func reqSegTargetPackets(t *injector.T) []reqSegPkt {
	t.Peer().Pending() // move everything sent so far into the recording
	b, err := t.Peer().Recorder().Bytes()
	if err != nil {
		t.Errorf("pcap: %v", err)
	}
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Errorf("pcap: %v", err)
	}
	var out []reqSegPkt
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("pcap: %v", err)
		}
		p, ok := reqSegParse(append([]byte(nil), data...))
		if ok && p.dst == t.Peer().LocalAddr() {
			out = append(out, p)
		}
	}
	return out
}

// reqSegOpt is one option as found in the option space.
type reqSegOpt struct {
	kind    wire.OptionKind
	at, len int
}

// reqSegWalk walks an option space the way RFC 9293 section 3.1 lays it
// out. It returns the options and, in trouble, what is wrong with them:
// an option other than EOL and NOP without a length, with a length under
// two or running past the option space (MUST-68), and non-zero octets after
// EOL (MUST-69).
func reqSegWalk(b []byte) (opts []reqSegOpt, trouble []string) {
	for i := 0; i < len(b); {
		k := wire.OptionKind(b[i])
		switch k {
		case wire.KindEOL:
			opts = append(opts, reqSegOpt{kind: k, at: i, len: 1})
			for j := i + 1; j < len(b); j++ {
				if b[j] != 0 {
					trouble = append(trouble, fmt.Sprintf("octet %d after EOL (at %d) is 0x%02x, not zero padding", j, i, b[j]))
					break
				}
			}
			return opts, trouble
		case wire.KindNOP:
			opts = append(opts, reqSegOpt{kind: k, at: i, len: 1})
			i++
			continue
		}
		if i+1 >= len(b) {
			return opts, append(trouble, fmt.Sprintf("option %v at %d has no length octet", k, i))
		}
		l := int(b[i+1])
		if l < 2 || i+l > len(b) {
			return opts, append(trouble, fmt.Sprintf("option %v at %d has length %d with %d octets of option space left", k, i, l, len(b)-i))
		}
		opts = append(opts, reqSegOpt{kind: k, at: i, len: l})
		i += l
	}
	return opts, trouble
}

// reqSegSession plays a connection of each kind with the target: a passive
// one to a listener on the wildcard address (so that the target picks its
// local address), with data in order and out of order (drawing SACK
// blocks where negotiated), data from the target, and a close; then an
// active one with data and a close. Specs check the captured segments.
func reqSegSession(t *injector.T) {
	lfd := listenAny(t, servicePort)
	c, fd, _ := passiveOpen(t, lfd, injector.DefaultWindow, injector.WithOptions(injector.DefaultSYNOptions()...))
	c.Send(wire.PSH|wire.ACK, injector.WithPayload(pattern(100, 'a')))
	reqSegAwait(t, c, BeSegment(FlagsInclude(wire.ACK), AckNum(c.SndNxt)))
	hole := c.SndNxt
	c.Send(wire.PSH|wire.ACK, injector.WithSeq(hole.Add(100)), injector.WithPayload(pattern(100, 'a')))
	reqSegAwait(t, c, BeSegment(FlagsInclude(wire.ACK), AckNum(hole)))
	c.Send(wire.PSH|wire.ACK, injector.WithSeq(hole), injector.WithPayload(pattern(100, 'a')))
	reqSegAwait(t, c, BeSegment(FlagsInclude(wire.ACK), AckNum(c.SndNxt)))
	readFull(t, fd, 300)
	// An odd length, so that the checksum covers a padded last octet.
	t.Write(fd, pattern(1001, 'a'))
	reqSegReceive(t, c, 1001)
	t.Shutdown(fd, syscall.SHUT_WR)
	reqSegAwait(t, c, BeSegment(FlagsInclude(wire.FIN|wire.ACK)))
	c.Send(wire.FIN | wire.ACK)
	reqSegAwait(t, c, BeSegment(Flags(wire.ACK), AckNum(c.SndNxt)))

	afd := t.Socket()
	a, _ := reqSegConnect(t, afd, nil)
	t.Write(afd, pattern(11, 'a'))
	reqSegReceive(t, a, 11)
	t.Close(afd)
	reqSegAwait(t, a, BeSegment(FlagsInclude(wire.FIN|wire.ACK)))
	a.Send(wire.FIN | wire.ACK)
	reqSegAwait(t, a, BeSegment(Flags(wire.ACK), AckNum(a.SndNxt)))
}

// Section 3.1, Window field: it is an unsigned 16-bit number, so 65535
// (unscaled: the peer offers no window scaling) is the largest window, not
// a negative one. The target must send into it, come to have more than
// 32767 octets (the largest positive signed value) in flight as its
// congestion window opens, and never send beyond it.
var _ = check([]string{"MUST-1"}, "3.1", "an unscaled window of 65535 is read as unsigned: data flows into it, past 32767 octets in flight, never beyond", injector.Needs{},
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		if err := t.Sockets().SetsockoptInt(lfd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 1<<20); errors.Is(err, syscall.ENOPROTOOPT) {
			t.Skipf("a send buffer large enough for 65535 octets in flight is needed: SO_SNDBUF: %v", err)
		} else {
			t.Expect(err).To(gm.Succeed())
		}
		c, fd, _ := passiveOpen(t, lfd, injector.DefaultWindow, injector.WithOptions(wire.MSS(1460)))
		t.Expect(c.Window).To(gm.Equal(uint16(65535)))
		t.Expect(t.Sockets().SetNonblock(fd, true)).To(gm.Succeed())
		data := pattern(1<<19, 'a')
		acked := c.RcvNxt // what the peer has acknowledged, with window 65535
		start, written := acked, 0
		// push keeps two to three windows of data queued, no more. The
		// data of a write travels to an agent's stack over its control
		// line (in pieces of 1 KB over UML's serial line), so writing all
		// that is left at every round held the acknowledgment back past
		// the target's retransmission timeout: a spurious timeout halved
		// ssthresh and the window then opened by a segment a round only.
		push := func() {
			queued := written - int(acked.Distance(start))
			if queued >= 2*65535 {
				return
			}
			n, err := t.Sockets().Write(t.Context(), fd, data[:min(len(data), 3*65535-queued)])
			if err != nil && !errors.Is(err, syscall.EAGAIN) {
				t.Fatalf("write(): %v", err)
			}
			data, written = data[n:], written+n
		}
		settle := 50 * time.Millisecond
		if t.Peer().Instance().Clock().Virtual() {
			settle = time.Millisecond
		}
		var most seq.Size
		push()
		for round := 0; round < 10 && most <= 32767; round++ {
			first, err := c.TryExpect(t.Context(), BeSegment(FlagsInclude(wire.ACK)))
			if err != nil {
				t.Fatalf("round %d, %d octets in flight at most so far: the target stopped sending under a window of 65535\n%v", round, most, err)
			}
			burst := []expectations.Observed{first}
			burst = append(burst, reqSegTake(t, c, settle)...)
			for _, o := range burst {
				end := o.Segment.Seq.Add(seq.Size(len(o.Segment.Payload)))
				flight := end.Distance(acked)
				if flight > 65535 {
					t.Fatalf("the target sent past the window: %d octets beyond the last acknowledgment, window 65535\n  actual    %v", flight, o)
				}
				most = max(most, flight)
			}
			c.Send(wire.ACK)
			acked = c.RcvNxt
			push()
		}
		if most <= 32767 {
			t.Fatalf("after ten round trips under a window of 65535 the target never had more than %d octets in flight", most)
		}
	})

// Section 3.1, Checksum field: the sender computes the checksum over the
// pseudo-header, the TCP header and the data. Every segment the target sent
// in a session is checked here byte by byte, independently of the harness's
// decoder, and the session holds at least one data segment, of odd length.
var _ = check([]string{"MUST-2"}, "3.1", "every segment the target sends, data segments included, has a correct TCP checksum", injector.Needs{},
	func(t *injector.T) {
		reqSegSession(t)
		data := 0
		var bad []string
		for _, p := range reqSegTargetPackets(t) {
			if p.payload > 0 {
				data++
			}
			if sum := reqSegSum(p); sum != 0xffff {
				bad = append(bad, fmt.Sprintf("%v: checksum 0x%04x is off by 0x%04x", p, binary.BigEndian.Uint16(p.tcp[16:]), ^sum))
			}
		}
		if data == 0 {
			t.Errorf("the session captured no data segment from the target")
		}
		if len(bad) > 0 {
			t.Fatalf("segments with a wrong TCP checksum:\n  %s", strings.Join(bad, "\n  "))
		}
	})

// Section 3.1, Checksum field: a receiver verifies the checksum and drops
// a segment whose checksum is wrong: a SYN to a listener draws no SYN,ACK
// and no RST, and in-window data draws no ACK and is not delivered. The
// same segments with a good checksum then work.
var _ = check([]string{"MUST-3"}, "3.1", "segments with a bad checksum are discarded: a SYN and in-window data draw nothing and deliver nothing", withState,
	func(t *injector.T) {
		bad := injector.WithFaults(wire.Faults{BadTCPChecksum: true})
		lfd := t.Listen(servicePort)
		c := t.Dial(servicePort)
		c.Send(wire.SYN, bad)
		c.ExpectNothing(reqSegQuiet)
		c.Send(wire.SYN, injector.WithSeq(c.ISN))
		c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1)))
		c.Send(wire.ACK)
		fd := t.Accept(lfd)
		t.Expect(t.Sockets().SetNonblock(fd, true)).To(gm.Succeed())

		data := []byte("corrupted on the way")
		at := c.SndNxt
		c.Send(wire.PSH|wire.ACK, injector.WithPayload(data), bad)
		c.ExpectNothing(reqSegQuiet)
		_, err := t.Sockets().Read(t.Context(), fd, 100)
		t.Expect(err).To(gm.MatchError(syscall.EAGAIN), "read() after data with a bad checksum")
		t.Expect(c.State()).To(BeInState(state.Established))

		c.Send(wire.PSH|wire.ACK, injector.WithSeq(at), injector.WithPayload(data))
		c.Expect(BeSegment(Flags(wire.ACK), Seq(1), AckNum(c.SndNxt), PayloadLen(0)))
		t.Expect(t.Read(fd, 100)).To(gm.Equal(data))
	})

// Section 3.1, Options: EOL, NOP and MSS are the options every TCP
// implementation supports. A SYN with NOP, NOP, MSS 600, EOL opens the
// connection, and the target's data segments then carry at most 600
// octets.
var _ = check([]string{"MUST-4"}, "3.1", "a SYN with NOP,NOP,MSS 600,EOL opens the connection and the target's segments respect MSS 600", injector.Needs{},
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		c, fd, _ := passiveOpen(t, lfd, injector.DefaultWindow, injector.WithOptions(wire.NOP{}, wire.NOP{}, wire.MSS(600), wire.EOL{}))
		data, got := reqSegSendAtMost(t, c, fd, 3000, 600, "the peer's SYN carried NOP,NOP,MSS 600,EOL")
		t.Expect(got).To(gm.Equal(data))
	})

// Section 3.1, Options: options may appear on any segment, not only on a
// SYN. A data segment whose option list has NOPs and an EOL besides the
// timestamps is acknowledged and delivered, and its timestamp is taken:
// the ACK echoes it (RFC 7323 section 4.3).
var _ = check([]string{"MUST-5"}, "3.1", "options on a data segment (NOPs, timestamps, EOL) are accepted: the data is acknowledged and delivered", injector.Needs{},
	func(t *injector.T) {
		c, fd := acceptConn(t)
		opts := []wire.Option{wire.NOP{}, wire.NOP{}, wire.NOP{}, wire.EOL{}}
		if c.Timestamps() {
			opts = []wire.Option{wire.NOP{}, wire.NOP{}, wire.Timestamps{}, wire.NOP{}, wire.NOP{}, wire.NOP{}, wire.EOL{}}
		}
		data := []byte("options on a segment without SYN")
		sent := c.Send(wire.PSH|wire.ACK, injector.WithPayload(data), injector.WithOptions(opts...))
		ack := c.Expect(BeSegment(Flags(wire.ACK), Seq(1), AckNum(c.SndNxt), PayloadLen(0)))
		if c.Timestamps() {
			ours, _ := sent.Option(wire.KindTimestamps)
			theirs, ok := ack.Segment.Option(wire.KindTimestamps)
			if !ok || theirs.(wire.Timestamps).Ecr != ours.(wire.Timestamps).Val {
				t.Fatalf("the ACK does not echo the timestamp of the data segment (TSval %d)\n  actual    %v", ours.(wire.Timestamps).Val, ack)
			}
		}
		t.Expect(t.Read(fd, 100)).To(gm.Equal(data))
	})

// reqSegOpenEchoed runs a passive open on lfd whose SYN carries exactly opts
// and, where the target answers with timestamps, checks that its SYN,ACK
// echoes the SYN's TSval; where tells, for the failure, where the SYN's
// timestamps option stood. It returns the connection and the accepted
// socket.
func reqSegOpenEchoed(t *injector.T, lfd int, where string, opts ...wire.Option) (*injector.TConn, int) {
	c := t.Dial(servicePort)
	syn := c.Send(wire.SYN, injector.WithOptions(opts...))
	synack := c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1)))
	if o, ok := synack.Segment.Option(wire.KindTimestamps); ok {
		ours, _ := syn.Option(wire.KindTimestamps)
		if o.(wire.Timestamps).Ecr != ours.(wire.Timestamps).Val {
			t.Fatalf("the SYN,ACK does not echo the SYN's TSval %d, %s\n  actual    %v", ours.(wire.Timestamps).Val, where, synack)
		}
	}
	c.Send(wire.ACK)
	return c, t.Accept(lfd)
}

// Section 3.1, Options: an option the receiver does not implement, but
// which has a length, is skipped by that length and ignored. On a SYN
// before the MSS option it leaves the MSS honoured (and the timestamps
// after it echoed); on a data segment the data is acknowledged and
// delivered.
var _ = check([]string{"MUST-6"}, "3.1", "an unknown option with a length is ignored, on a SYN and on a data segment", injector.Needs{},
	func(t *injector.T) {
		unknown := wire.Unknown{Type: reqSegUnknownKind, Data: []byte{0xde, 0xad, 0xbe, 0xef, 0x01, 0x02}}
		c, fd := reqSegOpenEchoed(t, t.Listen(servicePort), "which followed the unknown option",
			unknown, wire.MSS(700), wire.SACKPermitted{}, wire.Timestamps{}, wire.NOP{}, wire.WindowScale(7))
		reqSegSendAtMost(t, c, fd, 3000, 700, "MSS 700 followed an unknown option on the peer's SYN")

		in := []byte("unknown option on a data segment")
		opts := []wire.Option{wire.NOP{}, wire.NOP{}, wire.Unknown{Type: reqSegUnknownKind, Data: []byte{1, 2}}}
		if c.Timestamps() {
			opts = []wire.Option{wire.NOP{}, wire.NOP{}, wire.Timestamps{}, wire.Unknown{Type: reqSegUnknownKind, Data: []byte{1, 2}}}
		}
		c.Send(wire.PSH|wire.ACK, injector.WithPayload(in), injector.WithOptions(opts...))
		reqSegAwait(t, c, BeSegment(Flags(wire.ACK), AckNum(c.SndNxt), PayloadLen(0)))
		t.Expect(t.Read(fd, 100)).To(gm.Equal(in))
	})

// reqSegBadLength is a datagram of s whose option at byte at of the option
// space has its length octet set to l, checksum fixed.
func reqSegBadLength(t *injector.T, s wire.Segment, at int, l byte) []byte {
	b := reqSegEncode(t, s)
	b[reqSegIPHeader(t)+20+at+1] = l
	reqSegFixChecksum(t, b)
	return b
}

// Section 3.1, Options: an illegal option length, such as zero, must be
// handled safely (resetting the connection is suggested). Whatever the
// target makes of SYNs with option lengths of 0, 1 and one running past
// the header, and of a data segment with an option length of 0, it may
// answer only with a reset or the normal reply, it must not deliver the data
// twice, and it must go on working: the connection (unless reset) and a new
// one both carry data.
var _ = check([]string{"MUST-7"}, "3.1", "illegal option lengths (0, 1, past the header) are handled safely: the target answers sanely and keeps working", injector.Needs{},
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		for _, l := range []byte{0, 1, 40} {
			c := t.Dial(servicePort)
			s := buildSegment(t, c, wire.SYN, []wire.Option{wire.MSS(1460), wire.Unknown{Type: reqSegUnknownKind, Data: []byte{0, 0}}}, nil)
			reqSegInjectRaw(t, reqSegBadLength(t, s, 4, l))
			for _, o := range reqSegTake(t, c, reqSegQuiet) {
				if f := o.Segment.Flags; f&wire.RST == 0 && (f != wire.SYN|wire.ACK || o.Segment.Ack != c.ISN.Add(1)) {
					t.Fatalf("a SYN with an option of length %d drew neither a reset nor a SYN,ACK for it\n  actual    %v", l, o)
				}
			}
		}

		c, fd, _ := passiveOpen(t, lfd, injector.DefaultWindow, injector.WithOptions(reqSegNoTS()...))
		t.Expect(t.Sockets().SetNonblock(fd, true)).To(gm.Succeed())
		data := []byte("option of length zero")
		s := buildSegment(t, c, wire.PSH|wire.ACK, []wire.Option{wire.Unknown{Type: reqSegUnknownKind, Data: []byte{0, 0}}}, data)
		reqSegInjectRaw(t, reqSegBadLength(t, s, 0, 0))
		reset := false
		for _, o := range reqSegTake(t, c, reqSegQuiet) {
			switch f := o.Segment.Flags; {
			case f&wire.RST != 0:
				reset = true
			case f == wire.ACK && len(o.Segment.Payload) == 0:
			default:
				t.Fatalf("data with an option of length 0 drew neither a reset nor an acknowledgment\n  actual    %v", o)
			}
		}
		if !reset {
			c.Send(wire.PSH|wire.ACK, injector.WithPayload(data))
			c.Expect(BeSegment(Flags(wire.ACK), AckNum(c.SndNxt), PayloadLen(0)))
			t.Expect(t.Read(fd, 100)).To(gm.Equal(data), "the data, once")
			_, err := t.Sockets().Read(t.Context(), fd, 100)
			t.Expect(err).To(gm.MatchError(syscall.EAGAIN), "read() after the data")
		}

		n, fd2, _ := passiveOpen(t, lfd, injector.DefaultWindow, injector.WithOptions(injector.DefaultSYNOptions()...))
		n.Send(wire.PSH|wire.ACK, injector.WithPayload(data))
		n.Expect(BeSegment(Flags(wire.ACK), AckNum(n.SndNxt), PayloadLen(0)))
		t.Expect(t.Read(fd2, 100)).To(gm.Equal(data))
	})

// Section 3.7.1 (and 3.1): TCP implementations both send and receive the
// MSS option. The target's SYN (active open) and SYN,ACK (passive open)
// carry one, and after the peer announces MSS 700, on either side of the
// handshake, the target's data segments carry at most 700 octets.
var _ = check([]string{"MUST-14"}, "3.7.1", "the MSS option is sent on SYN and SYN,ACK, and a received MSS of 700 bounds the target's segments", injector.Needs{},
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		c, fd, synack := passiveOpen(t, lfd, injector.DefaultWindow, injector.WithOptions(wire.MSS(700), wire.SACKPermitted{}, wire.Timestamps{}, wire.NOP{}, wire.WindowScale(7)))
		t.Expect(synack).To(BeSegment(HasOptionKind(wire.KindMSS)), "the SYN,ACK")
		reqSegSendAtMost(t, c, fd, 4000, 700, "the peer's SYN carried MSS 700")

		afd := t.Socket()
		a, syn := reqSegConnect(t, afd, []wire.Option{wire.MSS(700)})
		t.Expect(syn).To(BeSegment(HasOptionKind(wire.KindMSS)), "the SYN")
		reqSegSendAtMost(t, a, afd, 4000, 700, "the peer's SYN,ACK carried MSS 700")
	})

// Section 3.7.1: without an MSS option from the peer the sender assumes a
// send MSS of 536 octets over IPv4 and 1220 over IPv6, on a passive open
// (SYN without options) and on an active one (SYN,ACK without options).
var _ = check([]string{"MUST-15"}, "3.7.1", "without an MSS option the target sends at most 536 (IPv4) or 1220 (IPv6) octets per segment", injector.Needs{},
	func(t *injector.T) {
		mss := reqSegDefaultMSS(t)
		why := fmt.Sprintf("no MSS option came from the peer, so the send MSS is %d", mss)
		lfd := t.Listen(servicePort)
		c, fd, _ := passiveOpen(t, lfd, injector.DefaultWindow, injector.WithOptions())
		data, got := reqSegSendAtMost(t, c, fd, 4000, mss, why+" (passive open)")
		t.Expect(got).To(gm.Equal(data))

		afd := t.Socket()
		a, _ := reqSegConnect(t, afd, []wire.Option{})
		reqSegSendAtMost(t, a, afd, 4000, mss, why+" (active open)")
	})

// Section 3.7.1: the effective send MSS is the smaller of the peer's MSS
// plus 20 and the largest IP payload (MMS_S), less the TCP header with its
// options. So data plus TCP options stay within the peer's MSS 1000 when
// timestamps are in use; and within 1460 (IPv4) or 1440 (IPv6) on the
// 1500-octet link when the peer announces MSS 9000.
var _ = check([]string{"MUST-16"}, "3.7.1", "data plus TCP options stay within min(peer MSS, IP limit): MSS 1000 with timestamps, MSS 9000 over a 1500-octet link", injector.Needs{},
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		mms := reqSegLinkMTU - reqSegIPHeader(t) // MMS_S, no IP options
		for _, peer := range []int{1000, 9000} {
			limit := min(peer+20, mms) - 20
			c, fd, _ := passiveOpen(t, lfd, injector.DefaultWindow, injector.WithOptions(wire.MSS(uint16(peer)), wire.SACKPermitted{}, wire.Timestamps{}, wire.NOP{}, wire.WindowScale(7)))
			data := pattern(5000, 'a')
			t.Write(fd, data)
			segs, _ := reqSegReceive(t, c, len(data))
			for _, o := range segs {
				if n, opt := len(o.Segment.Payload), reqSegOptionSpace(o.Segment); n+opt > limit {
					t.Fatalf("peer MSS %d, MMS_S %d: %d octets of data and %d of TCP options exceed the effective MSS %d plus options\n  actual    %v",
						peer, mms, n, opt, limit, o)
				}
			}
		}
	})

// Section 3.2: options need not be aligned; a receiver parses them at any
// offset. A SYN with one NOP before its MSS option (offset 1) and a
// timestamps option at offset 5 has its MSS honoured and, where the target
// answers timestamps, its TSval echoed.
var _ = check([]string{"MUST-64"}, "3.2", "options at odd offsets are parsed: MSS at offset 1 honoured, timestamps at offset 5 echoed", injector.Needs{},
	func(t *injector.T) {
		c, fd := reqSegOpenEchoed(t, t.Listen(servicePort), "at offset 5, unaligned",
			wire.NOP{}, wire.MSS(700), wire.Timestamps{}, wire.WindowScale(7))
		reqSegSendAtMost(t, c, fd, 3000, 700, "the peer's SYN carried MSS 700 at offset 1")
	})

// Section 3.2 (MSS option): the MSS option is sent only on segments with
// SYN. No other segment of a session, passive and active, carries one.
var _ = check([]string{"MUST-65"}, "3.2", "no segment without SYN carries an MSS option", injector.Needs{},
	func(t *injector.T) {
		reqSegSession(t)
		for _, p := range reqSegTargetPackets(t) {
			if p.flags&wire.SYN != 0 {
				continue
			}
			opts, _ := reqSegWalk(p.opts)
			for _, o := range opts {
				if o.kind == wire.KindMSS {
					t.Fatalf("a segment without SYN carries an MSS option at option offset %d\n  actual    %v", o.at, p)
				}
			}
		}
	})

// reqSegOptionsSound plays reqSegSession and fails the spec on the first
// trouble reqSegWalk finds in the options of a segment the target sent:
// with afterEOL, trouble with the octets after an EOL (MUST-69); without,
// any other (MUST-68).
func reqSegOptionsSound(t *injector.T, afterEOL bool) {
	reqSegSession(t)
	for _, p := range reqSegTargetPackets(t) {
		_, trouble := reqSegWalk(p.opts)
		for _, why := range trouble {
			if strings.Contains(why, "after EOL") == afterEOL {
				t.Fatalf("%s\n  actual    %v", why, p)
			}
		}
	}
}

// Section 3.1 (Options): every option other than EOL and NOP has a length
// octet, at least two, that keeps the option within the header. Checked on
// the option bytes of every segment of a session.
var _ = check([]string{"MUST-68"}, "3.1", "every option the target sends, EOL and NOP aside, has a length that fits the header", injector.Needs{},
	func(t *injector.T) {
		reqSegOptionsSound(t, false)
	})

// Section 3.1 (Options, Padding): the header space after an EOL option is
// zero padding. Checked on every segment of a session that holds an EOL
// (a target that never sends EOL passes).
var _ = check([]string{"MUST-69"}, "3.1", "header octets after an EOL option the target sends are zero", injector.Needs{},
	func(t *injector.T) {
		reqSegOptionsSound(t, true)
	})

// Section 3.9.1.1: once segments have been exchanged, the connection keeps
// its local address. Over a session whose passive side listens on the
// wildcard address, every segment of each connection leaves from the
// address of the first, which for the passive one is the address the peer's
// SYN was sent to.
var _ = check([]string{"MUST-45"}, "3.9.1.1", "every segment of a connection leaves from the same local address", injector.Needs{},
	func(t *injector.T) {
		reqSegSession(t)
		first := map[[2]uint16]netip.Addr{}
		for _, p := range reqSegTargetPackets(t) {
			k := [2]uint16{p.sport, p.dport}
			a, ok := first[k]
			if !ok {
				first[k] = p.src
				if p.sport == servicePort && p.src != t.Peer().TargetAddr() {
					t.Fatalf("the passive connection answers from %v, not the address %v the peer's SYN went to\n  actual    %v", p.src, t.Peer().TargetAddr(), p)
				}
				continue
			}
			if p.src != a {
				t.Fatalf("the connection's segments left from %v, and now from %v\n  actual    %v", a, p.src, p)
			}
		}
		if len(first) < 2 {
			t.Errorf("the session captured %d connections from the target, not 2", len(first))
		}
	})

// reqSegWithIPOption returns datagram b with an IP option the target does
// not know: in IPv4 the experimental option 30 (RFC 4727, type 0x1e, copy
// bit clear) in the header; in IPv6 a Destination Options header holding
// the experimental option 0x1e, whose top bits say "skip if unknown" (RFC
// 8200 section 4.2). Neither changes the TCP checksum.
func reqSegWithIPOption(t *injector.T, b []byte) []byte {
	if reqSegIs6(t) {
		out := append(append([]byte(nil), b[:40]...), syscall.IPPROTO_TCP, 0, 0x1e, 4, 0x12, 0x34, 0x56, 0x78)
		out = append(out, b[40:]...)
		out[6] = syscall.IPPROTO_DSTOPTS
		binary.BigEndian.PutUint16(out[4:], binary.BigEndian.Uint16(b[4:])+8)
		return out
	}
	out := append(append([]byte(nil), b[:20]...), 0x1e, 4, 0x12, 0x34)
	out = append(out, b[20:]...)
	out[0] = 0x46
	binary.BigEndian.PutUint16(out[2:], binary.BigEndian.Uint16(b[2:])+4)
	out[10], out[11] = 0, 0
	binary.BigEndian.PutUint16(out[10:], ^reqSegOnes(0, out[:24]))
	return out
}

// Section 3.9.2: TCP ignores IP options it does not understand. A SYN and a
// data segment carrying an unknown IPv4 option (or an IPv6 destination
// option to be skipped) are processed as without it: the handshake
// completes and the data is acknowledged and delivered.
var _ = check([]string{"MUST-50"}, "3.9.2", "a SYN and data carrying an unknown IP option are processed as usual", injector.Needs{},
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		c := t.Dial(servicePort)
		syn := buildSegment(t, c, wire.SYN, reqSegNoTS(), nil)
		reqSegInjectRaw(t, reqSegWithIPOption(t, reqSegEncode(t, syn)))
		moveSndNxt(c, syn)
		c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1)))
		c.Send(wire.ACK)
		fd := t.Accept(lfd)

		data := []byte("data under an unknown IP option")
		s := buildSegment(t, c, wire.PSH|wire.ACK, nil, data)
		reqSegInjectRaw(t, reqSegWithIPOption(t, reqSegEncode(t, s)))
		moveSndNxt(c, s)
		c.Expect(BeSegment(Flags(wire.ACK), Seq(1), AckNum(c.SndNxt), PayloadLen(0)))
		t.Expect(t.Read(fd, 100)).To(gm.Equal(data))
	})

// reqSegNoChild says what is wrong if the target answered a SYN from src
// to dst, or keeps a connection for it; "" when it did neither.
func reqSegNoChild(t *injector.T, c *injector.TConn, src, dst netip.Addr) string {
	for _, a := range t.Peer().Pending() {
		if a.Segment.SrcPort == servicePort && a.Segment.DstPort == c.PeerPort {
			return fmt.Sprintf("a SYN from %v to %v drew %v", src, dst, a.Segment)
		}
	}
	tuple := targets.Tuple{Local: netip.AddrPortFrom(dst, servicePort), Remote: netip.AddrPortFrom(src, c.PeerPort)}
	if s, ok := t.Peer().Instance().State(tuple); ok && s != state.Closed && s != state.Unknown {
		return fmt.Sprintf("a SYN from %v to %v left a connection in %v", src, dst, s)
	}
	return ""
}

// reqSegSYNsIgnored sends a SYN for each of addrs, from a new peer port each
// and with its IP header changed by spoof, and fails the spec with rule
// unless the target neither answers nor keeps a connection for any of them.
// A SYN of the peer's own is then answered.
func reqSegSYNsIgnored(t *injector.T, addrs []netip.Addr, rule string, spoof func(ip *wire.IP, a netip.Addr)) {
	var bad []string
	for _, a := range addrs {
		c := t.Dial(servicePort)
		s := buildSegment(t, c, wire.SYN, []wire.Option{wire.MSS(1460)}, nil)
		spoof(&s.IP, a)
		injectOn(t, c, s)
		t.Sleep(reqSegQuiet)
		if why := reqSegNoChild(t, c, s.IP.Src, s.IP.Dst); why != "" {
			bad = append(bad, why)
		}
	}
	if len(bad) > 0 {
		t.Fatalf("%s:\n  %s", rule, strings.Join(bad, "\n  "))
	}
	c := t.Dial(servicePort)
	c.Send(wire.SYN)
	c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Seq(0), Ack(1)))
}

// Section 3.9.2.3: a SYN addressed to a broadcast or multicast address is
// discarded silently. The listener is on the wildcard address; the
// multicast groups include ones the target has joined (all-nodes, the
// solicited-node group of its own address). The target neither answers nor
// keeps a connection, while a SYN to its unicast address is answered.
var _ = check([]string{"MUST-57"}, "3.9.2.3", "a SYN to a broadcast or multicast destination is discarded silently", injector.Needs{},
	func(t *injector.T) {
		listenAny(t, servicePort)
		dsts := []netip.Addr{netip.MustParseAddr("ff02::1"), netip.MustParseAddr("ff02::1:ff00:1"), netip.MustParseAddr("ff05::1:3")}
		if !reqSegIs6(t) {
			local := t.Peer().TargetAddr().As4()
			local[3] = 255 // both targets' prefix is a /24
			dsts = []netip.Addr{netip.AddrFrom4(local), netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("224.0.0.1"), netip.MustParseAddr("239.1.2.3")}
		}
		reqSegSYNsIgnored(t, dsts, "a SYN to a broadcast or multicast address must be discarded silently",
			func(ip *wire.IP, dst netip.Addr) { ip.Dst = dst })
	})

// Section 3.9.2.3: a SYN from an invalid source address (unspecified,
// broadcast, multicast, loopback; RFC 1122 section 3.2.1.3 and RFC 4291
// section 2.5) is ignored, by TCP or by IP: no answer, no connection. A
// SYN from the peer's real address is then answered.
var _ = check([]string{"MUST-63"}, "3.9.2.3", "a SYN from an invalid source address is ignored", injector.Needs{},
	func(t *injector.T) {
		t.Listen(servicePort)
		srcs := []netip.Addr{netip.IPv6Unspecified(), netip.IPv6Loopback(), netip.MustParseAddr("ff02::1"), netip.MustParseAddr("ff0e::1")}
		if !reqSegIs6(t) {
			local := t.Peer().TargetAddr().As4()
			local[3] = 255 // both targets' prefix is a /24
			srcs = []netip.Addr{netip.IPv4Unspecified(), netip.MustParseAddr("0.1.2.3"), netip.MustParseAddr("255.255.255.255"),
				netip.AddrFrom4(local), netip.MustParseAddr("224.0.0.1"), netip.MustParseAddr("127.0.0.1")}
		}
		reqSegSYNsIgnored(t, srcs, "a SYN from an invalid source address must be ignored",
			func(ip *wire.IP, src netip.Addr) { ip.Src = src })
	})

// Section 3.7.1: a TCP implementation should send an MSS option in every
// SYN when its receive MSS differs from the default (536 / 1220); on the
// targets' 1500-octet links it does (1460 / 1440). Checked on the SYN of
// an active open and the SYN,ACK of a passive one.
var _ = check([]string{"SHLD-5"}, "3.7.1", "SYN and SYN,ACK carry an MSS option (the receive MSS differs from the default)", injector.Needs{},
	func(t *injector.T) {
		t.Listen(servicePort)
		c := t.Dial(servicePort)
		c.Send(wire.SYN)
		c.Expect(BeSegment(Flags(wire.SYN|wire.ACK), Ack(1), HasOptionKind(wire.KindMSS)))

		a := startConnect(t, t.Socket())
		a.Expect(BeSegment(Flags(wire.SYN), HasOptionKind(wire.KindMSS)))
	})

// reqSegDSCP fails the spec unless o carries the Diffserv codepoint of tos
// (the ECN bits aside).
func reqSegDSCP(t *injector.T, o expectations.Observed, tos uint8, what string) {
	if o.Segment.IP.TOS>>2 != tos>>2 {
		t.Fatalf("%s carries DSCP %d (TOS 0x%02x), not the application's %d (TOS 0x%02x)\n  actual    %v",
			what, o.Segment.IP.TOS>>2, o.Segment.IP.TOS, tos>>2, tos, o)
	}
}

// Section 3.9.1.9 (and 3.9.1.2): the Diffserv field the application sets
// (IP_TOS, IPV6_TCLASS) is passed to IP unchanged. Every segment of an
// active open with DSCP 46 (EF) set before connect() carries it: SYN, ACK,
// data and FIN.
var _ = check([]string{"SHLD-22"}, "3.9.1.9", "the application's Diffserv value (IP_TOS / IPV6_TCLASS) is on every segment", injector.Needs{},
	func(t *injector.T) {
		const tos = 46 << 2
		fd := t.Socket()
		level, name, opt := syscall.IPPROTO_IP, syscall.IP_TOS, "IP_TOS"
		if reqSegIs6(t) {
			level, name, opt = syscall.IPPROTO_IPV6, syscall.IPV6_TCLASS, "IPV6_TCLASS"
		}
		if err := t.Sockets().SetsockoptInt(fd, level, name, tos); err != nil {
			if errors.Is(err, syscall.ENOPROTOOPT) {
				t.Skipf("the target's socket layer does not take %s (ENOPROTOOPT), so the application cannot set a Diffserv value", opt)
			}
			t.Fatalf("setsockopt(%s, 0x%02x): %v", opt, tos, err)
		}
		c := startConnect(t, fd)
		reqSegDSCP(t, c.Expect(BeSegment(Flags(wire.SYN), Seq(0))), tos, "the SYN")
		c.Send(wire.SYN | wire.ACK)
		reqSegDSCP(t, c.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(1))), tos, "the ACK of the handshake")
		t.Expect(t.Sockets().SetNonblock(fd, false)).To(gm.Succeed())
		t.Write(fd, pattern(500, 'a'))
		segs, _ := reqSegReceive(t, c, 500)
		for _, o := range segs {
			reqSegDSCP(t, o, tos, "a data segment")
		}
		t.Shutdown(fd, syscall.SHUT_WR)
		reqSegDSCP(t, reqSegAwait(t, c, BeSegment(FlagsInclude(wire.FIN|wire.ACK))), tos, "the FIN")
	})

// reqSegECN is a segment with IP ECN codepoint ecn.
func reqSegECN(s wire.Segment, ecn uint8) wire.Segment {
	s.IP.TOS = s.IP.TOS&^3 | ecn
	return s
}

// Section 3.8.2: TCP implementations should implement ECN (RFC 3168).
// Passive side, where the target accepts ECN by default: an ECN-setup SYN
// (ECE, CWR) draws an ECN-setup SYN,ACK (ECE only, not ECT, RFC 3168 section
// 6.1.1); data the target sends is ECT and its pure ACKs are not (6.1.4);
// data arriving marked CE makes it set ECE on its ACKs until a segment with
// CWR comes (6.1.3); an ACK with ECE makes it set CWR on its next new data
// (6.1.2). Active side, where the target can be told to ask for ECN
// (net.ipv4.tcp_ecn=1): its SYN is ECN-setup (SYN, ECE, CWR) and not ECT.
var _ = check([]string{"SHLD-8"}, "3.8.2", "ECN per RFC 3168: negotiation, ECT data, CE echoed with ECE until CWR, CWR after ECE", injector.Needs{},
	func(t *injector.T) {
		lfd := t.Listen(servicePort)
		c := t.Dial(servicePort)
		c.Send(wire.SYN|wire.ECE|wire.CWR, injector.WithOptions(reqSegNoTS()...))
		c.Expect(BeSegment(Flags(wire.SYN|wire.ACK|wire.ECE), Seq(0), Ack(1), ECN(0)))
		c.Send(wire.ACK)
		fd := t.Accept(lfd)

		out := pattern(1000, 'a')
		t.Write(fd, out)
		c.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Payload(out), ECT()))
		c.Send(wire.ACK)

		// CE on arriving data: ECE on the ACK, and on the next one too.
		in := pattern(100, 'a')
		for i, mark := range []uint8{3, 2} {
			s := reqSegECN(buildSegment(t, c, wire.PSH|wire.ACK, nil, in), mark)
			injectOn(t, c, s)
			o := c.Expect(BeSegment(FlagsInclude(wire.ACK), AckNum(c.SndNxt), PayloadLen(0), ECN(0)))
			if o.Segment.Flags&wire.ECE == 0 {
				t.Fatalf("ACK %d after data marked CE has no ECE (RFC 3168 section 6.1.3)\n  actual    %v", i+1, o)
			}
		}
		// CWR from the peer ends the echo.
		s := reqSegECN(buildSegment(t, c, wire.PSH|wire.ACK|wire.CWR, nil, in), 2)
		injectOn(t, c, s)
		c.Expect(BeSegment(Flags(wire.ACK), AckNum(c.SndNxt), PayloadLen(0), ECN(0)))

		// ECE on the ACK of new data: the next new data carries CWR.
		t.Write(fd, out)
		c.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1001), Payload(out), ECT()))
		c.Send(wire.ACK | wire.ECE)
		t.Write(fd, out)
		c.Expect(BeSegment(FlagsInclude(wire.ACK|wire.CWR), Seq(2001), Payload(out), ECT()))

		sys, ok := t.Peer().Instance().(targets.Sysctls)
		if !ok || sys.SetSysctl("net.ipv4.tcp_ecn", "1") != nil {
			return // the active side cannot be asked to use ECN
		}
		afd := t.Socket()
		a := startConnect(t, afd)
		a.Expect(BeSegment(Flags(wire.SYN|wire.ECE|wire.CWR), Seq(0), ECN(0)))
		a.Send(wire.SYN|wire.ACK|wire.ECE, injector.WithOptions(wire.MSS(1460)))
		a.Expect(BeSegment(Flags(wire.ACK), Seq(1), Ack(1), ECN(0)))
		t.Expect(t.Sockets().SetNonblock(afd, false)).To(gm.Succeed())
		t.Write(afd, out)
		a.Expect(BeSegment(FlagsInclude(wire.ACK), Seq(1), Payload(out), ECT()))
	})
