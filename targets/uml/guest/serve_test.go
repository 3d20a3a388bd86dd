//go:build linux

package main

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// client drives serve over pipes, as the harness drives the guest's line.
type client struct {
	t    *testing.T
	in   *io.PipeWriter
	done chan error

	mu      sync.Mutex
	cond    *sync.Cond
	replies map[string]string // id → the rest of the line
	first   string            // the hello
	eof     bool
	next    int
}

func start(t *testing.T, opts serveOptions) *client {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &client{t: t, in: inW, done: make(chan error, 1), replies: map[string]string{}}
	c.cond = sync.NewCond(&c.mu)
	go func() {
		err := serve(inR, outW, opts)
		outW.Close()
		c.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			c.mu.Lock()
			if c.first == "" {
				c.first = sc.Text()
			} else {
				id, rest, _ := strings.Cut(sc.Text(), " ")
				if _, dup := c.replies[id]; dup {
					t.Errorf("second reply for %s: %q", id, sc.Text())
				}
				c.replies[id] = rest
			}
			c.cond.Broadcast()
			c.mu.Unlock()
		}
		c.mu.Lock()
		c.eof = true
		c.cond.Broadcast()
		c.mu.Unlock()
	}()
	t.Cleanup(func() {
		inW.Close()
		select {
		case err := <-c.done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(3 * time.Second):
			t.Errorf("serve did not return at end of input")
		}
	})
	return c
}

// send writes a raw request line.
func (c *client) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		c.t.Fatalf("writing %q: %v", line, err)
	}
}

// await waits for the reply to id and returns what follows the id.
func (c *client) await(id string) string {
	c.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	timer := time.AfterFunc(3*time.Second, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if r, ok := c.replies[id]; ok {
			delete(c.replies, id)
			return r
		}
		if c.eof || time.Now().After(deadline) {
			c.t.Fatalf("no reply to request %s", id)
		}
		c.cond.Wait()
	}
}

// pending reports whether request id is still unanswered after a moment.
func (c *client) pending(id string) bool {
	time.Sleep(50 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	_, answered := c.replies[id]
	return !answered
}

// start sends a request with a fresh id and returns the id.
func (c *client) start(req string) string {
	c.t.Helper()
	c.next++
	id := "r" + strconv.Itoa(c.next)
	c.send(id + " " + req)
	return id
}

// do sends a request and returns its reply.
func (c *client) do(req string) string {
	c.t.Helper()
	return c.await(c.start(req))
}

// ok sends a request that must succeed and returns its values.
func (c *client) ok(req string) []string {
	c.t.Helper()
	r := c.do(req)
	f := strings.Fields(r)
	if len(f) == 0 || f[0] != "ok" {
		c.t.Fatalf("%s: got %q, want ok", req, r)
	}
	return f[1:]
}

// errno sends a request that must fail and returns its errno name.
func (c *client) errno(req string) string {
	c.t.Helper()
	r := c.do(req)
	f := strings.Fields(r)
	if len(f) < 2 || f[0] != "err" {
		c.t.Fatalf("%s: got %q, want err", req, r)
	}
	return f[1]
}

func (c *client) wantErr(req, errno string) {
	c.t.Helper()
	if got := c.errno(req); got != errno {
		c.t.Fatalf("%s: got err %s, want %s", req, got, errno)
	}
}

func (c *client) wantOK(req string, want ...string) {
	c.t.Helper()
	got := c.ok(req)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		c.t.Fatalf("%s: got ok %q, want ok %q", req, got, want)
	}
}

func (c *client) hello() string {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.first == "" && !c.eof {
		c.cond.Wait()
	}
	return c.first
}

// listener opens a listening socket on addr (port 0) and returns its fd
// and port.
func (c *client) listener(family, addr string) (fd, port string) {
	c.t.Helper()
	fd = c.ok("socket " + family)[0]
	c.ok("setsockopt " + fd + " reuseaddr 1")
	c.ok("bind " + fd + " " + addr + " 0")
	c.ok("listen " + fd + " 8")
	return fd, c.ok("sockname " + fd)[1]
}

