package netstack

import (
	"fmt"
	"strconv"
	"strings"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/tcpconform/tcpconform/targets"
)

// sysctl translates one Linux sysctl to netstack's stack-wide options. It
// returns the option to set, or nil when the value already describes what
// netstack does (so there is nothing to set).
type sysctl func(value string) (tcpip.SettableTransportProtocolOption, error)

// sysctls lists the Linux settings netstack has an equivalent for. Anything
// else is unsupported: a script that needs it is skipped, not run on a stack
// that would ignore it.
var sysctls = map[string]sysctl{
	"net.ipv4.tcp_sack": func(v string) (tcpip.SettableTransportProtocolOption, error) {
		on, err := boolSetting(v)
		opt := tcpip.TCPSACKEnabled(on)
		return &opt, err
	},
	// netstack answers timestamps whenever the peer offers them and has no
	// switch to refuse them, so only "on" is its behaviour.
	"net.ipv4.tcp_timestamps": alreadyOn,
	// Likewise it always offers and accepts window scaling.
	"net.ipv4.tcp_window_scaling": alreadyOn,
	// It answers with SYN cookies only when the listen queue overflows,
	// Linux's setting 1.
	"net.ipv4.tcp_syncookies": only("1"),
	// It neither negotiates ECN nor keeps FACK.
	"net.ipv4.tcp_ecn":  only("0"),
	"net.ipv4.tcp_fack": only("0"),
	"net.ipv4.tcp_rmem": func(v string) (tcpip.SettableTransportProtocolOption, error) {
		lo, def, hi, err := triple(v)
		return &tcpip.TCPReceiveBufferSizeRangeOption{Min: lo, Default: def, Max: hi}, err
	},
	"net.ipv4.tcp_wmem": func(v string) (tcpip.SettableTransportProtocolOption, error) {
		lo, def, hi, err := triple(v)
		return &tcpip.TCPSendBufferSizeRangeOption{Min: lo, Default: def, Max: hi}, err
	},
	// tcp_syn_retries has no equivalent: this gVisor keeps its
	// TCPSynRetriesOption but its handshake never reads it (SYNs back off
	// until the 120 s maximum RTO), so translating it would change nothing.
	"net.ipv4.tcp_congestion_control": func(v string) (tcpip.SettableTransportProtocolOption, error) {
		v = strings.TrimSpace(v)
		if v != "reno" && v != "cubic" {
			return nil, fmt.Errorf("congestion control %q: %w (netstack has reno and cubic)", v, targets.ErrUnsupported)
		}
		opt := tcpip.CongestionControlOption(v)
		return &opt, nil
	},
	"net.ipv4.tcp_recovery": func(v string) (tcpip.SettableTransportProtocolOption, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 0, 32)
		// Bit 0 of Linux's tcp_recovery is RACK loss detection.
		opt := tcpip.TCPRecovery(0)
		if n&1 != 0 {
			opt = tcpip.TCPRACKLossDetection
		}
		return &opt, err
	},
}

// only accepts the one value that describes what netstack does.
func only(want string) sysctl {
	return func(v string) (tcpip.SettableTransportProtocolOption, error) {
		if strings.TrimSpace(v) != want {
			return nil, fmt.Errorf("netstack behaves as with %s: %w", want, targets.ErrUnsupported)
		}
		return nil, nil
	}
}

func alreadyOn(v string) (tcpip.SettableTransportProtocolOption, error) {
	on, err := boolSetting(v)
	if err != nil {
		return nil, err
	}
	if !on {
		return nil, fmt.Errorf("turning it off: %w", targets.ErrUnsupported)
	}
	return nil, nil
}

func boolSetting(v string) (bool, error) {
	switch strings.TrimSpace(v) {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("want 0 or 1, got %q", v)
}

// triple reads "min default max".
func triple(v string) (lo, def, hi int, err error) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return 0, 0, 0, fmt.Errorf("want three numbers, got %q", v)
	}
	var n [3]int
	for i, s := range f {
		if n[i], err = strconv.Atoi(s); err != nil {
			return 0, 0, 0, fmt.Errorf("want three numbers, got %q", v)
		}
	}
	return n[0], n[1], n[2], nil
}

// SetSysctl implements targets.Sysctls.
func (in *instance) SetSysctl(name, value string) error {
	tr, ok := sysctls[name]
	if !ok {
		return fmt.Errorf("sysctl %s: %w: netstack has no equivalent", name, targets.ErrUnsupported)
	}
	opt, err := tr(value)
	if err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", name, value, err)
	}
	if opt == nil {
		return nil
	}
	if terr := in.s.SetTransportProtocolOption(tcp.ProtocolNumber, opt); terr != nil {
		return fmt.Errorf("sysctl %s=%s: netstack refused it: %v", name, value, terr)
	}
	return nil
}
