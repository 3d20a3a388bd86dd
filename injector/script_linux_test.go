package injector_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/targets"
	_ "github.com/tcpconform/tcpconform/targets/linux"
)

// runLinux parses src as t.pkt, with defines, and runs it over IPv4 on the
// linux target, skipping the test where that target cannot run.
func runLinux(t *testing.T, src string, defines map[string]string) injector.Result {
	t.Helper()
	tgt, err := targets.Lookup("linux")
	if err != nil {
		t.Fatal(err)
	}
	if err := tgt.Available(); err != nil {
		t.Skipf("linux target unavailable: %v", err)
	}
	return runScriptOn(t, tgt, src, defines)
}

// linuxCase is a script run on the linux target and the outcome it must
// have; message is a regexp its message must match.
type linuxCase struct {
	name, src string
	defines   map[string]string
	outcome   injector.Outcome
	message   string
}

func runLinuxCases(t *testing.T, cases []linuxCase) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			res := runLinux(t, tt.src, tt.defines)
			if res.Outcome != tt.outcome || !regexp.MustCompile(tt.message).MatchString(res.Message) {
				t.Errorf("%v %q; want %v matching %q\nlog:\n%s", res.Outcome, res.Message, tt.outcome, tt.message, res.Log)
			}
		})
	}
}

// linuxAccepted is a listener and an accepted connection, blocking.
const linuxAccepted = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 10>
+0 > S. 0:0(0) ack 1 <...>
+.01 < . 1:1(0) ack 1 win 514
+0 accept(3, ..., ...) = 4
`

// NULL buffers reach the kernel, which answers EFAULT, as under
// packetdrill; the errno is checked, not assumed.
func TestLinuxNullBuffers(t *testing.T) {
	runLinuxCases(t, []linuxCase{
		{name: "EFAULT from each call", src: linuxAccepted + `+0 write(4, NULL, 1000) = -1 EFAULT (Bad address)
+0 send(4, NULL, 1000, 0) = -1 EFAULT (Bad address)
+0 sendto(4, NULL, 1000, 0, ..., ...) = -1 EFAULT (Bad address)
+0 < . 1:1001(1000) ack 1 win 200
+0 read(4, NULL, 1000) = -1 EFAULT (Bad address)
+0 recv(4, NULL, 1000, 0) = -1 EFAULT (Bad address)
+0 recvfrom(4, NULL, 1000, 0, ..., ...) = -1 EFAULT (Bad address)
`, outcome: injector.Passed, message: "^$"},
		{name: "a wrong errno fails", src: linuxAccepted + "+0 write(4, NULL, 1000) = -1 EINVAL (Invalid argument)\n",
			outcome: injector.Failed, message: `^t.pkt:9: write\(4, NULL, 1000\) returned -1 EFAULT`},
	})
}

// A bare family stands for a zeroed address: AF_UNSPEC dissolves a
// connection (Linux resets it), and a Fast Open sendto with it is refused.
func TestLinuxBareFamilies(t *testing.T) {
	runLinuxCases(t, []linuxCase{
		{name: "connect AF_UNSPEC resets", src: linuxAccepted + "+0 connect(4, AF_UNSPEC, ...) = 0\n+0 > R. 1:1(0) ack 1\n",
			outcome: injector.Passed, message: "^$"},
		{name: "...and sends no FIN", src: linuxAccepted + "+0 connect(4, AF_UNSPEC, ...) = 0\n+0 > F. 1:1(0) ack 1\n",
			outcome: injector.Failed, message: `^t.pkt:10: `},
		{name: "sendto MSG_FASTOPEN AF_UNSPEC", src: `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 sendto(3, ..., 0, MSG_FASTOPEN, AF_UNSPEC, ...) = -1 EOPNOTSUPP (Operation not supported)
`, outcome: injector.Passed, message: "^$"},
	})
}

// open and sendfile send a file's bytes; pipe and splice move a socket's
// bytes into a pipe, stopping at urgent data as the kernel does for a
// blocking socket.
func TestLinuxFilesAndPipes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "five")
	if err := os.WriteFile(file, make([]byte, 5), 0o644); err != nil {
		t.Fatal(err)
	}
	sendfile := linuxAccepted + `+0 open("` + file + `", O_RDONLY) = 5
+0 sendfile(4, 5, [0], 5) = 5
+0 > P. 1:6(5) ack 1
`
	splice := linuxAccepted + `+0 pipe([5, 6]) = 0