// pair makes a connected pair through a listener on addr: the connecting
// socket, the accepted one, and the ports of both ends.
func (c *client) pair(family, addr string) (cfd, afd, cport, lport string) {
	c.t.Helper()
	l, lport := c.listener(family, addr)
	cfd = c.ok("socket " + family)[0]
	c.ok("connect " + cfd + " " + addr + " " + lport)
	a := c.ok("accept " + l)
	c.ok("close " + l)
	return cfd, a[0], c.ok("sockname " + cfd)[1], lport
}

func TestHello(t *testing.T) {
	c := start(t, serveOptions{IPv4: true, Release: "6.1.176"})
	if got, want := c.hello(), "hello tcpconform-agent 1 linux 6.1.176 ipv4 state put tcpinfo"; got != want {
		t.Errorf("hello %q, want %q", got, want)
	}
	c2 := start(t, serveOptions{IPv4: true, IPv6: true})
	want := "hello tcpconform-agent 1 linux " + kernelRelease() + " ipv4 ipv6 state put tcpinfo"
	if got := c2.hello(); got != want {
		t.Errorf("hello %q, want %q", got, want)
	}
}

func TestMalformed(t *testing.T) {
	c := start(t, serveOptions{IPv4: true})
	c.send("")
	c.send("   ")
	c.send("lonely")
	if got := c.await("?"); got != "err EINVAL malformed request" {
		t.Errorf("line without verb: %q", got)
	}
	c.wantErr("frobnicate 1 2", "ENOSYS")
	c.wantOK("ping")
	c.wantErr("bind nofd 127.0.0.1 1", "EINVAL")
	c.wantErr("socket inet bogus", "EINVAL")
	c.wantErr("socket unix", "EINVAL")
	c.wantErr("close 0", "EBADF") // not a socket of the harness
	c.wantErr("recv 1 10", "EBADF")
	fd := c.ok("socket inet")[0]
	c.wantErr("recv "+fd+" many", "EINVAL")
	c.wantErr("send "+fd+" 0g", "EINVAL")
	c.wantErr("shutdown "+fd+" sideways", "EINVAL")
	c.wantErr("state 127.0.0.1 80 10.0.0.1", "EINVAL")
	c.wantErr("cancel nothing", "ENOENT")
}

func TestQuit(t *testing.T) {
	c := start(t, serveOptions{IPv4: true})
	c.ok("socket inet")
	c.wantOK("quit")
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("serve after quit: %v", err)
		}
		c.done <- nil // for the cleanup
	case <-time.After(2 * time.Second):
		t.Fatal("serve did not return after quit")
	}
}

func TestConversation(t *testing.T) {
	c := start(t, serveOptions{IPv4: true})
	l, lport := c.listener("inet", "127.0.0.1")
	c.wantOK("state 127.0.0.1 "+lport+" -", "LISTEN")

	// A blocking accept waits while other requests go on.
	acc := c.start("accept " + l)
	if !c.pending(acc) {
		t.Fatalf("accept answered at once: %q", c.await(acc))
	}
	cfd := c.ok("socket inet")[0]
	c.wantOK("connect " + cfd + " 127.0.0.1 " + lport)
	_, cport := c.ok("sockname " + cfd)[0], c.ok("sockname " + cfd)[1]
	a := strings.Fields(c.await(acc))
	if len(a) != 4 || a[0] != "ok" || a[2] != "127.0.0.1" || a[3] != cport {
		t.Fatalf("accept: %q, want ok FD 127.0.0.1 %s", a, cport)
	}
	afd := a[1]
	c.wantOK("peername "+cfd, "127.0.0.1", lport)
	c.wantOK("state 127.0.0.1 "+cport+" 127.0.0.1 "+lport, "ESTABLISHED")
	c.wantOK("state 127.0.0.1 "+lport+" 127.0.0.1 "+cport, "ESTABLISHED")
	c.wantOK("state ::ffff:127.0.0.1 "+lport+" 127.0.0.1 "+cport, "ESTABLISHED")

	// Data both ways; a blocking recv waits for it.
	c.wantOK("send "+cfd+" 68656c6c6f", "5")
	c.wantOK("recv "+afd+" 100", "5", "68656c6c6f")
	rcv := c.start("recv " + cfd + " 3")
	if !c.pending(rcv) {
		t.Fatalf("recv answered at once: %q", c.await(rcv))
	}
	c.wantOK("send "+afd+" 000102", "3")
	if got := c.await(rcv); got != "ok 3 000102" {
		t.Fatalf("recv: %q", got)
	}
	c.wantOK("send "+cfd, "0")

	// A half-close reads as end of stream.
	c.wantOK("shutdown " + cfd + " wr")
	c.wantOK("recv "+afd+" 10", "0")
	c.wantOK("state 127.0.0.1 "+lport+" 127.0.0.1 "+cport, "CLOSE-WAIT")
	c.wantOK("close " + afd)
	c.wantOK("close " + cfd)
	c.wantErr("close "+cfd, "EBADF")
	c.wantOK("close " + l)
	c.wantErr("state 127.0.0.1 "+lport+" -", "ENOENT")
}

