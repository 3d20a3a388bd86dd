package targets

import (
	"context"
	"strings"
	"testing"
)

type plain struct{ name string }

func (p plain) Name() string                                  { return p.name }
func (p plain) Describe() string                              { return "" }
func (p plain) Available() error                              { return nil }
func (p plain) New(context.Context, Config) (Instance, error) { return nil, nil }

type withOpts struct{ plain }

func (w withOpts) Configure(o Options) (Target, error) {
	if err := o.Unknown(w.name, "agent-cmd"); err != nil {
		return nil, err
	}
	return plain{w.name + ":" + o["agent-cmd"]}, nil
}

func TestOpenAppliesOrRefusesOptions(t *testing.T) {
	Register(plain{"opts-plain"})
	Register(withOpts{plain{"opts-conf"}})
	if _, err := Open("opts-plain", Options{"agent-cmd": "x"}); err == nil || !strings.Contains(err.Error(), "takes no options (given: -agent-cmd)") {
		t.Errorf("plain target with an option: %v", err)
	}
	if tg, err := Open("opts-plain", Options{"agent-cmd": ""}); err != nil || tg.Name() != "opts-plain" {
		t.Errorf("plain target, empty option: %v %v", tg, err)
	}
	if tg, err := Open("opts-conf", Options{"agent-cmd": "prog a"}); err != nil || tg.Name() != "opts-conf:prog a" {
		t.Errorf("configured: %v %v", tg, err)
	}
	if _, err := Open("opts-conf", Options{"iface": "eth1"}); err == nil || !strings.Contains(err.Error(), "does not take -iface") {
		t.Errorf("unknown option: %v", err)
	}
}
