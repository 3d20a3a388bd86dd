package suites

import (
	"errors"
	"syscall"
	"time"

	gm "github.com/onsi/gomega"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/wire"

	. "github.com/tcpconform/tcpconform/expectations"
)

// The keep-alive interval between unanswered probes (RFC 9293 section
// 3.8.4, RFC 1122 section 4.2.3.6). The other keep-alive specs set the idle
// time before the first probe and the interval between probes alike, so a
// stack that spaced its probes by the one instead of the other passed them.

// kaIdle and kaInterval are TCP_KEEPIDLE and TCP_KEEPINTVL in this spec:
// apart, so that which of them spaces the probes shows.
const (
	kaIdle     = 2 * time.Second
	kaInterval = time.Second
)

// kaProbeAt consumes the next segment on c, a keep-alive probe due at
// instance time at, give or take the peer's tolerance; what tells the
// probe's timer is named in the failure.
func kaProbeAt(t *injector.T, c *injector.TConn, at time.Duration, which string) time.Duration {
	o, err := c.TryExpectAfter(t.Context(), at-t.Peer().Elapsed(), reqFlowKeepaliveProbe(c, true))
	var nc *injector.Nonconformance
	if errors.As(err, &nc) {
		t.Fatalf("RFC 9293 section 3.8.4 (MUST-27): keep-alive probes follow the configured times (TCP_KEEPIDLE %v, then TCP_KEEPINTVL %v between unanswered probes); %s\n%s",
			kaIdle, kaInterval, which, nc.Message)
	} else if err != nil {
		t.Errorf("%v", err)
	}
	return o.At
}

// Section 3.8.4: the keep-alive interval must be configurable (MUST-27);
// RFC 1122 section 4.2.3.6 has an unanswered probe retransmitted. With
// TCP_KEEPIDLE 2 s and TCP_KEEPINTVL 1 s the first probe leaves 2 s after
// the last segment received, and the next ones 1 s after each unanswered
// probe. The third is answered and the connection stays.
var _ = check([]string{"MUST-27"}, "3.8.4", "keep-alive probes after the first are spaced by TCP_KEEPINTVL (1 s), not TCP_KEEPIDLE (2 s)", withState,
	func(t *injector.T) {
		c, fd, _ := reqFlowAccept(t)
		setKeepAlive(t, fd, int(kaIdle/time.Second), int(kaInterval/time.Second), 5)
		c.Send(wire.ACK)
		at := kaProbeAt(t, c, t.Peer().Elapsed()+kaIdle, "the first probe comes TCP_KEEPIDLE after the last segment received")
		for range 2 {
			at = kaProbeAt(t, c, at+kaInterval, "an unanswered probe is followed by the next TCP_KEEPINTVL later")
		}
		c.Send(wire.ACK)
		t.Expect(c.State()).To(BeInState(state.Established), "after three probes, the last answered")
		t.Expect(t.Sockets().GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)).To(gm.BeZero())
	})