func TestBlockingSend(t *testing.T) {
	c := start(t, serveOptions{IPv4: true})
	cfd, afd, _, _ := c.pair("inet", "127.0.0.1")
	c.ok("setsockopt " + afd + " rcvbuf 65536")
	c.ok("setsockopt " + cfd + " sndbuf 65536")
	const n = 1 << 20
	snd := c.start("send " + cfd + " " + strings.Repeat("ab", n))
	if !c.pending(snd) {
		t.Fatalf("a send of %d bytes answered at once: %q", n, c.await(snd))
	}
	got := 0
	for got < n {
		f := c.ok("recv " + afd + " 65536")
		k, _ := strconv.Atoi(f[0])
		if k == 0 {
			t.Fatalf("end of stream after %d bytes", got)
		}
		got += k
	}
	if r := c.await(snd); r != "ok "+strconv.Itoa(n) {
		t.Fatalf("send: %q", r)
	}
	// Non-blocking, the kernel takes what fits and then says EAGAIN.
	c.ok("nonblock " + cfd + " 1")
	f := c.ok("send " + cfd + " " + strings.Repeat("cd", n))
	if k, _ := strconv.Atoi(f[0]); k <= 0 || k >= n {
		t.Fatalf("non-blocking send took %s of %d bytes", f[0], n)
	}
	c.wantErr("send "+cfd+" cd", "EAGAIN")
}

func TestCancel(t *testing.T) {
	c := start(t, serveOptions{IPv4: true})
	cfd, afd, _, _ := c.pair("inet", "127.0.0.1")
	rcv := c.start("recv " + afd + " 10")
	if !c.pending(rcv) {
		t.Fatalf("recv answered at once: %q", c.await(rcv))
	}
	c.wantOK("cancel " + rcv)
	if got := c.await(rcv); got != "err EINTR cancelled" {
		t.Fatalf("cancelled recv: %q", got)
	}
	c.wantErr("cancel "+rcv, "ENOENT")

	// Closing a socket ends the calls waiting on it.
	rcv = c.start("recv " + cfd + " 10")
	if !c.pending(rcv) {
		t.Fatalf("recv answered at once: %q", c.await(rcv))
	}
	c.wantOK("close " + cfd)
	if got := c.await(rcv); !strings.HasPrefix(got, "err EBADF") {
		t.Fatalf("recv on a closed socket: %q", got)
	}
}

