package script

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// optValue says what value a --option takes.
type optValue int

const (
	optAny    optValue = iota // anything, or nothing
	optNone                   // nothing: the option is a switch
	optInt                    // an integer
	optPort                   // an integer that fits in 16 bits
	optFloat                  // a number (quoted when not an integer)
	optAddr                   // an IP address or address/length
	optIPVer                  // ipv4, ipv6 or ipv4-mapped-ipv6
	optDefine                 // SYM=value
)

// knownOptions are packetdrill's run-time flags, usable at the top of a
// script (the upstream table plus nplab's additions).
var knownOptions = map[string]optValue{
	"ip_version": optIPVer, "local_ip": optAddr, "remote_ip": optAddr,
	"gateway_ip": optAddr, "netmask_ip": optAddr, "local_linklocal_ip": optAddr,
	"bind_port": optPort, "connect_port": optPort, "wire_server_port": optPort,
	"psp_udp_port": optPort, "mtu": optInt, "speed": optInt, "mss": optInt,
	"tolerance_usecs": optInt, "tolerance_percent": optFloat,
	"tcp_ts_ecr_scaled": optNone, "tcp_ts_tick_usecs": optInt,
	"strict_segments": optNone, "non_fatal": optAny,
	"wire_client": optNone, "wire_server": optNone, "wire_server_ip": optAddr,
	"wire_server_at": optAny, "wire_client_dev": optAny, "wire_server_dev": optAny,
	"so_filename": optAny, "so_flags": optAny,
	"code_command": optAny, "code_format": optAny, "code_sockopt": optAny,
	"init_scripts": optAny, "dry_run": optNone, "is_anyip": optNone,
	"send_omit_free": optNone, "debug": optNone, "define": optDefine, "verbose": optNone,
	"tcp_md5_secret": optAny, "tun_dev": optAny, "persistent_tun_dev": optAny,
	"no_cleanup": optAny, "udp_encapsulation": optAny,
}

// optionDialect names the options only one packetdrill has; the others
// in knownOptions are in both.
var optionDialect = map[string]syntaxKind{
	"local_linklocal_ip": nplabMarker, "no_cleanup": nplabMarker,
	"persistent_tun_dev": nplabMarker, "tcp_md5_secret": nplabMarker,
	"tun_dev": nplabMarker, "udp_encapsulation": nplabMarker,
	"is_anyip": googleOnly, "mss": googleOnly, "psp_udp_port": googleOnly,
	"send_omit_free": googleOnly, "so_filename": googleOnly, "so_flags": googleOnly,
	"strict_segments": googleOnly, "tcp_ts_ecr_scaled": googleOnly,
	"wire_server_at": googleOnly,
}

// parseOption parses "--name" or "--name=value".
func (p *parser) parseOption() {
	name := p.advance()
	o := &Option{Pos: name.Pos, Name: name.Text}
	p.file.Options = append(p.file.Options, o)
	kind, known := knownOptions[o.Name]
	if !known {
		p.errorf(name.Pos, "unknown option --%s", o.Name)
	}
	if kind, ok := optionDialect[o.Name]; ok {
		p.notePort(name.Pos, kind, "option --%s", o.Name)
	}
	if !p.accept('=') {
		if kind != optAny && kind != optNone {
			p.errorf(name.Pos, "option --%s needs a value", o.Name)
		}
		return
	}
	if kind == optNone {
		p.errorf(name.Pos, "option --%s takes no value", o.Name)
	}
	v := p.cur()
	switch v.Kind {
	case tInt, tHex, tWord, tString, tIPv4, tIPv6:
		p.advance()
	default:
		p.syntaxError(v, "option value (an integer, word, \"string\" or address)")
	}
	o.Value, o.HasValue = v.Text, true
	if kind == optDefine {
		p.defineOption(o, v)
		return
	}
	if known && !validOptionValue(kind, o.Value) {
		p.errorf(v.Pos, "option --%s needs %s, not %q", o.Name, optionWants[kind], o.Value)
	}
}

// defineOption finishes "--define=SYM=value" and makes the definition,
// unless the command line made one of the same name.
func (p *parser) defineOption(o *Option, sym token) {
	name := p.text(sym.Off, sym.End)
	if wordEnd([]byte(name), 0) != len(name) || isInteger(name) || !p.cur().is('=') {
		p.errorf(sym.Pos, "option --define needs SYM=value")
		return
	}
	p.advance()
	v := p.cur()
	switch v.Kind {
	case tWord, tString, tBackq, tInt, tHex:
		p.advance()
	default:
		p.syntaxError(v, "definition value (a word, integer, \"string\" or `command`)")
	}
	raw := p.text(v.Off, v.End)
	o.Value = name + "=" + raw
	if _, ok := p.lx.defines[name]; !ok {
		p.lx.defines[name] = raw
	}
}

var optionWants = map[optValue]string{
	optInt: "an integer", optPort: "a port number", optFloat: "a number",
	optAddr: "an IP address", optIPVer: "ipv4, ipv6 or ipv4-mapped-ipv6",
}

// validOptionValue reports whether v suits an option that takes kind.
func validOptionValue(kind optValue, v string) bool {
	switch kind {
	case optInt:
		_, err := strconv.ParseInt(v, 0, 64)
		return err == nil
	case optPort:
		_, err := strconv.ParseUint(v, 0, 16)
		return err == nil
	case optFloat:
		_, err := strconv.ParseFloat(v, 64)
		return err == nil
	case optAddr:
		if strings.Contains(v, "/") {
			_, err := netip.ParsePrefix(v)
			return err == nil
		}
		_, err := netip.ParseAddr(v)
		return err == nil
	case optIPVer:
		return v == "ipv4" || v == "ipv6" || v == "ipv4-mapped-ipv6"
	}
	return true
}

// OptionTakesValue reports whether name is one of packetdrill's options
// and, if so, whether it takes a value (--name=value, or on a command line
// also --name value).
func OptionTakesValue(name string) (known, takesValue bool) {
	kind, known := knownOptions[name]
	return known, known && kind != optNone
}

// OptionNames returns the names of packetdrill's options, sorted.
func OptionNames() []string {
	names := make([]string, 0, len(knownOptions))
	for n := range knownOptions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// NewOption checks an option given outside a script (on a command line) as
// the script's header would, and returns it at pos. define is not taken
// here: a command line's definitions go to ParseOptions.Defines.
func NewOption(pos Pos, name, value string, hasValue bool) (*Option, error) {
	kind, known := knownOptions[name]
	switch {
	case !known:
		return nil, &Error{Pos: pos, Msg: fmt.Sprintf("unknown option --%s", name)}
	case kind == optDefine:
		return nil, &Error{Pos: pos, Msg: "--define is a definition, not an option"}
	case kind == optNone && hasValue:
		return nil, &Error{Pos: pos, Msg: fmt.Sprintf("option --%s takes no value", name)}
	case kind != optNone && kind != optAny && !hasValue:
		return nil, &Error{Pos: pos, Msg: fmt.Sprintf("option --%s needs a value", name)}
	case hasValue && !validOptionValue(kind, value):
		return nil, &Error{Pos: pos, Msg: fmt.Sprintf("option --%s needs %s, not %q", name, optionWants[kind], value)}
	}
	return &Option{Pos: pos, Name: name, Value: value, HasValue: hasValue}, nil
}
