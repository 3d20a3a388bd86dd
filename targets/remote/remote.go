// Package remote is the remote-device target: a TCP stack on another
// machine (a virtual machine on a bridge, a board on a spare NIC, or a
// network namespace at the end of a veth pair), reached on two paths.
//
// Packets: the harness is a station on the Ethernet segment of a named
// interface of this machine (-iface). It sends and captures whole frames
// there through an AF_PACKET socket, from a MAC address of its own, answers
// ARP and neighbour solicitations for its own two addresses only, learns
// the device's MAC address by ARP, and hands the rest of the harness the raw
// IP packets (targets/ether). It never configures the interface.
//
// Control: a TCP connection to `tcpconform agent -listen ADDR -token T` on
// the device (-device), speaking docs/agent-protocol.md after a line with
// the shared token. Socket calls are fenced behind the packets injected
// before them by an ICMP echo to the device.
//
// One connection serves every case of a run, as a virtual machine's guest
// does; each case starts with the agent's reset. docs/remote-devices.md
// says how to set up a device and what the agent may touch.
package remote

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/tcpconform/tcpconform/internal/netnsjoin"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent"
	"github.com/tcpconform/tcpconform/targets/ether"
)

func init() { targets.Register(Target{}) }

// TokenEnv is the environment variable that gives the agent's token when
// -token does not.
const TokenEnv = "TCPCONFORM_AGENT_TOKEN"

// DefaultMAC is the harness's address on the segment unless -mac says
// otherwise: locally administered (IEEE 802, bit 1 of the first octet), so
// that it clashes with no card.
var DefaultMAC = net.HardwareAddr{0x02, 0x74, 0x63, 0x00, 0x00, 0x02}

// optionNames are the targets.Options the target takes; their usage is in
// the command's table of target flags.
var optionNames = []string{"iface", "device", "token", "device-ip4", "device-ip6", "harness-ip4", "harness-ip6", "mac", "netns"}

// Target is the remote-device target; its zero value is unconfigured.
type Target struct{ cfg *config }

var (
	_ targets.Configurable = Target{}
	_ targets.Shutdowner   = Target{}
)

// config is a configured target's settings.
type config struct {
	iface, device, token, netns string
	mac                         net.HardwareAddr
	addrs                       targets.Addrs
}

// Name implements targets.Target.
func (Target) Name() string { return "remote" }

// Describe implements targets.Target.
func (Target) Describe() string {
	return "a device on a network interface (-iface), driven by its `tcpconform agent -listen` (-device), real time"
}

// Configure implements targets.Configurable.
func (Target) Configure(opts targets.Options) (targets.Target, error) {
	if err := opts.Unknown("remote", optionNames...); err != nil {
		return nil, err
	}
	c := &config{iface: opts["iface"], device: opts["device"], token: opts["token"], netns: opts["netns"], mac: DefaultMAC}
	if c.token == "" {
		c.token = os.Getenv(TokenEnv)
	}
	switch {
	case c.iface == "":
		return nil, fmt.Errorf("target remote needs -iface (the interface the device is reached through)")
	case c.device == "":
		return nil, fmt.Errorf("target remote needs -device ADDR:PORT (its agent's control address)")
	case c.token == "":
		return nil, fmt.Errorf("target remote needs -token or $%s (the token its agent was started with)", TokenEnv)
	}
	if _, _, err := net.SplitHostPort(c.device); err != nil {
		return nil, fmt.Errorf("target remote: -device %q: %v", c.device, err)
	}
	if m := opts["mac"]; m != "" {
		mac, err := net.ParseMAC(m)
		if err != nil || len(mac) != 6 || mac[0]&1 != 0 {
			return nil, fmt.Errorf("target remote: -mac %q: not a unicast Ethernet address", m)
		}
		c.mac = mac
	}
	d := targets.DocumentationAddrs
	for _, a := range []struct {
		name string
		dst  *netip.Addr
		v6   bool
	}{{"device-ip4", &d.Local4, false}, {"device-ip6", &d.Local6, true}, {"harness-ip4", &d.Peer4, false}, {"harness-ip6", &d.Peer6, true}} {
		v := opts[a.name]
		switch {
		case v == "":
			continue
		case v == "none" && a.v6:
			*a.dst = netip.Addr{}
			continue
		}
		addr, err := netip.ParseAddr(v)
		if err != nil || addr.Is6() != a.v6 || addr.Zone() != "" {
			return nil, fmt.Errorf("target remote: -%s %q: not an IPv%c address", a.name, v, map[bool]byte{false: '4', true: '6'}[a.v6])
		}
		*a.dst = addr
	}
	if !d.Local6.IsValid() || !d.Peer6.IsValid() {
		d.Local6, d.Peer6 = netip.Addr{}, netip.Addr{}
	}
	c.addrs = d
	return Target{cfg: c}, nil
}

// Available implements targets.Target: the target must be configured and
// its interface must exist.
func (t Target) Available() error {
	if t.cfg == nil {
		return fmt.Errorf("%w: target remote needs -iface, -device and -token (see docs/remote-devices.md)", targets.ErrUnavailable)
	}
	return netnsjoin.Do(t.cfg.netns, func() error {
		if _, err := net.InterfaceByName(t.cfg.iface); err != nil {
			return fmt.Errorf("%w: interface %s: %v", targets.ErrUnavailable, t.cfg.iface, err)
		}
		return nil
	})
}

