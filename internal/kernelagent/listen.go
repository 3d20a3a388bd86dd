package kernelagent

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TokenTimeout bounds the wait for a connection's token line.
const TokenTimeout = 10 * time.Second

// CheckListen refuses what a listening agent must not do: listen on a
// wildcard address (it serves only on the one it is given), or without a
// token on an address other than loopback.
func CheckListen(addr, token string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return ap, fmt.Errorf("-listen %s: want IP:PORT (%v)", addr, err)
	}
	if ap.Addr().IsUnspecified() {
		return ap, fmt.Errorf("-listen %s: a wildcard address would serve on every interface; give the test interface's address", addr)
	}
	if token == "" && !ap.Addr().IsLoopback() {
		return ap, fmt.Errorf("-listen %s: a shared token is needed off loopback (-token or $TCPCONFORM_AGENT_TOKEN)", addr)
	}
	return ap, nil
}

// Listener serves one harness connection at a time: with a token, each
// must first send "token SECRET", then speaks the protocol; a second
// connection meanwhile is told the agent is busy.
type Listener struct {
	L     net.Listener
	Token string // "": no token line (loopback only, see CheckListen)
	Logf  func(string, ...any)
	// Serve speaks the protocol on one connection and returns when the
	// harness is done.
	Serve func(Conn) error

	busy    atomic.Bool
	serving sync.WaitGroup
	mu      sync.Mutex
	conn    net.Conn // the harness being served
}

// Run accepts connections until the listener fails (it is closed). Then
// it ends the connection being served, waits for Serve to return, and
// returns the listener's error.
func (l *Listener) Run() error {
	for {
		c, err := l.L.Accept()
		if err != nil {
			l.mu.Lock()
			if l.conn != nil {
				l.conn.Close()
			}
			l.mu.Unlock()
			l.serving.Wait()
			return err
		}
		if !l.busy.CompareAndSwap(false, true) {
			io.WriteString(c, "? err EBUSY another harness is connected\n")
			c.Close()
			continue
		}
		l.mu.Lock()
		l.conn = c
		l.mu.Unlock()
		l.serving.Add(1)
		go func() {
			defer l.serving.Done()
			defer l.busy.Store(false)
			defer c.Close()
			if err := l.serve(c); err != nil {
				l.Logf("%s: %v", c.RemoteAddr(), err)
			}
		}()
	}
}

// serve checks the token line, if a token is set, then serves the
// connection.
func (l *Listener) serve(c net.Conn) error {
	br := bufio.NewReader(c)
	if l.Token == "" {
		return l.Serve(Conn{Reader: br, Writer: c})
	}
	c.SetReadDeadline(time.Now().Add(TokenTimeout))
	line, err := br.ReadString('\n')
	if err != nil {
		return fmt.Errorf("no token line: %w", err)
	}
	c.SetReadDeadline(time.Time{})
	if !TokenMatches(line, l.Token) {
		io.WriteString(c, "? err EACCES bad token\n")
		return errors.New("bad token")
	}
	return l.Serve(Conn{Reader: br, Writer: c})
}

// TokenMatches reports whether line is "token SECRET" with the expected
// secret, compared in constant time.
func TokenMatches(line, secret string) bool {
	f := strings.Fields(line)
	if len(f) != 2 || f[0] != "token" || secret == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(f[1]), []byte(secret)) == 1
}
