package agent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/tcpconform/tcpconform/targets"
)

// Command is an agent given by its command line: a program and arguments in
// which placeholders stand for what the harness decides, so that the same
// program can be started for every case (see Expand for the placeholders).
// The lwIP target and the agent target of the command line both start
// their agents through it.
type Command struct {
	// Name labels errors and skips ("lwip", "agent").
	Name string
	// Argv is the program and its arguments, placeholders unexpanded.
	Argv []string
	// Net is the addresses the stack is given.
	Net Net
}

// Net is the addresses of an agent's stack, with the prefix lengths of its
// networks.
type Net struct {
	targets.Addrs
	Prefix4, Prefix6 int
}

// DocumentationNet is targets.DocumentationAddrs on a /24 and a /64.
var DocumentationNet = Net{Addrs: targets.DocumentationAddrs, Prefix4: 24, Prefix6: 64}

// placeholder matches what looks like a placeholder: a word in braces.
var placeholder = regexp.MustCompile(`\{[a-z0-9]+\}`)

// Expand returns argv with each placeholder replaced:
//
//	{addr4} {prefix4} {peer4}  the stack's IPv4 address, its prefix length, the peer's address
//	{addr6} {prefix6} {peer6}  the same for IPv6, or "-" when the stack has no IPv6 address
//	{seed}                     the seed of the run (-seed), below 2^32, never 0
//
// A word in braces that is none of these is an error, so that a misspelt
// placeholder does not reach the agent as text.
func (n Net) Expand(argv []string, seed uint64) ([]string, error) {
	if seed == 0 {
		seed = 1
	}
	values := map[string]string{
		"{addr4}":   n.Local4.String(),
		"{prefix4}": strconv.Itoa(n.Prefix4),
		"{peer4}":   n.Peer4.String(),
		"{addr6}":   n.Local6.String(),
		"{prefix6}": strconv.Itoa(n.Prefix6),
		"{peer6}":   n.Peer6.String(),
		"{seed}":    strconv.FormatUint(seed&0xffffffff, 10),
	}
	if !n.Local6.IsValid() {
		values["{addr6}"], values["{prefix6}"], values["{peer6}"] = "-", "-", "-"
	}
	out := make([]string, len(argv))
	var bad error
	for i, a := range argv {
		out[i] = placeholder.ReplaceAllStringFunc(a, func(p string) string {
			v, ok := values[p]
			if !ok && bad == nil {
				bad = fmt.Errorf("unknown placeholder %s in %q (known: {addr4} {prefix4} {peer4} {addr6} {prefix6} {peer6} {seed})", p, a)
			}
			return v
		})
	}
	return out, bad
}

// Set sets the addresses of one family (4 or 6): the stack's, "ADDR" or
// "ADDR/LEN" (the prefix length defaults to the one n has), and the
// harness's peer's, which must lie in the stack's prefix. An empty string
// keeps the address n has. An IPv6 stack address "none" leaves the stack
// without IPv6.
func (n *Net) Set(family int, stack, peer string) error {
	if family == 6 && stack == "none" {
		n.Local6, n.Peer6, n.Prefix6 = netip.Addr{}, netip.Addr{}, 0
		return nil
	}
	local, bits, rem := n.Local4, n.Prefix4, n.Peer4
	if family == 6 {
		local, bits, rem = n.Local6, n.Prefix6, n.Peer6
	}
	if stack != "" {
		a, l, hasLen := strings.Cut(stack, "/")
		var err error
		if local, err = netip.ParseAddr(a); err != nil {
			return fmt.Errorf("the stack's address %q: %v", stack, err)
		}
		if hasLen {
			if bits, err = strconv.Atoi(l); err != nil || bits < 1 || bits > local.BitLen() {
				return fmt.Errorf("the stack's address %q: bad prefix length", stack)
			}
		}
	}
	if peer != "" {
		var err error
		if rem, err = netip.ParseAddr(peer); err != nil {
			return fmt.Errorf("the peer's address %q: %v", peer, err)
		}
	}
	pfx := netip.PrefixFrom(local, bits)
	switch {
	case family == 4 && (!local.Is4() || !rem.Is4()):
		return fmt.Errorf("%v and %v: not both IPv4 addresses", local, rem)
	case family == 6 && (!local.Is6() || local.Is4In6() || !rem.Is6() || rem.Is4In6()):
		return fmt.Errorf("%v and %v: not both IPv6 addresses", local, rem)
	case local == rem:
		return fmt.Errorf("%v: the stack and the peer need addresses of their own", local)
	case !pfx.Contains(rem):
		return fmt.Errorf("the peer %v is not in the stack's %v, so the stack could not reach it directly", rem, pfx.Masked())
	}
	if family == 4 {
		n.Local4, n.Prefix4, n.Peer4 = local, bits, rem
	} else {
		n.Local6, n.Prefix6, n.Peer6 = local, bits, rem
	}
	return nil
}

// New starts one agent for an instance. Its capabilities are what its
// hello announces: "ipv4", "ipv6", "state", "syn-received" for states of
// passive connections before accept, and "tcpinfo" (TCPInfoInstance). The link's MTU is fixed and
// TIME-WAIT cannot be set through the protocol, so configurations asking
// for either are refused with targets.ErrUnsupported.
func (c Command) New(ctx context.Context, cfg targets.Config) (targets.Instance, error) {
	if err := cfg.LinkUnsupported(c.Name, false); err != nil {
		return nil, err
	}
	if cfg.TimeWait != 0 {
		return nil, fmt.Errorf("%s target: %w: the agent protocol cannot set the TIME-WAIT duration", c.Name, targets.ErrUnsupported)
	}
	if len(c.Argv) == 0 {
		return nil, errors.New(c.Name + " target: no agent command")
	}
	argv, err := c.Net.Expand(c.Argv, cfg.Seed)
	if err != nil {
		return nil, err
	}
	a, err := Start(ctx, Spec{Name: c.Name + " agent", Path: argv[0], Args: argv[1:]})
	if err != nil {
		return nil, err
	}
	h := a.Hello()
	caps := targets.Capabilities{
		IPv4:             h.Has("ipv4"),
		IPv6:             h.Has("ipv6") && c.Net.Local6.IsValid(),
		State:            h.Has("state"),
		SynReceivedState: h.Has("syn-received"),
	}
	in := NewInstance(a, c.Net.Addrs, caps)
	if h.Has("tcpinfo") {
		return TCPInfoInstance{in}, nil
	}
	return in, nil
}

// String is the command line, its words quoted where SplitCommand needs
// it, placeholders unexpanded: what -agent-cmd takes.
func (c Command) String() string {
	words := make([]string, len(c.Argv))
	for i, w := range c.Argv {
		words[i] = quoteWord(w)
	}
	return strings.Join(words, " ")
}

// Commander is a target whose instances are agents started from a
// command line it can show ("tcpconform targets -v").
type Commander interface {
	Command() (Command, error)
}
