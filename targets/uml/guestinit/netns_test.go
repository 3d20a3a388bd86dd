//go:build linux

package guestinit

import (
	"net/netip"
	"testing"
)

func TestHasLocalRoute6(t *testing.T) {
	// /proc/net/ipv6_route of a guest namespace: the prefix route, the
	// local route of 2001:db8::1 (RTF_LOCAL|RTF_NONEXTHOP|RTF_UP), the
	// link-local's, multicast and lo.
	table := `20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     vec0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     vec0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
20010db8000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001     vec0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     vec0
`
	for _, c := range []struct {
		table, addr string
		want        bool
	}{
		{table, "2001:db8::1", true},
		{table, "::1", true},
		{table, "2001:db8::2", false},
		{table, "2001:db8::", false}, // the prefix route is no local route
		{"", "2001:db8::1", false},
		// A /128 route to the address that is not local (RTF_UP only).
		{"20010db8000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000001 00000000 00000001     vec0\n", "2001:db8::1", false},
	} {
		if got := hasLocalRoute6(c.table, netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("hasLocalRoute6(%s) = %v in\n%s", c.addr, got, c.table)
		}
	}
}

// The tcpconform.* words of the kernel command line set the parameters;
// unknown ones of ours are complained about, others are not ours.
func TestParseParams(t *testing.T) {
	p, errs := parseParams("console=ttyS1 tcpconform.ip4=192.0.2.1/24 tcpconform.ip6=2001:db8::1/64 tcpconform.ctl=/dev/ttyS1 tcpconform.nic=vec0 tcpconform.peer=192.0.2.2,02:00:00:00:00:02 tcpconform.bogus=1 quiet")
	want := params{ip4: "192.0.2.1/24", ip6: "2001:db8::1/64", ctl: "/dev/ttyS1", nic: "vec0", peer: "192.0.2.2,02:00:00:00:00:02"}
	if p != want || len(errs) != 1 {
		t.Errorf("parseParams = %+v, %v; want %+v and one complaint", p, errs, want)
	}
	if p, _ := parseParams(""); p.ctl != "/dev/ttyS0" {
		t.Errorf("default control line %q, want /dev/ttyS0", p.ctl)
	}
}
