package script

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds are small scripts covering each construct.
var fuzzSeeds = []string{
	"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n",
	"--tolerance_usecs=10000\n`init`\n0 < S 0:0(0) win 10 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>\n`done`\n",
	"0 > S.5 0:0(0) <ECN e0b 1 ceb 2 e1b 3,nop,FO abcd,FOEXP,md5 00ff>\n+.1~+.2 > [ect01] .3 1:1(0) ack 1 <...>\n",
	"0 < ipv4 1.2.3.4 > 5.6.7.8: gre: mpls (label 1, tc 0, [S], ttl 9): [ce, flowlabel 0x1] encap psp spi 3 8>9 . 1:1(0) ack 1 win 1\n",
	"0 < icmp unreachable frag_needed mtu 800 [0:10(10)]\n* > udp (10)\n",
	"0 recvmsg(3, {msg_name(...)=..., msg_iov(1)=[{..., 0}], msg_flags=0}, 0) = -1 EAGAIN (x y)\n",
	"0 %{ assert 1 }%\n+0...0.1 read(3, \"ab\" \"c\"..., [1]) = 0 (a (b) c)\n",
	"/* t */\n// labels: a\n#ifdef X\n0 close(3) = 0\n#endif\n",
}

// FuzzParse checks that Parse never panics and that every error points
// inside the input.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	filepath.WalkDir(corpusDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".pkt" {
			if src, err := os.ReadFile(path); err == nil {
				f.Add(src)
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse("f.pkt", src, ParseOptions{Defines: map[string]string{"X": "1"}})
		if file == nil {
			t.Fatal("nil File")
		}
		if err == nil {
			return
		}
		errs, ok := err.(ErrorList)
		if !ok || len(errs) == 0 || len(errs) > MaxErrors {
			t.Fatalf("error %T with %d entries", err, len(errs))
		}
		lines := bytes.Count(src, []byte{'\n'}) + 1
		for _, e := range errs {
			if e.Pos.File != "f.pkt" || e.Pos.Line < 1 || e.Pos.Col < 1 || e.Pos.Line > lines {
				t.Fatalf("error outside the input (%d lines): %v", lines, e)
			}
		}
	})
}
