//go:build linux

package guestinit

import "github.com/tcpconform/tcpconform/internal/posix"

// FreshNamespaces gives `tcpconform agent -iface` on a remote device what
// the guest has: every case's stack in a new network namespace, on a
// passthru macvlan over the test interface nic with the interface's MAC
// address and the test addresses ip4 and ip6 (ADDR/LEN, either may be
// empty), so that nothing a case leaves in the kernel meets the next. In
// the agent's own namespace only nic changes: it is brought up, without
// addresses or IPv6 of its own. renew is kernelagent.Config's Renew;
// ipv4 and ipv6 say which addresses the stack got.
func FreshNamespaces(nic, ip4, ip6 string) (stack *posix.Stack, renew func(*posix.Stack) (*posix.Stack, error), ipv4, ipv6 bool, err error) {
	n, err := newNetns(params{nic: nic, ip4: ip4, ip6: ip6, device: true})
	if err != nil {
		return nil, nil, false, false, err
	}
	return posix.New(n.th), n.renewStack, n.ipv4, n.ipv6, nil
}
