package suites

import (
	"slices"
	"strings"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/script"
)

// runAllVariant is what packetdrill's own runner, run_all.py, gives a script
// for one IP version: options and -D definitions.
type runAllVariant struct {
	options [][2]string
	defines map[string]string
}

// runAllVariants are run_all.py's per-version command lines (upstream
// commit 2c4001c4), so that `tcpconform run -like-run-all` gives every
// script the same as the drop-in gets under run_all.py.
var runAllVariants = map[injector.IPMode]runAllVariant{
	injector.IPModeV4: {
		options: [][2]string{{"ip_version", "ipv4"}, {"local_ip", "192.168.0.1"}, {"gateway_ip", "192.168.0.1"},
			{"netmask_ip", "255.255.0.0"}, {"remote_ip", "192.0.2.1"}, {"send_omit_free", ""}},
		defines: map[string]string{"TFO_COOKIE": "3021b9d889017eeb", "CODE": "host_unreachable",
			"CMSG_LEVEL_IP": "SOL_IP", "CMSG_TYPE_RECVERR": "IP_RECVERR"},
	},
	injector.IPModeV4in6: {
		options: [][2]string{{"ip_version", "ipv4-mapped-ipv6"}, {"local_ip", "192.168.0.1"}, {"gateway_ip", "192.168.0.1"},
			{"netmask_ip", "255.255.0.0"}, {"remote_ip", "192.0.2.1"}, {"send_omit_free", ""}},
		defines: map[string]string{"TFO_COOKIE": "3021b9d889017eeb", "CODE": "host_unreachable",
			"CMSG_LEVEL_IP": "SOL_IPV6", "CMSG_TYPE_RECVERR": "IPV6_RECVERR"},
	},
	injector.IPModeV6: {
		options: [][2]string{{"ip_version", "ipv6"}, {"mtu", "1520"}, {"local_ip", "fd3d:0a0b:17d6::1"},
			{"gateway_ip", "fd3d:0a0b:17d6:8888::1"}, {"remote_ip", "fd3d:fa7b:d17d::1"}, {"send_omit_free", ""}},
		defines: map[string]string{"TFO_COOKIE": "c1d1e9742a47a9bc",
			"CMSG_LEVEL_IP": "SOL_IPV6", "CMSG_TYPE_RECVERR": "IPV6_RECVERR"},
	},
}

// runAllModes are the variants run_all.py runs a script in: all three,
// except that *v6.pkt runs only over IPv6 and *v4.pkt not over IPv6.
func runAllModes(path string) []injector.IPMode {
	switch {
	case strings.HasSuffix(path, "v6.pkt"):
		return []injector.IPMode{injector.IPModeV6}
	case strings.HasSuffix(path, "v4.pkt"):
		return []injector.IPMode{injector.IPModeV4, injector.IPModeV4in6}
	}
	return []injector.IPMode{injector.IPModeV4, injector.IPModeV4in6, injector.IPModeV6}
}

// runAllCases parses path once per variant (the definitions differ) and
// makes its cases, each with that variant's options on the command line
// before the caller's; the caller's -D definitions win.
func runAllCases(path string, o ScriptOptions) ([]*injector.Case, error) {
	modes := runAllModes(path)
	if o.IP != nil {
		modes = []injector.IPMode{*o.IP}
	}
	var out []*injector.Case
	for _, m := range modes {
		v := runAllVariants[m]
		defs := map[string]string{}
		for k, val := range v.defines {
			defs[k] = val
		}
		for k, val := range o.Defines {
			defs[k] = val
		}
		f, err := script.ParseFile(path, script.ParseOptions{Defines: defs})
		if err != nil {
			return out, err
		}
		so := o.ScriptOptions
		so.IP = &m
		so.CommandLine = nil
		pos := script.Pos{File: "run_all.py " + m.String()}
		for _, kv := range v.options {
			opt, err := script.NewOption(pos, kv[0], kv[1], kv[1] != "")
			if err != nil {
				return out, err
			}
			so.CommandLine = append(so.CommandLine, opt)
		}
		so.CommandLine = append(so.CommandLine, o.CommandLine...)
		c, err := injector.ScriptCase(f, so)
		if err != nil {
			return out, err
		}
		if m == injector.IPModeV4in6 {
			c.Name += " (ipv4-mapped-ipv6)"
		}
		out = append(out, c)
	}
	return out, nil
}

// RunAllArgs is run_all.py's command line for a script in mode m, before
// the script's name: the options, then the -D definitions.
func RunAllArgs(m injector.IPMode) []string {
	v := runAllVariants[m]
	var args []string
	for _, kv := range v.options {
		a := "--" + kv[0]
		if kv[1] != "" {
			a += "=" + kv[1]
		}
		args = append(args, a)
	}
	keys := make([]string, 0, len(v.defines))
	for k := range v.defines {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		args = append(args, "-D", k+"="+v.defines[k])
	}
	return args
}

// RunAllModes are the variants run_all.py runs the script at path in.
func RunAllModes(path string) []injector.IPMode { return runAllModes(path) }
