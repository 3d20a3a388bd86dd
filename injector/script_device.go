package injector

import (
	"strconv"

	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/targets"
)

// deviceConfig reads what a script's header asks of the instance's link, as
// packetdrill's options of the same names set up its TUN device before the
// script starts (the command line's win, as on packetdrill's): --mtu, the
// device's MTU (packetdrill's runner gives IPv6 runs 1520, so that the MSS is
// 1460 as in IPv4); --mss, the segment size injected TCP is handed to the
// kernel with, as a receive offload's merge (the virtio header's gso_size),
// so that a line longer than it arrives as several segments would have.
func deviceConfig(f *script.File, o ScriptOptions) (targets.Config, error) {
	// Scripts are written against packetdrill's device, which offloads.
	cfg := targets.Config{Offload: true}
	for _, opt := range o.options(f) {
		if opt.Name != "mtu" && opt.Name != "mss" {
			continue
		}
		n, err := strconv.ParseUint(opt.Value, 10, 16)
		if err != nil || n == 0 {
			return cfg, &script.Error{Pos: opt.Pos, Msg: "--" + opt.Name + "=" + strconv.Quote(opt.Value) + ": want a number of bytes from 1 to 65535"}
		}
		if opt.Name == "mtu" {
			cfg.MTU = int(n)
		} else {
			cfg.GROSize = int(n)
		}
	}
	return cfg, nil
}
