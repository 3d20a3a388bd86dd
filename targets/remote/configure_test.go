package remote

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/targets"
)

// Configure takes the options it knows, fills in the defaults and the
// token from the environment, and refuses what it cannot use with an error
// naming the option.
func TestConfigure(t *testing.T) {
	t.Setenv(TokenEnv, "")
	base := targets.Options{"iface": "eth1", "device": "10.0.0.5:7000", "token": "s3cret"}
	with := func(k, v string) targets.Options {
		o := targets.Options{}
		for a, b := range base {
			o[a] = b
		}
		o[k] = v
		return o
	}
	for _, c := range []struct {
		opts targets.Options
		want string // in the error; "" for none
	}{
		{base, ""},
		{with("iface", ""), "-iface"},
		{with("device", ""), "-device"},
		{with("device", "10.0.0.5"), "-device"},
		{with("token", ""), "-token"},
		{with("mac", "01:00:5e:00:00:01"), "-mac"},
		{with("device-ip4", "2001:db8::1"), "-device-ip4"},
		{with("harness-ip6", "192.0.2.9"), "-harness-ip6"},
		{with("agent-cmd", "x"), "-agent-cmd"},
	} {
		_, err := (Target{}).Configure(c.opts)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: %v", c.opts, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: error %v, want one naming %s", c.opts, err, c.want)
		}
	}

	t.Setenv(TokenEnv, "from-env")
	tgt, err := (Target{}).Configure(with("token", ""))
	if err != nil {
		t.Fatal(err)
	}
	cfg := tgt.(Target).cfg
	if cfg.token != "from-env" || cfg.mac.String() != DefaultMAC.String() || cfg.addrs != targets.DocumentationAddrs {
		t.Errorf("config %+v, want the token from $%s and the default MAC and addresses", cfg, TokenEnv)
	}
	tgt, err = (Target{}).Configure(with("device-ip6", "none"))
	if err != nil {
		t.Fatal(err)
	}
	if a := tgt.(Target).cfg.addrs; a.Local6.IsValid() || a.Peer6.IsValid() || a.Local4 != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("-device-ip6 none: addresses %+v, want IPv4 only", a)
	}
	if err := (Target{}).Available(); err == nil {
		t.Error("an unconfigured remote target is available")
	}
}