// ConnectTimeout bounds connecting to the agent, its hello and learning the
// device's MAC address.
const ConnectTimeout = 10 * time.Second

// The run's device. lease admits one instance at a time: cases share the
// device but not concurrently.
var run struct {
	mu    sync.Mutex
	d     *device
	lease chan struct{}
}

func init() { run.lease = make(chan struct{}, 1) }

// New implements targets.Target: it waits for the device to be free,
// connects to it if this run has not (or the connection broke), and resets
// its agent.
func (t Target) New(ctx context.Context, cfg targets.Config) (targets.Instance, error) {
	if t.cfg == nil {
		return nil, t.Available()
	}
	if err := cfg.LinkUnsupported("remote", false); err != nil {
		return nil, err
	}
	if cfg.TimeWait != 0 {
		return nil, fmt.Errorf("remote target: %w: the device's TIME-WAIT is its own", targets.ErrUnsupported)
	}
	select {
	case run.lease <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	in, err := t.lease(ctx)
	if err != nil {
		<-run.lease
		return nil, err
	}
	return in, nil
}

func (t Target) lease(ctx context.Context) (*Instance, error) {
	run.mu.Lock()
	defer run.mu.Unlock()
	d := run.d
	if d != nil && d.cfg != t.cfg {
		d.close() // another device, or the same one set up anew
		d, run.d = nil, nil
	}
	if d != nil {
		if _, err := d.a.Call("reset"); err != nil {
			d.close()
			d, run.d = nil, nil
		}
	}
	if d == nil {
		var err error
		if d, err = connect(ctx, t.cfg); err != nil {
			return nil, err
		}
		run.d = d
	}
	d.a.Link().Drain()
	caps := targets.Capabilities{IPv4: true, IPv6: t.cfg.addrs.Local6.IsValid(), State: true, SynReceivedState: true}
	return &Instance{Instance: agent.NewInstance(d.a, t.cfg.addrs, caps)}, nil
}

// Instance is one case's use of the run's device.
type Instance struct {
	*agent.Instance
	once sync.Once
}

var _ targets.TCPInfo = (*Instance)(nil)

// Close implements targets.Instance: it frees the device for the next
// case, which resets it; the connection stays.
func (in *Instance) Close() error {
	in.once.Do(func() { <-run.lease })
	return nil
}

// TCPInfo implements targets.TCPInfo with the device's struct tcp_info,
// when its agent announced "tcpinfo" (a Linux device).
func (in *Instance) TCPInfo(fd int) (map[string]int64, error) {
	if !in.A.Hello().Has("tcpinfo") {
		return nil, fmt.Errorf("remote target: %w: the device's agent reads no tcp_info", targets.ErrUnsupported)
	}
	return in.LinuxTCPInfo(fd)
}

// Shutdown implements targets.Shutdowner: it closes the control connection
// and the packet socket; the device's agent keeps running.
func (Target) Shutdown() error {
	run.mu.Lock()
	defer run.mu.Unlock()
	if run.d != nil {
		run.d.close()
		run.d = nil
	}
	return nil
}

// device is one connection to a device: its agent and its segment.
type device struct {
	cfg  *config
	a    *agent.Agent
	link *ether.Link
}

// connect opens the packet socket and the control connection (inside the
// configured namespace), waits for the agent's hello and learns the
// device's MAC address.
func connect(ctx context.Context, c *config) (*device, error) {
	ctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	var ps *packetSocket
	var conn net.Conn
	err := netnsjoin.Do(c.netns, func() error {
		var err error
		if ps, err = openPacketSocket(c.iface); err != nil {
			return err
		}
		var d net.Dialer
		if conn, err = d.DialContext(ctx, "tcp", c.device); err != nil {
			ps.Close()
			return fmt.Errorf("control connection to %s: %w", c.device, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("remote target: %w", err)
	}
	ad := c.addrs
	link := ether.New(ps, ether.Config{
		Name: "remote", MAC: c.mac,
		Stack4: ad.Local4, Stack6: ad.Local6, Own4: ad.Peer4, Own6: ad.Peer6,
		Claim: func(a netip.Addr) bool { return a.IsValid() && (a == ad.Peer4 || a == ad.Peer6) },
	})
	a, err := agent.Attach(ctx, agent.Spec{
		Name:         "remote agent at " + c.device,
		HelloTimeout: ConnectTimeout, CallTimeout: 10 * time.Second,
		Barrier: link.Barrier,
		Packets: func() (agent.PacketConn, error) { return link, nil },
	}, conn, "token "+c.token)
	if err != nil {
		link.Close()
		return nil, err
	}
	if _, err := link.Resolve(ctx); err != nil {
		a.Close()
		return nil, fmt.Errorf("%w (is the device on %s's link, with %s?)", err, c.iface, ad.Local4)
	}
	return &device{cfg: c, a: a, link: link}, nil
}

// close ends the connection; the agent's Close closes the link too.
func (d *device) close() { d.a.Close() }
