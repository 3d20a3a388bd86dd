package injector

import (
	"reflect"
	"testing"

	"github.com/tcpconform/tcpconform/wire"
)

func TestSynAckCarriesOnlyOfferedOptions(t *testing.T) {
	c := &Conn{KnownISS: true}
	for _, tt := range []struct {
		offered []wire.OptionKind
		want    []wire.Option
	}{
		{nil, []wire.Option{wire.MSS(1460), wire.NOP{}}},
		{[]wire.OptionKind{wire.KindMSS, wire.KindWindowScale}, []wire.Option{wire.MSS(1460), wire.NOP{}, wire.WindowScale(7)}},
		{[]wire.OptionKind{wire.KindSACKPermitted, wire.KindTimestamps}, []wire.Option{wire.MSS(1460), wire.SACKPermitted{}, wire.Timestamps{}, wire.NOP{}}},
	} {
		c.offered = map[wire.OptionKind]bool{}
		for _, k := range tt.offered {
			c.offered[k] = true
		}
		if got := c.synOptions(wire.SYN | wire.ACK); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("offered %v: SYN,ACK options %v, want %v", tt.offered, got, tt.want)
		}
	}
	if got := c.synOptions(wire.SYN); !reflect.DeepEqual(got, DefaultSYNOptions()) {
		t.Errorf("a SYN offers everything; got %v", got)
	}
}
