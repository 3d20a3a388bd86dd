package linux

import (
	"encoding/hex"
	"net/netip"
	"testing"
)

// The reference vector of the SipHash paper (appendix A): key 00..0f,
// message 00..0e.
func TestSipHashReferenceVector(t *testing.T) {
	k := sipKey{0x0706050403020100, 0x0f0e0d0c0b0a0908}
	msg := make([]byte, 15)
	for i := range msg {
		msg[i] = byte(i)
	}
	if got, want := sipHash24(k, msg), uint64(0xa129ca6149be45e5); got != want {
		t.Fatalf("sipHash24 = %#x, want %#x", got, want)
	}
}

// Cookies the Linux kernel issued, as upstream scripts record them with the
// key and addresses they were made under.
func TestFastOpenCookieMatchesKernel(t *testing.T) {
	for _, c := range []struct{ key, client, server, cookie string }{
		{"a0bf63f7-ed803d81-cd641d30-cebc4a90", "10.248.0.2", "192.168.0.2", "00abaaabe8e954c2"},
		{"00000000-00000000-00000000-00000000", "10.248.0.2", "192.168.0.2", "93b7aa4f550f8a1a"},
		{"a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4", "192.0.2.1", "192.168.0.1", "3021b9d889017eeb"},
	} {
		keys, err := parseFastOpenKeys(c.key)
		if err != nil {
			t.Fatal(err)
		}
		got := hex.EncodeToString(fastOpenCookie(keys[0], netip.MustParseAddr(c.client), netip.MustParseAddr(c.server)))
		if got != c.cookie {
			t.Errorf("key %s, %s → %s: cookie %s, want %s", c.key, c.client, c.server, got, c.cookie)
		}
	}
	for _, bad := range []string{"", "1-2-3", "zz-0-0-0", "1-2-3-4,5"} {
		if _, err := parseFastOpenKeys(bad); err == nil {
			t.Errorf("parseFastOpenKeys(%q) took it", bad)
		}
	}
}
