package injector

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/targets"
)

// IPMode is packetdrill's --ip_version: the family of the wire and of the
// sockets.
type IPMode int

const (
	// IPModeV4: IPv4 sockets, IPv4 on the wire.
	IPModeV4 IPMode = iota
	// IPModeV6: IPv6 sockets, IPv6 on the wire.
	IPModeV6
	// IPModeV4in6: IPv6 sockets with IPv4-mapped addresses, IPv4 on the
	// wire.
	IPModeV4in6
)

func (m IPMode) String() string {
	switch m {
	case IPModeV6:
		return "ipv6"
	case IPModeV4in6:
		return "ipv4-mapped-ipv6"
	}
	return "ipv4"
}

// ParseIPMode reads "4", "6", "4in6" or packetdrill's spellings ("ipv4",
// "ipv6", "ipv4-mapped-ipv6").
func ParseIPMode(s string) (IPMode, error) {
	switch s {
	case "4", "ipv4":
		return IPModeV4, nil
	case "6", "ipv6":
		return IPModeV6, nil
	case "4in6", "ipv4-mapped-ipv6":
		return IPModeV4in6, nil
	}
	return 0, fmt.Errorf("unknown IP version %q (want 4, 6 or 4in6)", s)
}

// Packetdrill's timing defaults (RFC-free: its own model, see
// docs/design-notes.md): an outbound packet may leave this far from its
// scripted time, or this share of the scripted gap, whichever is larger.
const (
	DefaultToleranceUsecs   = 4000
	DefaultTolerancePercent = 12.5
)

// ScriptOptions tune how scripts run. Nil fields leave the script's own
// header options, or the defaults, in force; set ones override them, as
// packetdrill's command line does.
type ScriptOptions struct {
	IP               *IPMode
	ToleranceUsecs   *int64
	TolerancePercent *float64
	// CommandLine are packetdrill options given outside the script (by
	// `tcpconform packetdrill`); they come after the script's own, so
	// they win, as on packetdrill's command line.
	CommandLine []*script.Option
}

// options are the script's header options followed by the command line's.
func (o ScriptOptions) options(f *script.File) []*script.Option {
	return append(append([]*script.Option(nil), f.Options...), o.CommandLine...)
}

// ScriptCase turns a parsed script into a case: the family comes from the
// IP mode, the labels from the script's header comment, and failures point
// at the script's lines.
func ScriptCase(f *script.File, o ScriptOptions) (*Case, error) {
	mode, err := scriptIPMode(f, o)
	if err != nil {
		return nil, err
	}
	cfg, err := deviceConfig(f, o)
	if err != nil {
		return nil, err
	}
	fam := IPv4
	if mode == IPModeV6 {
		fam = IPv6
	}
	c := &Case{
		Name:     f.Path,
		ID:       f.Path,
		Labels:   append([]string(nil), f.Labels...),
		Family:   fam,
		Location: f.Path + ":1",
		Config:   cfg,
	}
	c.Run = func(t *T) { newScriptRun(t, f, o, mode).run() }
	return c, nil
}

func scriptIPMode(f *script.File, o ScriptOptions) (IPMode, error) {
	if o.IP != nil {
		return *o.IP, nil
	}
	mode := IPModeV4
	for _, opt := range o.options(f) {
		if opt.Name == "ip_version" {
			m, err := ParseIPMode(opt.Value)
			if err != nil {
				return 0, &script.Error{Pos: opt.Pos, Msg: err.Error()}
			}
			mode = m
		}
	}
	return mode, nil
}

