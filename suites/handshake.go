package suites

import "github.com/tcpconform/tcpconform/injector"

// servicePort is the port the target listens on in the cases.
const servicePort = 8080

// acceptConn runs a passive open on the target (RFC 9293 section 3.5,
// Figure 6): it listens, the peer sends SYN, the target answers SYN,ACK,
// the peer completes with ACK, and the target accepts. It returns the peer's
// connection and the accepted socket.
func acceptConn(t *injector.T) (*injector.TConn, int) {
	c, fd, _ := passiveOpen(t, t.Listen(servicePort), injector.DefaultWindow)
	return c, fd
}
