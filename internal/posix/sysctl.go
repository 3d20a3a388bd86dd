package posix

import (
	"fmt"
	"os"
)

// referenceSysctls are the TCP settings every network namespace the
// harness makes for a kernel starts with (the linux target's, and the
// kernel agent's fresh one per case in a guest or on a test interface), so
// that verdicts depend neither on the host's settings nor on the kernel's
// build and memory size. Values are Linux's documented defaults
// (Documentation/networking/ip-sysctl.rst).
var referenceSysctls = [][2]string{
	{"net/ipv4/tcp_timestamps", "1"},
	{"net/ipv4/tcp_sack", "1"},
	{"net/ipv4/tcp_dsack", "1"},
	{"net/ipv4/tcp_window_scaling", "1"},
	{"net/ipv4/tcp_ecn", "2"},
	{"net/ipv4/tcp_syncookies", "1"},
	{"net/ipv4/tcp_syn_retries", "6"},
	{"net/ipv4/tcp_synack_retries", "5"},
	{"net/ipv4/tcp_fin_timeout", "60"},
	{"net/ipv4/tcp_retries2", "15"},
	{"net/ipv4/tcp_rmem", "4096 131072 6291456"},
	{"net/ipv4/tcp_wmem", "4096 16384 4194304"},
	{"net/ipv4/tcp_slow_start_after_idle", "1"},
	{"net/ipv4/tcp_no_metrics_save", "0"},
	{"net/ipv4/tcp_early_retrans", "3"},
	{"net/ipv4/tcp_recovery", "1"},
}

// PinReferenceSysctls writes the reference settings into the calling
// thread's network namespace, which must be one the harness made. The
// congestion control is Linux's default, cubic, where the kernel lets the
// namespace choose it, else Reno (RFC 5681), which every kernel allows:
// never whatever the host runs, since a pacing algorithm such as bbr moves
// every segment's departure time.
func PinReferenceSysctls() error {
	for _, kv := range referenceSysctls {
		if err := WriteSysctl(kv[0], kv[1]); err != nil {
			return err
		}
	}
	if WriteSysctl("net/ipv4/tcp_congestion_control", "cubic") != nil {
		return WriteSysctl("net/ipv4/tcp_congestion_control", "reno")
	}
	return nil
}

// WriteSysctl sets one sysctl, by its path under /proc/sys
// ("net/ipv4/tcp_sack"), as the calling thread sees it: a net/ setting of
// the thread's network namespace.
func WriteSysctl(name, value string) error {
	if err := os.WriteFile("/proc/sys/"+name, []byte(value), 0); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", name, value, err)
	}
	return nil
}