+0 < U. 1:101(100) ack 1 win 257 urg 100
+0 splice(4, NULL, 6, NULL, 99, 0) = 99
+0 splice(4, NULL, 6, NULL, 1, 0) = 0
+0 read(5, ..., 1000) = 99
`
	runLinuxCases(t, []linuxCase{
		{name: "sendfile", src: sendfile, outcome: injector.Passed, message: "^$"},
		{name: "sendfile from an offset", src: regexp.MustCompile(`\[0\], 5\) = 5\n\+0 > P. 1:6\(5\)`).ReplaceAllString(sendfile, "[2], 5) = 3\n+0 > P. 1:4(3)"),
			outcome: injector.Passed, message: "^$"},
		{name: "a missing file", src: linuxAccepted + `+0 open("` + file + `.none", O_RDONLY) = -1 ENOENT (No such file or directory)` + "\n",
			outcome: injector.Passed, message: "^$"},
		{name: "sendfile's count is checked", src: regexp.MustCompile(`= 5\n\+0 >`).ReplaceAllString(sendfile, "= 4\n+0 >"),
			outcome: injector.Failed, message: `^t.pkt:10: sendfile\(4, 5, \[0\], 5\) returned 5; the script expects 4`},
		{name: "splice", src: splice, outcome: injector.Passed, message: "^$"},
		{name: "splice stops at urgent data", src: regexp.MustCompile(`1, 0\) = 0`).ReplaceAllString(splice, "1, 0) = 1"),
			outcome: injector.Failed, message: `^t.pkt:12: splice\(4, NULL, 6, NULL, 1, 0\) returned 0; the script expects 1`},
	})
}

// SO_TIMESTAMPING reports each stage of a write on the error queue: the
// software timestamp is compared with the script's time, and the extended
// error with its fields. The level and type come through -D as
// packetdrill's runner passes them, a symbol naming a symbol.
func TestLinuxTimestamping(t *testing.T) {
	msg := func(stage, nsec string) string {
		return `+0 recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{...,0}], msg_flags=MSG_ERRQUEUE|MSG_TRUNC,
  msg_control=[{cmsg_level=SOL_SOCKET, cmsg_type=SCM_TIMESTAMPING, cmsg_data={scm_sec=0,scm_nsec=` + nsec + `}},
    {cmsg_level=CMSG_LEVEL_IP, cmsg_type=CMSG_TYPE_RECVERR, cmsg_data={ee_errno=ENOMSG, ee_origin=SO_EE_ORIGIN_TIMESTAMPING,
      ee_type=0, ee_code=0, ee_info=` + stage + `, ee_data=999}}]}, MSG_ERRQUEUE) = 0
`
	}
	// A wide tolerance keeps the passing case passing on a loaded machine
	// (the ACK is injected late with everything before it); 60 ms is still
	// far outside it.
	src := func(ackAt string) string {
		return "--tolerance_usecs=15000\n" + linuxAccepted + `+0 setsockopt(4, SOL_SOCKET, SO_TIMESTAMPING, [SOF_TIMESTAMPING_TX_SCHED | SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_TX_ACK | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID], 4) = 0
+0 write(4, ..., 1000) = 1000
+0 > P. 1:1001(1000) ack 1
+.01 < . 1:1(0) ack 1001 win 514
` + msg("SCM_TSTAMP_SCHED", "10000000") + msg("SCM_TSTAMP_SND", "10000000") + msg("SCM_TSTAMP_ACK", ackAt)
	}
	defines := map[string]string{"CMSG_LEVEL_IP": "SOL_IP", "CMSG_TYPE_RECVERR": "IP_RECVERR"}
	runLinuxCases(t, []linuxCase{
		{name: "timestamps at the script's times", src: src("20000000"), defines: defines, outcome: injector.Passed, message: "^$"},
		{name: "a timestamp off the script's time fails", src: src("60000000"), defines: defines, outcome: injector.Failed,
			message: `timestamp 0\.02\d+ s, the script expects 0\.060000 s`},
		{name: "the -D symbols are those of the IP version", src: src("20000000"),
			defines: map[string]string{"CMSG_LEVEL_IP": "SOL_IPV6", "CMSG_TYPE_RECVERR": "IPV6_RECVERR"}, outcome: injector.Failed,
			message: `control message 1 level<<16\|type`},
	})
}

// sendmsg hands the kernel each iovec as its own buffer: with MSG_ZEROCOPY
// each becomes a page fragment, and a segment holds at most 17 of them, so
// 18 one-byte iovecs leave as 17 bytes and 1 (one segment of 18 if they
// were sent as one buffer).
func TestLinuxSendmsgIovecs(t *testing.T) {
	iov := "[" + strings.Repeat("{..., 1}, ", 17) + "{..., 1}]"
	runLinuxCases(t, []linuxCase{
		{name: "one fragment per iovec", src: `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_ZEROCOPY, [1], 4) = 0
+0 setsockopt(3, SOL_SOCKET, SO_SNDBUF, [2000000], 4) = 0
` + linuxAccepted[strings.Index(linuxAccepted, "+0 bind"):] + `+0 sendmsg(4, {msg_name(...)=..., msg_iov(18)=` + iov + `, msg_flags=0}, MSG_ZEROCOPY) = 18
+0 > P. 1:18(17) ack 1
+0 < . 1:1(0) ack 18 win 257
+0 > P. 18:19(1) ack 1
`, outcome: injector.Passed, message: "^$"},
	})
}

// Option values other than integers: getsockopt compares a string value
// and its length, and setsockopt takes a struct linger.
func TestLinuxSockoptForms(t *testing.T) {
	cong := linuxAccepted + `+0 setsockopt(4, SOL_TCP, TCP_CONGESTION, "reno", 4) = 0
+0 getsockopt(4, SOL_TCP, TCP_CONGESTION, "reno", [4]) = 0
`
	linger := linuxAccepted + "+0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n+0 close(4) = 0\n+0 > R. 1:1(0) ack 1\n"
	runLinuxCases(t, []linuxCase{
		{name: "getsockopt string", src: cong, outcome: injector.Passed, message: "^$"},
		{name: "a different string fails", src: strings.Replace(cong, `"reno", [4]`, `"cubi", [4]`, 1), outcome: injector.Failed,
			message: `^t.pkt:10: getsockopt\(.*\) returned option value mismatch: value "reno", the script expects "cubi"`},
		{name: "linger {1, 0} resets on close", src: linger, outcome: injector.Passed, message: "^$"},
		{name: "linger {0, 0} does not", src: strings.Replace(linger, "onoff=1", "onoff=0", 1), outcome: injector.Failed, message: `^t.pkt:11: `},
	})
}