// scriptRun is one run of a script on one instance.
type scriptRun struct {
	t    *T
	p    *Peer
	f    *script.File
	mode IPMode
	dir  string // the script's directory, for commands that name files
	// opts are the header's options and then the command line's.
	opts []*script.Option

	tolUsecs time.Duration
	tolPct   float64
	// strictSegments turns off merging outbound segments (--strict_segments).
	strictSegments bool
	// tsTick, when set (--tcp_ts_tick_usecs), checks outbound TS vals: the
	// target's clock must move as the script's values say, within the
	// tolerance, counting from the first TS val the script names.
	tsTick                     time.Duration
	tsBaseKnown                bool
	tsScriptFirst, tsLiveFirst uint32

	// nonFatalPacket (--non_fatal=packet) turns an outbound packet's
	// mismatch into a warning; warnings holds them.
	nonFatalPacket bool
	warnings       []string
	// initScripts are the --init_scripts options, run before the script.
	initScripts []*script.Option

	bindPort, connectPort uint16

	// fds maps the script's descriptors to the target's.
	fds      map[int64]int
	nonblock map[int]bool // by live fd

	// cur is the connection under test; listening says the socket under
	// test is a listener, so the next inbound packet makes a new child.
	cur       *flow
	listening bool
	// targetPorts are the target's ports of the connections so far.
	targetPorts map[uint16]bool

	ts tsMap
	// foKeys are the Fast Open keys the script set on sockets.
	foKeys [][]byte

	// Scheduling: anchor is when the previous event finished, prevSched
	// when it was scheduled; prevInbound whether it was an inbound packet.
	anchor      time.Duration
	prevSched   time.Duration
	prevInbound bool

	blocking *pendingCall

	// codeVars are the names the script's code blocks assigned.
	codeVars map[string]any

	// notes are what shell commands printed, shown with any failure.
	notes []string

	// tmp holds executable copies of helper scripts (see runnable).
	tmp    string
	copies int
}

// flow is one connection as the script sees it.
type flow struct {
	peerPort, targetPort uint16
	fd                   int // the target's descriptor, or -1

	remoteISN     uint32 // the peer's ISN: the script's own value, sent as is
	remoteKnown   bool
	remoteFromSyn bool // set by a SYN, not assumed 0

	// The target's ISN, live and as the script names it.
	liveLocalISN, scriptLocalISN uint32
	localKnown                   bool

	labels flowLabels
}

func newScriptRun(t *T, f *script.File, o ScriptOptions, mode IPMode) *scriptRun {
	r := &scriptRun{
		t: t, p: t.peer, f: f, mode: mode, dir: filepath.Dir(f.Path),
		tolUsecs: DefaultToleranceUsecs * time.Microsecond, tolPct: DefaultTolerancePercent,
		bindPort: 8080, connectPort: 8080,
		fds: map[int64]int{}, nonblock: map[int]bool{},
		opts: o.options(f),
	}
	r.applyOptions(o)
	return r
}

// where names a script position for messages.
func (r *scriptRun) where(p script.Pos) string { return p.Where() }

// skip ends the run as unsupported on this target.
func (r *scriptRun) skip(p script.Pos, format string, args ...any) {
	r.t.SkipAt(r.where(p), fmt.Sprintf(format, args...))
}

// scriptError ends the run with an error in the script itself.
func (r *scriptRun) scriptError(p script.Pos, format string, args ...any) {
	r.t.ErrorAt(r.where(p), fmt.Errorf(format, args...))
}

// failAt ends the run with nonconformance at a script line. What the
// script's shell commands printed is shown too: a setting that did not take
// explains many a difference.
func (r *scriptRun) failAt(p script.Pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, n := range r.notes {
		msg += "\n  shell     " + n
	}
	r.t.FailAt(r.where(p), msg)
}

// run plays the script from its first event to its last.
func (r *scriptRun) run() {
	defer func() {
		if r.tmp != "" {
			os.RemoveAll(r.tmp)
		}
	}()
	for _, o := range r.initScripts {
		for _, path := range strings.Split(o.Value, ",") {
			if path != "" {
				r.command(&script.Command{Pos: o.Pos, Cmd: path})
			}
		}
	}
	if r.f.Init != nil {
		r.command(r.f.Init)
		// The script's time 0 is its first event, after the init command
		// (which on a real target takes as long as it takes).
		r.p.restart()
	}
	for _, ev := range r.f.Events {
		r.event(ev)
	}
	r.awaitBlocking()
	if r.f.Cleanup != nil {
		r.command(r.f.Cleanup)
	}
}

// isInbound reports whether an event injects a packet.
func isInbound(ev *script.Event) bool {
	p, ok := ev.Action.(*script.Packet)
	return ok && p.Dir == script.Inbound
}

