package injector

import (
	"strconv"
	"strings"
	"time"

	"github.com/tcpconform/tcpconform/script"
)

// OptionStatus says what tcpconform makes of one of packetdrill's options.
type OptionStatus string

const (
	// OptionSupported options take effect as in packetdrill.
	OptionSupported OptionStatus = "supported"
	// OptionNoOp options are accepted and have no effect here, for the
	// reason the rule gives.
	OptionNoOp OptionStatus = "no-op"
	// OptionRunner options are read by `tcpconform packetdrill` (the
	// command line), and mean nothing inside a script run.
	OptionRunner OptionStatus = "runner"
	// OptionSkips options skip the script, with the reason, when given.
	OptionSkips OptionStatus = "skips"
)

// OptionRule is what a script run does with one option, given in the
// script's header or on the command line.
type OptionRule struct {
	Status OptionStatus
	// Doc says what the option does here, in a sentence.
	Doc   string
	apply func(r *scriptRun, o *script.Option)
}

// OptionRules holds every option of packetdrill's command line and script
// header (script.OptionNames lists the same names; a test keeps them in
// step), with what tcpconform does with it. docs/packetdrill-compat.md is
// written from this table.
var OptionRules = map[string]OptionRule{
	"ip_version": {Status: OptionSupported, Doc: "ipv4, ipv6 or ipv4-mapped-ipv6: the family of the sockets and of the wire."},
	"bind_port": {Status: OptionSupported, Doc: "The port the target's sockets bind to.",
		apply: func(r *scriptRun, o *script.Option) { r.bindPort = r.portOption(o) }},
	"connect_port": {Status: OptionSupported, Doc: "The port the target's sockets connect to.",
		apply: func(r *scriptRun, o *script.Option) { r.connectPort = r.portOption(o) }},
	"local_ip": {Status: OptionSupported, Doc: "The address the script was written for. The target keeps its own " +
		"documentation address inside its namespace; values that depend on the address (Fast Open cookies) are carried over."},
	"remote_ip":          {Status: OptionSupported, Doc: "As --local_ip, for the remote (injecting) end."},
	"gateway_ip":         {Status: OptionNoOp, Doc: "The target's namespace routes straight to its device; there is no gateway."},
	"netmask_ip":         {Status: OptionNoOp, Doc: "The target's namespace picks its own prefix."},
	"local_linklocal_ip": {Status: OptionNoOp, Doc: "nplab: the target picks its own link-local address."},
	"tolerance_usecs": {Status: OptionSupported, Doc: "Timing tolerance in microseconds (default 4000).",
		apply: func(r *scriptRun, o *script.Option) {
			n, err := strconv.ParseInt(o.Value, 10, 64)
			if err != nil || n < 0 {
				r.scriptError(o.Pos, "--tolerance_usecs=%q: want a number of microseconds", o.Value)
			}
			r.tolUsecs = time.Duration(n) * time.Microsecond
		}},
	"tolerance_percent": {Status: OptionSupported, Doc: "Timing tolerance as a share of the gap since the previous event (default 12.5).",
		apply: func(r *scriptRun, o *script.Option) {
			v, err := strconv.ParseFloat(o.Value, 64)
			if err != nil || v < 0 || v > 100 {
				r.scriptError(o.Pos, "--tolerance_percent=%q: want a percentage", o.Value)
			}
			r.tolPct = v
		}},
	"strict_segments": {Status: OptionSupported, Doc: "An outbound line matches one segment only; without it, " +
		"consecutive segments merge to match a longer line, as a device with segmentation offload would hand them over.",
		apply: func(r *scriptRun, o *script.Option) { r.strictSegments = true }},
	"tcp_ts_tick_usecs": {Status: OptionSupported, Doc: "Outbound TS vals are checked: the target's clock must advance as the script's values say, in ticks of this many microseconds.",
		apply: func(r *scriptRun, o *script.Option) {
			n, err := strconv.ParseInt(o.Value, 10, 64)
			if err != nil || n < 0 || n > 1000000 {
				r.scriptError(o.Pos, "--tcp_ts_tick_usecs=%q: want a number of microseconds", o.Value)
			}
			r.tsTick = time.Duration(n) * time.Microsecond
		}},
	"tcp_ts_ecr_scaled": {Status: OptionSupported, Doc: "An inbound TS ecr that names no outbound TS val is carried over from the first one the target sent, by the difference.",
		apply: func(r *scriptRun, o *script.Option) { r.ts.scaled = true }},
	"non_fatal": {Status: OptionSupported, Doc: "packet: an outbound packet that does not match, or comes at the wrong time, is a warning and the script goes on " +
		"(the verdict is still a pass). syscall: accepted; packetdrill gives it no effect either.",
		apply: func(r *scriptRun, o *script.Option) {
			for _, w := range strings.Split(o.Value, ",") {
				switch w {
				case "packet":
					r.nonFatalPacket = true
				case "syscall":
				default:
					r.scriptError(o.Pos, "--non_fatal=%q: want packet, syscall or both, separated by commas", o.Value)
				}
			}
		}},
	"send_omit_free": {Status: OptionNoOp, Doc: "packetdrill's own memory handling (it does not free send buffers); nothing to do here."},
	"speed":          {Status: OptionNoOp, Doc: "The speed a TUN device reports to ethtool; TCP does not read it."},
	"dry_run":        {Status: OptionRunner, Doc: "Parse and check the scripts, run nothing (exit 0 when they parse)."},
	"verbose":        {Status: OptionRunner, Doc: "Print every packet sent and received."},
	"debug":          {Status: OptionRunner, Doc: "As --verbose."},
	"define":         {Status: OptionRunner, Doc: "SYM=value: a definition for the script (also -D)."},
	"init_scripts": {Status: OptionSupported, Doc: "Comma-separated programs run, in the target's namespace, before the script.",
		apply: func(r *scriptRun, o *script.Option) { r.initScripts = append(r.initScripts, o) }},
	"code_command": {Status: OptionNoOp, Doc: "%{ }% blocks are evaluated by tcpconform itself (assert and print statements and assignments over TCP_INFO), not by a Python interpreter."},
	"code_format": {Status: OptionSupported, Doc: "python only, as in packetdrill.",
		apply: func(r *scriptRun, o *script.Option) {
			if o.Value != "python" {
				r.scriptError(o.Pos, "--code_format=%q: only python is supported", o.Value)
			}
		}},
	"code_sockopt": {Status: OptionSupported, Doc: "TCP_INFO (or empty, the default); TCP_CC_INFO and SO_MEMINFO skip the script.",
		apply: func(r *scriptRun, o *script.Option) {
			if o.Value != "" && o.Value != "TCP_INFO" {
				r.skip(o.Pos, "--code_sockopt=%s is not supported by tcpconform: code blocks read TCP_INFO", o.Value)
			}
		}},
	"mtu":                {Status: OptionSupported, Doc: "The MTU of the target's link, set before the script starts (packetdrill's runner gives IPv6 runs 1520); a target that cannot set it skips the script."},
	"mss":                {Status: OptionSupported, Doc: "Injected TCP reaches the stack as a receive offload's merge of segments of this size (the virtio header's gso_size); linux only, other targets skip the script."},
	"is_anyip":           {Status: OptionSkips, Doc: "packetdrill's local address as an AnyIP route: not supported, skips the script.", apply: skipOption},
	"psp_udp_port":       {Status: OptionNoOp, Doc: "The UDP port of PSP packets; PSP packets themselves skip the script."},
	"wire_client":        {Status: OptionSkips, Doc: "packetdrill's remote mode: not supported, skips the script.", apply: skipOption},
	"wire_server":        {Status: OptionSkips, Doc: "As --wire_client.", apply: skipOption},
	"wire_server_ip":     {Status: OptionSkips, Doc: "As --wire_client.", apply: skipOption},
	"wire_server_at":     {Status: OptionSkips, Doc: "As --wire_client.", apply: skipOption},
	"wire_server_port":   {Status: OptionSkips, Doc: "As --wire_client.", apply: skipOption},
	"wire_client_dev":    {Status: OptionSkips, Doc: "As --wire_client.", apply: skipOption},
	"wire_server_dev":    {Status: OptionSkips, Doc: "As --wire_client.", apply: skipOption},
	"so_filename":        {Status: OptionSkips, Doc: "A stack loaded from a shared object: not supported, skips the script.", apply: skipOption},
	"so_flags":           {Status: OptionSkips, Doc: "As --so_filename.", apply: skipOption},
	"tcp_md5_secret":     {Status: OptionSkips, Doc: "nplab: TCP MD5 signatures are not supported, skips the script.", apply: skipOption},
	"tun_dev":            {Status: OptionNoOp, Doc: "nplab: the name of the TUN device; the target names its own."},
	"persistent_tun_dev": {Status: OptionNoOp, Doc: "nplab: the target makes a fresh device for every run."},
	"no_cleanup":         {Status: OptionNoOp, Doc: "nplab: the target's namespace goes away with the run."},
	"udp_encapsulation":  {Status: OptionSkips, Doc: "nplab: TCP over UDP is not supported, skips the script.", apply: skipOption},
}

// skipOption ends the run as unsupported because of the option.
func skipOption(r *scriptRun, o *script.Option) {
	r.skip(o.Pos, "option --%s is not supported by tcpconform", o.Name)
}

// portOption reads a port number option.
func (r *scriptRun) portOption(o *script.Option) uint16 {
	n, err := strconv.ParseUint(o.Value, 10, 16)
	if err != nil || n == 0 {
		r.scriptError(o.Pos, "--%s=%q: want a port", o.Name, o.Value)
	}
	return uint16(n)
}

// applyOptions applies the header's options and then the command line's.
func (r *scriptRun) applyOptions(o ScriptOptions) {
	for _, opt := range r.opts {
		rule, ok := OptionRules[opt.Name]
		if !ok {
			r.skip(opt.Pos, "option --%s is not supported by tcpconform", opt.Name)
		}
		if rule.apply != nil {
			rule.apply(r, opt)
		}
	}
	if o.ToleranceUsecs != nil {
		r.tolUsecs = time.Duration(*o.ToleranceUsecs) * time.Microsecond
	}
	if o.TolerancePercent != nil {
		r.tolPct = *o.TolerancePercent
	}
}
