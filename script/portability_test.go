package script

import (
	"strings"
	"testing"
)

func TestPortabilityWarnings(t *testing.T) {
	const udp = "+0 > . 1:1(0) ack 1/udp(9811 > 1)\n" // an nplab marker on line 2
	tests := []struct {
		name, src string
		want      []string
	}{
		{"google's own forms", "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = -1 EAGAIN (Resource temporarily unavailable)\n" +
			"+0 > [ect0, flowlabel 0x1] S.5 0:0(0) <mss 1000>\n+0 < icmp unreachable frag_needed mtu 800\n", nil},
		{"errno without a note", "0 close(3) = -1 EBADF\n",
			[]string{`t.pkt:1:17: errno EBADF has no "(note)" after it, which packetdrill rejects`}},
		{"a number in a note", "0 close(3) = -1 EBADF (Bad file 9)\n",
			[]string{`t.pkt:1:33: integer 9 in a "(note)", which packetdrill rejects`}},
		{"a keyword in a note", "0 close(3) = -1 ECONNRESET (reset by ack)\n",
			[]string{`t.pkt:1:38: keyword "ack" in a "(note)", which packetdrill rejects`}},
		{"flags may start a note", "0 close(3) = -1 EINVAL (flags are bad)\n", nil},
		{"...but nowhere else", "0 close(3) = -1 EINVAL (bad flags)\n",
			[]string{`t.pkt:1:29: keyword "flags" in a "(note)", which packetdrill rejects`}},
		{"an empty note", "0 close(3) = 0 ()\n",
			[]string{`t.pkt:1:16: empty "(note)", which packetdrill rejects`}},
		{"nplab's ICMP code in a google script", "0 < icmp time_exceeded ttl_exceeded_in_transit\n",
			[]string{"t.pkt:1:24: ICMP code ttl_exceeded_in_transit is nplab packetdrill syntax, which google's packetdrill rejects"}},
		{"...is fine in an nplab script", "0 < icmp time_exceeded ttl_exceeded_in_transit\n" + udp, nil},
		{"nplab's field list in a google script", "0 > (tos 0x20, ttl 4) . 1:1(0) ack 1\n",
			[]string{`t.pkt:1:5: IP field list "(tos 0x20, ttl 4)" is nplab packetdrill syntax, which google's packetdrill rejects`}},
		{"nplab's letters after the dot", "0 > S.E 0:0(0)\n",
			[]string{`t.pkt:1:7: flags "E" after '.' is nplab packetdrill syntax, which google's packetdrill rejects`}},
		{"google's option in an nplab script", "--mss=1000\n0 > (hlim 3) . 1:1(0) ack 1\n",
			[]string{`t.pkt:1:1: option --mss is google packetdrill syntax, which nplab's packetdrill (needed for the IPv6 field "hlim" at line 2) rejects`}},
		{"#ifdef marks an nplab script", "0 > encap psp spi 1 . 1:1(0) ack 1\n#ifdef X\n#endif\n",
			[]string{`t.pkt:1:5: "encap psp" is google packetdrill syntax, which nplab's packetdrill (needed for the "#ifdef" at line 2) rejects`}},
		{"nplab's option marks an nplab script", "--udp_encapsulation=tcp\n0 > encap psp spi 1 . 1:1(0) ack 1\n",
			[]string{`t.pkt:2:5: "encap psp" is google packetdrill syntax, which nplab's packetdrill (needed for the option --udp_encapsulation at line 1) rejects`}},
		{"htons after sin_port", "0 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"192.0.2.1\")}, 16) = 0\n", nil},
		{"htons elsewhere", "0 setsockopt(3, SOL_SOCKET, SO_LINGER, htons(1), 4) = 0\n",
			[]string{`t.pkt:1:40: htons(...) here, which packetdrill rejects`}},
		{"a call packetdrill lacks", "0 setsockopt(3, SOL_SOCKET, SO_LINGER, frob(1), 4) = 0\n",
			[]string{`t.pkt:1:40: frob(...) here, which packetdrill rejects`}},
		{"msg_iov(N)=", "0 recvmsg(3, {msg_name(...)=..., msg_iov(1)=[{..., 10}], msg_flags=0}, 0) = 10\n", nil},
		{"another indexed field", "0 recvmsg(3, {frob(1)=2}, 0) = 10\n",
			[]string{`t.pkt:1:15: frob(...)=, which packetdrill rejects`}},
		{"google's syntax alone is fine", "--mss=1000\n0 > encap psp spi 1 . 1:1(0) ack 1\n", nil},
	}
	for _, tt := range tests {
		f := mustParse(t, tt.src, ParseOptions{})
		var got []string
		for _, w := range f.Warnings {
			got = append(got, w.Error())
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: warnings\n%s\nwant\n%s", tt.name, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}
