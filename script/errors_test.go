package script

import (
	"strings"
	"testing"
)

// TestErrors checks the exact text of the errors for malformed scripts.
func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // errors, one per line
	}{
		{"first event not at 0", "+.1 close(3) = 0\n",
			"t.pkt:1:1: first event must be at time 0"},
		{"time backwards", "0 close(3) = 0\n0.2 close(3) = 0\n0.1 close(3) = 0\n",
			"t.pkt:3:1: time goes backwards: 0.100 after 0.200"},
		{"relative then absolute backwards", "0 close(3) = 0\n+1 close(3) = 0\n0.5 close(3) = 0\n",
			"t.pkt:3:1: time goes backwards: 0.500 after 1.000"},
		{"seq len mismatch", "0 < S 1:1001(100) win 100\n",
			"t.pkt:1:7: sequence range 1:1001 does not match length 100"},
		{"unknown syscall", "0 frobnicate(3) = 0\n",
			`t.pkt:1:3: unknown system call "frobnicate"`},
		{"inbound without win", "0 < S 0:0(0)\n",
			`t.pkt:1:3: inbound TCP packet needs a window ("win N")`},
		{"star time inbound", "0 close(3) = 0\n* < . 1:1(0) ack 1 win 10\n",
			`t.pkt:2:1: "*" time is allowed only on outbound packets`},
		{"range on syscall", "0 close(3) = 0\n+.1~+.2 close(3) = 0\n",
			"t.pkt:2:1: time range is allowed only on outbound packets"},
		{"range backwards", "0 > S 0:0(0)\n+.2~+.1 > . 1:1(0) ack 1\n",
			"t.pkt:2:6: time range ends before it starts"},
		{"blocking on packet", "0 ...0.1 > S 0:0(0)\n",
			`t.pkt:1:1: blocking time "...END" is allowed only on system calls`},
		{"blocking backwards", "0 close(3) = 0\n+.2...0.1 read(3, ..., 1) = 1\n",
			"t.pkt:2:7: blocking call ends before it starts"},
		{"any options inbound", "0 < S 0:0(0) win 10 <...>\n",
			"t.pkt:1:21: <...> is allowed only on outbound packets"},
		{"ect01 inbound", "0 < [ect01] S 0:0(0) win 10\n",
			"t.pkt:1:6: ect01 is allowed only on outbound packets"},
		{"ecn on udp", "0 < [ect0] udp (10)\n",
			"t.pkt:1:6: ect0 is not allowed on UDP packets"},
		{"options too long", "0 > S 0:0(0) <TS val 1 ecr 2,TS val 1 ecr 2,TS val 1 ecr 2,TS val 1 ecr 2,nop>\n",
			"t.pkt:1:14: TCP options take 41 bytes, more than the 40 a header holds"},
		{"port too big", "0 < 70000>80 S 0:0(0) win 10\n",
			"t.pkt:1:5: port 70000 does not fit in 16 bits"},
		{"unknown option", "--frob=1\n0 close(3) = 0\n",
			"t.pkt:1:1: unknown option --frob"},
		{"bad option value", "--local_ip=ipv4\n--tolerance_usecs=fast\n0 close(3) = 0\n",
			"t.pkt:1:12: option --local_ip needs an IP address, not \"ipv4\"\n" +
				"t.pkt:2:19: option --tolerance_usecs needs an integer, not \"fast\""},
		{"unknown flag", "0 < SX 0:0(0) win 10\n",
			`t.pkt:1:5: unknown TCP flag 'X' in "SX"`},
		{"C is not a flag", "0 < SC. 0:0(0) ack 1 win 10\n",
			`t.pkt:1:5: unknown TCP flag 'C' in "SC"`},
		{"ace digit too big", "0 > S.8 0:0(0)\n",
			"t.pkt:1:6: ACE field 8 must be one digit from 0 to 7"},
		{"ace with ecn flags", "0 > SE.5 0:0(0)\n",
			"t.pkt:1:7: ACE field cannot be combined with the E, W or A flags"},
		{"odd cookie", "0 < S 0:0(0) win 10 <FO abc>\n",
			"t.pkt:1:25: FO cookie abc has an odd number of hex digits"},
		{"cookie not hex", "0 < S 0:0(0) win 10 <FO xyz1>\n",
			`t.pkt:1:25: FO cookie "xyz1" is not hex`},
		{"md5 too long", "0 < . 1:1(0) ack 1 win 10 <md5 000102030405060708090a0b0c0d0e0f10>\n",
			"t.pkt:1:32: md5 digest is 17 bytes, more than 16"},
		{"mss too big", "0 < S 0:0(0) win 10 <mss 70000>\n",
			"t.pkt:1:26: mss 70000 does not fit in 16 bits"},
		{"outbound wscale over 14", "0 > S 0:0(0) <wscale 15>\n",
			"t.pkt:1:22: wscale 15 is more than 14, which a stack must never send (RFC 7323 section 2.3)"},
		{"unknown tcp option", "0 < S 0:0(0) win 10 <mss 1000,frob 3>\n",
			`t.pkt:1:31: unknown TCP option "frob"`},
		{"window too big", "0 < . 1:1(0) ack 1 win 65536\n",
			"t.pkt:1:24: window 65536 does not fit in 16 bits"},
		{"tos must be hex", "0 < (tos 16) . 1:1(0) ack 1 win 10\n",
			`t.pkt:1:10: syntax error: unexpected integer 16, expected hex number`},
		{"flowlabel too big", "0 > [flowlabel 0x100000] . 1:1(0) ack 1\n",
			"t.pkt:1:16: flowlabel 0x100000 does not fit in 20 bits"},
		{"unknown icmp names", "0 < icmp frob bar\n",
			"t.pkt:1:10: unknown ICMP type \"frob\"\nt.pkt:1:15: unknown ICMP code \"bar\""},
		{"udp length", "0 < udp (70000)\n",
			"t.pkt:1:10: length 70000 does not fit in 16 bits"},
		{"negative time", "0 close(3) = 0\n-1 close(3) = 0\n",
			"t.pkt:2:1: time -1 is negative"},
		{"bad address", "0 close(3) = 0\n+0 connect(3, {sa_family=AF_INET, sin_addr=inet_addr(\"1.2.3\")}, 16) = 0\n",
			`t.pkt:2:54: inet_addr: bad address "1.2.3"`},
		{"untimed command between events", "0 close(3) = 0\n`a`\n+0 close(3) = 0\n`b`\n",
			"t.pkt:2:1: shell command between events needs a time; only the first and the last command may be untimed"},

		// Syntax errors.
		{"empty script", "", "t.pkt:1:1: syntax error: unexpected end of file, expected time"},
		{"missing time", "// only a title\nclose(3) = 0\n",
			`t.pkt:2:1: syntax error: unexpected word "close", expected time`},
		{"missing paren", "0 close(3 = 0\n",
			"t.pkt:1:11: syntax error: unexpected '=', expected ',' or ')'"},
		{"error on 3rd line of an event", "0 recvmsg(3, {msg_name(...)=...,\n   msg_iov(1)=[{..., 0}],\n   msg_flags=MSG_ERRQUEUE,,\n   }, 0) = 0\n+0 close(3) = 0\n",
			"t.pkt:3:27: syntax error: unexpected ',', expected expression"},
		{"keyword as symbol on 2nd line", "0 recvmsg(3, {msg_name(...)=...,\n   msg_flags=fd}, 0) = 0\n",
			`t.pkt:2:14: syntax error: unexpected keyword "fd", expected expression`},
		{"unclosed note", "0 close(3) = 0 (oops\n+0 close(3) = 0\n",
			"t.pkt:1:16: note is not closed: missing ')' on its line"},
		{"fields out of order", "0 > S 0:0(0) win 10 ack 1\n",
			`t.pkt:1:21: syntax error: unexpected keyword "ack", expected "urg", '<' or next event`},
		{"junk after command", "0 `echo` junk\n",
			`t.pkt:1:10: syntax error: unexpected word "junk", expected next event`},
		{"unterminated string", "0 write(3, \"abc, 3) = 3\n",
			`t.pkt:1:12: string is not closed: missing '"'`},
		{"unterminated code", "0 %{ assert 1\n",
			`t.pkt:1:3: code block is not closed: missing "}%"`},
		{"relative range end needs plus", "0 > S 0:0(0)\n+.1~.2 > . 1:1(0) ack 1\n",
			"t.pkt:2:5: syntax error: unexpected number .2, expected '+'"},
		{"missing flags", "0 < 0:0(0) win 10\n",
			"t.pkt:1:5: syntax error: unexpected integer 0, expected TCP flags"},
		{"unterminated ifdef", "0 close(3) = 0\n#ifdef NOPE\n+0 close(3) = 0\n",
			"t.pkt:2:1: #ifdef NOPE is not closed: missing #endif"},
		{"too deep", "0 f(" + strings.Repeat("[", 120) + ") = 0\n",
			"t.pkt:1:105: expression nested more than 100 deep"},
		{"#endif alone", "0 close(3) = 0\n#endif\n",
			"t.pkt:2:1: #endif without #ifdef"},
		{"bad character", "0 close(3) = 0 $\n",
			"t.pkt:1:16: syntax error: unexpected '$', expected errno, \"(note)\" or next event"},
		{"option errors", "--mss=1.5\n--tolerance_usecs=10\n--bogus\n0 close(3) = 0\n--late\n",
			"t.pkt:1:7: syntax error: unexpected number 1.5, expected option value (an integer, word, \"string\" or address)\n" +
				"t.pkt:3:1: unknown option --bogus\n" +
				"t.pkt:5:1: syntax error: unexpected option --late, expected time"},
		{"recovery reports later errors too", "0 close(3 = 0\n+0 frob() = 0\n+0 < S 0:0(0)\n",
			"t.pkt:1:11: syntax error: unexpected '=', expected ',' or ')'\n" +
				"t.pkt:2:4: unknown system call \"frob\"\n" +
				`t.pkt:3:4: inbound TCP packet needs a window ("win N")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.pkt", []byte(tt.src), ParseOptions{})
			if err == nil {
				t.Fatalf("no error, want:\n%s", tt.want)
			}
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("error is %T, want ErrorList", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestErrorLimit checks that a script full of errors stops at MaxErrors.
func TestErrorLimit(t *testing.T) {
	src := "0 close(3) = 0\n" + strings.Repeat("+0 frob(3) = 0\n", 50)
	_, err := Parse("t.pkt", []byte(src), ParseOptions{})
	if n := len(AsErrorList(err)); n != MaxErrors {
		t.Errorf("%d errors, want %d", n, MaxErrors)
	}
}