// schedule returns when an event is due (its window for a range), relative
// to the start of the script. Relative times count from when the previous
// event finished, except that consecutive inbound packets count from the
// previous one's scheduled time, so overhead does not pile up.
func (r *scriptRun) schedule(ev *script.Event) (start, end time.Duration) {
	tm := ev.Time
	base := time.Duration(0)
	switch tm.Kind {
	case script.AnyTime:
		now := r.p.Elapsed()
		return now, now
	case script.Relative:
		base = r.anchor
		if isInbound(ev) && r.prevInbound {
			base = r.prevSched
		}
	}
	start = base + tm.Start
	end = start
	if tm.Range {
		end = base + tm.End
	}
	return start, end
}

// tolerance is packetdrill's: the larger of the absolute tolerance and the
// percentage of the gap since the previous event's scheduled time.
func (r *scriptRun) tolerance(gap time.Duration) time.Duration {
	pct := time.Duration(float64(gap) * r.tolPct / 100)
	return max(r.tolUsecs, pct)
}

func (r *scriptRun) event(ev *script.Event) {
	start, end := r.schedule(ev)
	tol := r.tolerance(start - r.prevSched)
	if pkt, ok := ev.Action.(*script.Packet); !ok || pkt.Dir == script.Inbound {
		r.waitUntil(start)
	}
	r.pollBlocking(r.p.Elapsed())
	issued := r.p.Elapsed()
	switch a := ev.Action.(type) {
	case *script.Packet:
		r.packet(ev, a, start, end, tol)
	case *script.Syscall:
		r.syscall(ev, a, start)
	case *script.Command:
		r.command(a)
	case *script.Code:
		r.code(a)
	}
	r.prevSched = start
	r.prevInbound = isInbound(ev)
	r.anchor = r.p.Elapsed()
	switch a := ev.Action.(type) {
	case *script.Syscall:
		r.anchor = r.callTime(issued, r.anchor)
	case *script.Packet:
		if a.Dir == script.Inbound {
			// A packet's time is when it was injected, not when the
			// target had settled after it.
			r.anchor = issued
		}
	}
	if ev.Time.Blocking {
		// Later relative times count from a blocking call's start.
		r.anchor = start
	}
}

// callTime is the time of a call made at issued that returned at returned:
// when its first effect left (connect's SYN, write's data), if a segment left
// while it ran, and otherwise when it returned. On an agent target the result
// comes back a while after the stack acted; what the call sent marks when
// it acted.
func (r *scriptRun) callTime(issued, returned time.Duration) time.Duration {
	r.p.drain()
	for _, a := range r.p.pending {
		if at := r.p.Since(a.At); at >= issued && at < returned {
			return at
		}
	}
	return returned
}

// waitUntil lets instance time pass until t (since the start).
func (r *scriptRun) waitUntil(t time.Duration) {
	for {
		now := r.p.Elapsed()
		if now >= t {
			return
		}
		// A blocking call due before t reports before time moves past it.
		r.pollBlocking(t)
		now = r.p.Elapsed()
		if now >= t {
			return
		}
		if err := r.p.Sleep(r.t.ctx, t-now); err != nil {
			r.t.ErrorAt(r.where(r.f.Events[0].Pos), err)
		}
		r.pollBlocking(r.p.Elapsed())
	}
}

// fdOf resolves a script descriptor argument.
func (r *scriptRun) fdOf(e script.Expr) (int, error) {
	n, err := r.intArg(e)
	if err != nil {
		return 0, err
	}
	if fd, ok := r.fds[n]; ok {
		return fd, nil
	}
	return 0, fmt.Errorf("descriptor %d was not opened by the script", n)
}

// peerAddr and targetAddr are the addresses as the target's sockets see them
// in the run's IP mode.
func (r *scriptRun) sockAddr(a netip.Addr, port uint16) netip.AddrPort {
	if r.mode == IPModeV4in6 {
		a = netip.AddrFrom16(a.As16())
	}
	return netip.AddrPortFrom(a, port)
}

// ctxErr turns a context's end into a harness error.
func (r *scriptRun) ctxErr(p script.Pos, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		r.t.ErrorAt(r.where(p), fmt.Errorf("the run was stopped: %w", err))
	}
	r.t.ErrorAt(r.where(p), err)
}

// instance is the target instance under the run.
func (r *scriptRun) instance() targets.Instance { return r.p.inst }