func TestNonblocking(t *testing.T) {
	c := start(t, serveOptions{IPv4: true})
	l, lport := c.listener("inet", "127.0.0.1")
	c.ok("nonblock " + l + " 1")
	c.wantErr("accept "+l, "EAGAIN")
	cfd := c.ok("socket inet nonblock")[0]
	c.wantErr("connect "+cfd+" 127.0.0.1 "+lport, "EINPROGRESS")
	var afd string
	for i := 0; ; i++ {
		r := strings.Fields(c.do("accept " + l))
		if r[0] == "ok" {
			afd = r[1]
			break
		}
		if i == 100 {
			t.Fatalf("accept: %q", r)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Accepted sockets start blocking.
	rcv := c.start("recv " + afd + " 10")
	if !c.pending(rcv) {
		t.Fatalf("recv on an accepted socket answered at once: %q", c.await(rcv))
	}
	c.wantOK("cancel " + rcv)
	c.await(rcv)
	c.ok("nonblock " + afd + " 1")
	c.wantErr("recv "+afd+" 10", "EAGAIN")
	c.wantErr("recv "+cfd+" 10", "EAGAIN")
	// As on Linux: the first connect after the handshake says it is done,
	// the next that the socket is connected.
	c.wantOK("connect " + cfd + " 127.0.0.1 " + lport)
	c.wantErr("connect "+cfd+" 127.0.0.1 "+lport, "EISCONN")
	c.wantErr("nonblock "+afd+" 2", "EINVAL")
}

func TestRefused(t *testing.T) {
	c := start(t, serveOptions{IPv4: true})
	// A port bound but not listening refuses connections.
	b := c.ok("socket inet")[0]
	c.ok("bind " + b + " 127.0.0.1 0")
	port := c.ok("sockname " + b)[1]
	fd := c.ok("socket inet")[0]
	c.wantErr("connect "+fd+" 127.0.0.1 "+port, "ECONNREFUSED")
	c.wantOK("getsockopt "+fd+" error", "0")

	nb := c.ok("socket inet nonblock")[0]
	c.wantErr("connect "+nb+" 127.0.0.1 "+port, "EINPROGRESS")
	time.Sleep(50 * time.Millisecond)
	c.wantOK("getsockopt "+nb+" error", "111") // ECONNREFUSED
}

func TestSockopts(t *testing.T) {
	c := start(t, serveOptions{IPv4: true})
	fd := c.ok("socket inet")[0]
	c.wantOK("getsockopt "+fd+" nodelay", "0")
	c.wantOK("setsockopt " + fd + " nodelay 1")
	c.wantOK("getsockopt "+fd+" nodelay", "1")
	c.wantOK("getsockopt "+fd+" linger", "0", "0")
	c.wantOK("setsockopt " + fd + " linger 1 5")
	c.wantOK("getsockopt "+fd+" linger", "1", "5")
	c.wantOK("setsockopt " + fd + " keepidle 77")
	c.wantOK("getsockopt "+fd+" keepidle", "77")
	c.wantOK("setsockopt " + fd + " user_timeout 1234")
	c.wantOK("getsockopt "+fd+" user_timeout", "1234")
	c.wantOK("setsockopt " + fd + " tos 16")
	c.wantOK("getsockopt "+fd+" tos", "16")
	c.wantErr("setsockopt "+fd+" linger 1", "EINVAL")
	c.wantErr("setsockopt "+fd+" nodelay yes", "EINVAL")
	c.wantErr("setsockopt "+fd+" frobs 1", "ENOPROTOOPT")
	c.wantErr("getsockopt "+fd+" frobs", "ENOPROTOOPT")
	c.wantErr("setsockopt "+fd+" error 1", "ENOPROTOOPT")
}

func TestReset(t *testing.T) {
	c := start(t, serveOptions{IPv4: true})
	l, lport := c.listener("inet", "127.0.0.1")
	cfd, afd, cport, pport := c.pair("inet", "127.0.0.1")
	acc := c.start("accept " + l)
	if !c.pending(acc) {
		t.Fatalf("accept answered at once: %q", c.await(acc))
	}
	c.wantOK("reset")
	if got := c.await(acc); got != "err EINTR cancelled" {
		t.Fatalf("accept pending over a reset: %q", got)
	}
	for _, fd := range []string{l, cfd, afd} {
		c.wantErr("close "+fd, "EBADF")
	}
	// Abortive closes leave nothing behind, not even TIME-WAIT.
	c.wantErr("state 127.0.0.1 "+lport+" -", "ENOENT")
	c.wantErr("state 127.0.0.1 "+cport+" 127.0.0.1 "+pport, "ENOENT")
	c.wantErr("state 127.0.0.1 "+pport+" 127.0.0.1 "+cport, "ENOENT")
	// The port is free again.
	fd := c.ok("socket inet")[0]
	c.wantOK("bind " + fd + " 127.0.0.1 " + lport)
}

func TestSysctl(t *testing.T) {
	dir := t.TempDir()
	knob := filepath.Join(dir, "net", "ipv4", "tcp_sack")
	rmem := filepath.Join(dir, "net", "ipv4", "tcp_rmem")
	os.MkdirAll(filepath.Dir(knob), 0o755)
	os.WriteFile(knob, []byte("1\n"), 0o644)
	os.WriteFile(rmem, []byte("4096\t131072\t6291456\n"), 0o644)
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	c := start(t, serveOptions{IPv4: true, SysctlDir: dir})
	c.wantOK("sysctl net.ipv4.tcp_sack 0")
	c.wantOK("sysctl net.ipv4.tcp_sack 2")
	c.wantOK("sysctl net/ipv4/tcp_rmem 1 2 3")
	if got := read(knob); got != "2\n" {
		t.Errorf("knob after sysctl: %q", got)
	}
	if got := read(rmem); got != "1 2 3\n" {
		t.Errorf("knob after sysctl: %q", got)
	}
	c.wantErr("sysctl net.ipv4.tcp_nonsense 1", "EOPNOTSUPP")
	c.wantErr("sysctl net..ipv4 1", "EINVAL")
	c.wantErr("sysctl net.ipv4.tcp_sack", "EINVAL")
	c.wantOK("reset")
	if got := read(knob); got != "1\n" {
		t.Errorf("knob after reset: %q", got)
	}
	if got := read(rmem); got != "4096\t131072\t6291456\n" {
		t.Errorf("knob after reset: %q", got)
	}
	// Ending the session restores too.
	c.wantOK("sysctl net.ipv4.tcp_sack 0")
	c.in.Close()
	if err := <-c.done; err != nil {
		t.Fatal(err)
	}
	c.done <- nil
	if got := read(knob); got != "1\n" {
		t.Errorf("knob after the end of the session: %q", got)
	}
}

func TestIPv6(t *testing.T) {
	if _, err := os.Stat("/proc/net/if_inet6"); err != nil {
		t.Skip("no IPv6")
	}
	c := start(t, serveOptions{IPv4: true, IPv6: true})
	cfd, afd, cport, lport := c.pair("inet6", "::1")
	c.wantOK("state ::1 "+cport+" ::1 "+lport, "ESTABLISHED")
	c.wantOK("send "+cfd+" ff", "1")
	c.wantOK("recv "+afd+" 1", "1", "ff")

	// A dual-stack listener takes IPv4; the connection shows in tcp6 as
	// v4-mapped, and plain IPv4 addresses find it.
	l, port := c.listener("inet6", "::")
	c.wantOK("state 127.0.0.1 "+port+" -", "LISTEN")
	c.wantOK("state ::1 "+port+" -", "LISTEN")
	fd4 := c.ok("socket inet")[0]
	c.wantOK("connect " + fd4 + " 127.0.0.1 " + port)
	a := c.ok("accept " + l)
	if a[1] != "::ffff:127.0.0.1" {
		t.Errorf("accepted from %q", a[1])
	}
	c.wantOK("state 127.0.0.1 "+port+" 127.0.0.1 "+a[2], "ESTABLISHED")
	c.wantOK("sockname "+a[0], "::ffff:127.0.0.1", port)
}

// put gathers data in pieces; "send FD @NAME" sends it in one call.
func TestPutThenSend(t *testing.T) {
	c := start(t, serveOptions{IPv4: true})
	cfd, afd, _, _ := c.pair("inet", "127.0.0.1")
	c.wantOK("put b1 0102", "2")
	c.wantOK("put b1 03", "3")
	c.wantOK("send "+cfd+" @b1", "3")
	c.wantOK("recv "+afd+" 10", "3", "010203")
	c.wantErr("send "+cfd+" @b1", "EINVAL") // sent, and forgotten
	// TCP_INFO: tcpi_state (the first octet) is 1, ESTABLISHED.
	if ti := c.ok("tcpinfo " + afd); len(ti) != 1 || len(ti[0]) < 200 || ti[0][:2] != "01" {
		t.Errorf("tcpinfo: %v", ti)
	}
}
