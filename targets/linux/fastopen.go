package linux

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// FastOpenCookies implements targets.FastOpenCookies. Linux's server cookie
// (net/ipv4/tcp_fastopen.c) is SipHash-2-4 of the SYN's source address
// followed by its destination address, keyed with a 128-bit key, written out
// as 8 little-endian bytes. The stack-wide keys are the namespace's
// net.ipv4.tcp_fastopen_key (a primary and maybe a backup); a listener may
// carry its own through TCP_FASTOPEN_KEY, given as extra.
func (in *instance) FastOpenCookies(client, server netip.Addr, extra [][]byte) ([][]byte, error) {
	var text []byte
	err := in.ex.Do(func() error {
		var err error
		text, err = os.ReadFile("/proc/sys/net/ipv4/tcp_fastopen_key")
		return err
	})
	if err != nil {
		return nil, err
	}
	keys, err := parseFastOpenKeys(strings.TrimSpace(string(text)))
	if err != nil {
		return nil, err
	}
	for _, k := range extra {
		// TCP_FASTOPEN_KEY takes a primary key and maybe a backup.
		for len(k) >= 16 {
			keys = append(keys, sipKey{binary.LittleEndian.Uint64(k), binary.LittleEndian.Uint64(k[8:])})
			k = k[16:]
		}
	}
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = fastOpenCookie(k, client.Unmap(), server.Unmap())
	}
	return out, nil
}

// sipKey is a SipHash key as the kernel holds it: two 64-bit halves.
type sipKey [2]uint64

// parseFastOpenKeys reads the sysctl's text: keys separated by commas, each
// four 32-bit words in hex joined by dashes ("a1a1a1a1-b2b2b2b2-…"). The
// kernel stores each word little-endian, so the words pair up into the two
// halves low word first.
func parseFastOpenKeys(s string) ([]sipKey, error) {
	var keys []sipKey
	for _, one := range strings.Split(s, ",") {
		words := strings.Split(one, "-")
		if len(words) != 4 {
			return nil, fmt.Errorf("net.ipv4.tcp_fastopen_key %q: want four words joined by dashes", s)
		}
		var w [4]uint64
		for i, x := range words {
			v, err := strconv.ParseUint(x, 16, 32)
			if err != nil {
				return nil, fmt.Errorf("net.ipv4.tcp_fastopen_key %q: %v", s, err)
			}
			w[i] = v
		}
		keys = append(keys, sipKey{w[0] | w[1]<<32, w[2] | w[3]<<32})
	}
	return keys, nil
}

// fastOpenCookie is the cookie a SYN from client to server gets under k.
func fastOpenCookie(k sipKey, client, server netip.Addr) []byte {
	msg := append(client.AsSlice(), server.AsSlice()...)
	return binary.LittleEndian.AppendUint64(nil, sipHash24(k, msg))
}

// sipHash24 is SipHash-2-4 (Aumasson and Bernstein, 2012): two compression
// rounds per 8-byte word, four finalization rounds.
func sipHash24(k sipKey, msg []byte) uint64 {
	v := [4]uint64{
		k[0] ^ 0x736f6d6570736575, k[1] ^ 0x646f72616e646f6d,
		k[0] ^ 0x6c7967656e657261, k[1] ^ 0x7465646279746573,
	}
	round := func() {
		v[0] += v[1]
		v[1] = bits.RotateLeft64(v[1], 13) ^ v[0]
		v[0] = bits.RotateLeft64(v[0], 32)
		v[2] += v[3]
		v[3] = bits.RotateLeft64(v[3], 16) ^ v[2]
		v[0] += v[3]
		v[3] = bits.RotateLeft64(v[3], 21) ^ v[0]
		v[2] += v[1]
		v[1] = bits.RotateLeft64(v[1], 17) ^ v[2]
		v[2] = bits.RotateLeft64(v[2], 32)
	}
	compress := func(m uint64) {
		v[3] ^= m
		round()
		round()
		v[0] ^= m
	}
	n := len(msg)
	for ; len(msg) >= 8; msg = msg[8:] {
		compress(binary.LittleEndian.Uint64(msg))
	}
	var last [8]byte
	copy(last[:], msg)
	last[7] = byte(n)
	compress(binary.LittleEndian.Uint64(last[:]))
	v[2] ^= 0xff
	for range 4 {
		round()
	}
	return v[0] ^ v[1] ^ v[2] ^ v[3]
}
