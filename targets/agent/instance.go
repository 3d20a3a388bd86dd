package agent

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/tcpconform/tcpconform/state"
	"github.com/tcpconform/tcpconform/targets"
)

// Instance is a targets.Instance on one agent: its link, its sockets, the
// real clock, and connection states when the agent announced the "state"
// feature.
type Instance struct {
	A     *Agent
	Caps  targets.Capabilities
	Adrs  targets.Addrs
	mu    sync.Mutex
	seen  map[targets.Tuple]bool
	clock Clock
}

// NewInstance wraps a started agent. IPv6 and State in caps are cleared when
// the agent did not announce them ("ipv6", "state").
func NewInstance(a *Agent, addrs targets.Addrs, caps targets.Capabilities) *Instance {
	h := a.Hello()
	caps.IPv6 = caps.IPv6 && h.Has("ipv6")
	caps.State = caps.State && h.Has("state")
	caps.SynReceivedState = caps.SynReceivedState && caps.State
	return &Instance{A: a, Caps: caps, Adrs: addrs, seen: map[targets.Tuple]bool{}, clock: Clock{A: a}}
}

var (
	_ targets.Instance = (*Instance)(nil)
	_ targets.Sysctls  = (*Instance)(nil)
)

func (in *Instance) Link() targets.Link { return in.A.Link() }

func (in *Instance) Clock() targets.Clock               { return in.clock }
func (in *Instance) Addrs() targets.Addrs               { return in.Adrs }
func (in *Instance) Capabilities() targets.Capabilities { return in.Caps }
func (in *Instance) Close() error                       { return in.A.Close() }

// Sockets implements targets.Instance: FlaggedSockets when the agent
// announced "flags".
func (in *Instance) Sockets() targets.Sockets {
	if in.A.Hello().Has("flags") {
		return FlaggedSockets{Sockets{in.A}}
	}
	return Sockets{in.A}
}

// State implements targets.Instance with the agent's "state" request. A
// connection the agent no longer knows reads as CLOSED once it was seen.
func (in *Instance) State(t targets.Tuple) (state.State, bool) {
	if !in.Caps.State {
		return state.Unknown, false
	}
	args := []string{t.Local.Addr().String(), strconv.Itoa(int(t.Local.Port()))}
	if t.Remote.IsValid() {
		args = append(args, t.Remote.Addr().String(), strconv.Itoa(int(t.Remote.Port())))
	} else {
		args = append(args, "-")
	}
	f, err := in.A.Call("state", args...)
	in.mu.Lock()
	defer in.mu.Unlock()
	if err != nil || len(f) < 1 {
		if errors.Is(err, syscall.ENOENT) && in.seen[t] {
			return state.Closed, true
		}
		return state.Unknown, false
	}
	s, perr := state.Parse(f[0])
	if perr != nil {
		return state.Unknown, false
	}
	in.seen[t] = true
	return s, true
}

// SetSysctl implements targets.Sysctls by the agent's "sysctl" request;
// settings it has no knob for wrap targets.ErrUnsupported.
func (in *Instance) SetSysctl(name, value string) error {
	_, err := in.A.Call("sysctl", name, value)
	var e *Error
	if errors.As(err, &e) && (e.Errno == syscall.EOPNOTSUPP || e.Errno == syscall.ENOENT) {
		return fmt.Errorf("sysctl %s: %w: %s", name, targets.ErrUnsupported, e.Msg)
	}
	return err
}

// LinuxTCPInfo reads a Linux agent's struct tcp_info by its "tcpinfo"
// request. Targets whose agent announces the "tcpinfo" feature implement
// targets.TCPInfo with it; the instance does not, since most agents are not
// Linux.
func (in *Instance) LinuxTCPInfo(fd int) (map[string]int64, error) {
	f, err := in.A.Call("tcpinfo", strconv.Itoa(fd))
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e.Errno
		}
		return nil, err
	}
	if len(f) != 1 {
		return nil, fmt.Errorf("%s: tcpinfo reply %q", in.A.spec.Name, f)
	}
	b, err := hex.DecodeString(f[0])
	if err != nil {
		return nil, fmt.Errorf("%s: tcpinfo reply: %w", in.A.spec.Name, err)
	}
	return targets.LinuxTCPInfo(b), nil
}

// Clock is the real clock of an agent's instance. When the agent announced
// "settle", Settle asks it to finish processing every packet injected so far
// and then waits until everything it sent because of them has been read, so
// that states and replies are in place; otherwise it runs the Spec's Barrier,
// if any.
type Clock struct {
	targets.RealClock
	A *Agent
}

// Settle implements targets.Clock.
func (c Clock) Settle() {
	if c.A == nil {
		return
	}
	if !c.A.Hello().Has("settle") {
		if c.A.spec.Barrier != nil {
			c.A.spec.Barrier()
		}
		return
	}
	l := c.A.Link()
	f, err := c.A.Call("settle", strconv.FormatUint(l.injected.Load(), 10))
	if err != nil || len(f) < 1 {
		return // a dead agent shows in the next call
	}
	sent, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return
	}
	deadline := time.Now().Add(100 * time.Millisecond)
	for l.received.Load() < sent && time.Now().Before(deadline) {
		time.Sleep(20 * time.Microsecond)
	}
}

// Advance implements targets.Clock: it settles, then waits.
func (c Clock) Advance(ctx context.Context, d time.Duration) error {
	c.Settle()
	return c.RealClock.Advance(ctx, d)
}
