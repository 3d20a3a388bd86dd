package injector

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcpconform/tcpconform/internal/linuxabi"
	"github.com/tcpconform/tcpconform/script"
)

// Symbols resolve to Linux's values: names from packetdrill's Linux table
// that scripts use, errno names used as values, and the per-IP-version
// names packetdrill's runner defines.
func TestSymbolValues(t *testing.T) {
	for _, tt := range []struct {
		mode IPMode
		name string
		want int64
	}{
		{IPModeV4, "IP_RECVERR", unix.IP_RECVERR},
		{IPModeV4, "IPV6_RECVERR", unix.IPV6_RECVERR},
		{IPModeV4, "SOL_IP", unix.SOL_IP},
		{IPModeV4, "SOL_IPV6", unix.SOL_IPV6},
		{IPModeV4, "SOF_TIMESTAMPING_OPT_ID", unix.SOF_TIMESTAMPING_OPT_ID},
		{IPModeV4, "SOF_TIMESTAMPING_TX_ACK", unix.SOF_TIMESTAMPING_TX_ACK},
		{IPModeV4, "SCM_TSTAMP_ACK", unix.SCM_TSTAMP_ACK},
		{IPModeV4, "SPLICE_F_NONBLOCK", unix.SPLICE_F_NONBLOCK},
		{IPModeV4, "TCP_NLA_SRTT", 22},
		{IPModeV4, "TCP_INFINITE_SSTHRESH", 0x7fffffff},
		{IPModeV4, "TCP_NODELAY", unix.TCP_NODELAY},
		{IPModeV4, "SO_REUSEADDR", unix.SO_REUSEADDR},
		{IPModeV4, "ENOMSG", int64(unix.ENOMSG)},
		{IPModeV4, "CMSG_LEVEL_IP", unix.SOL_IP},
		{IPModeV6, "CMSG_LEVEL_IP", unix.SOL_IPV6},
		{IPModeV6, "CMSG_TYPE_RECVERR", unix.IPV6_RECVERR},
	} {
		r := &scriptRun{mode: tt.mode}
		got, err := r.intArg(&script.Symbol{Name: tt.name})
		if err != nil || got != tt.want {
			t.Errorf("%s (mode %v) = %d, %v; want %d", tt.name, tt.mode, got, err, tt.want)
		}
	}
	var unknown *unknownSymbol
	if _, err := (&scriptRun{}).intArg(&script.Symbol{Name: "NO_SUCH_SYMBOL"}); !errors.As(err, &unknown) {
		t.Errorf("an unknown symbol gives %v, want an unknownSymbol", err)
	}
}

// Every packetdrill name the table holds also appears once only: a name
// that is both a symbol and an errno would resolve one way as a value and
// another as a result.
func TestSymbolsAndErrnosDoNotOverlap(t *testing.T) {
	errnos := linuxabi.ErrnoNames()
	for _, name := range errnos {
		if _, dup := linuxSymbols[name]; dup {
			t.Errorf("%s is in both linuxSymbols and the errno table", name)
		}
	}
	if len(linuxSymbols) < 290 || len(errnos) < 130 {
		t.Errorf("tables hold %d symbols and %d errnos; packetdrill's Linux tables have about 300 and 130", len(linuxSymbols), len(errnos))
	}
}

// Errnos are spelled by name in messages, the usual name where a value has
// two.
func TestErrnoNames(t *testing.T) {
	for e, want := range map[unix.Errno]string{unix.EAGAIN: "EAGAIN", unix.EFAULT: "EFAULT", unix.EDEADLK: "EDEADLK", unix.ENOMSG: "ENOMSG"} {
		if got := ErrnoName(e); got != want {
			t.Errorf("ErrnoName(%d) = %q, want %q", int(e), got, want)
		}
	}
}
