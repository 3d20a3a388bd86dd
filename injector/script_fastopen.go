package injector

import (
	"bytes"
	"net/netip"
	"syscall"

	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/wire"
)

// A server's Fast Open cookie is a function of its key and of the client's
// and server's addresses (RFC 7413 section 4.1.1). Scripts are written for
// packetdrill's addresses (or those their --local_ip and --remote_ip name),
// not the harness's, so a cookie a script spells out is carried over: when
// it is the cookie the target would give the script's client under one of
// its keys, the live flow uses the cookie the same key gives the live
// client. TFO_COOKIE, unless given with -D, is the cookie the target gives
// the live client under its first key, as packetdrill's runner defines it
// for its own addresses.

// tcpFastOpenKey is TCP_FASTOPEN_KEY (linux/tcp.h).
const tcpFastOpenKey = 33

// packetdrill's default addresses: the local (target) side and the remote
// (injecting) side.
var (
	pdLocal4  = netip.MustParseAddr("192.168.0.1")
	pdRemote4 = netip.MustParseAddr("192.0.2.1")
	pdLocal6  = netip.MustParseAddr("fd3d:fa7b:d17d::1")
	pdRemote6 = netip.MustParseAddr("2001:db8::1")
)

// cookieSymbol reports whether an undefined symbol is one the run fills in.
func (r *scriptRun) cookieSymbol(u *script.Symbol) bool {
	_, ok := r.instance().(targets.FastOpenCookies)
	return ok && u.Name == "TFO_COOKIE" && u.Option > 0
}

// scriptAddrs are the client and server addresses the script was written
// for.
func (r *scriptRun) scriptAddrs() (client, server netip.Addr) {
	client, server = pdRemote4, pdLocal4
	if r.mode == IPModeV6 {
		client, server = pdRemote6, pdLocal6
	}
	for _, o := range r.opts {
		a, err := netip.ParsePrefix(o.Value)
		if err != nil {
			a2, err2 := netip.ParseAddr(o.Value)
			if err2 != nil {
				continue
			}
			a = netip.PrefixFrom(a2, a2.BitLen())
		}
		switch o.Name {
		case "local_ip":
			server = a.Addr().Unmap()
		case "remote_ip":
			client = a.Addr().Unmap()
		}
	}
	return client, server
}

// liveOptions are pkt's options with Fast Open cookies carried over to the
// live addresses.
func (r *scriptRun) liveOptions(pkt *script.Packet) []wire.Option {
	fo, ok := r.instance().(targets.FastOpenCookies)
	if !ok {
		return pkt.Options
	}
	var sym map[int]bool
	for _, u := range pkt.Undefined {
		if r.cookieSymbol(u) {
			if sym == nil {
				sym = map[int]bool{}
			}
			sym[u.Option-1] = true
		}
	}
	var out []wire.Option
	for i, o := range pkt.Options {
		c, isFO := wire.FastOpenCookie(o)
		if !isFO || len(c) == 0 && !sym[i] {
			continue
		}
		live, err := fo.FastOpenCookies(r.p.LocalAddr(), r.p.TargetAddr(), r.foKeys)
		if err != nil {
			r.t.ErrorAt(r.where(pkt.Pos), err)
		}
		repl := c
		if sym[i] {
			if len(live) > 0 {
				repl = live[0]
			}
		} else {
			sc, ss := r.scriptAddrs()
			written, err := fo.FastOpenCookies(sc, ss, r.foKeys)
			if err != nil {
				r.t.ErrorAt(r.where(pkt.Pos), err)
			}
			for k, w := range written {
				if k < len(live) && bytes.Equal(w, c) {
					repl = live[k]
					break
				}
			}
		}
		if out == nil {
			out = append([]wire.Option(nil), pkt.Options...)
		}
		out[i] = wire.WithFastOpenCookie(o, repl)
	}
	if out == nil {
		return pkt.Options
	}
	return out
}

// noteFastOpenKey keeps a key a script sets on a socket with
// TCP_FASTOPEN_KEY, so its cookies carry over too.
func (r *scriptRun) noteFastOpenKey(level, name int64, value []byte) {
	if level == syscall.SOL_TCP && name == tcpFastOpenKey && len(value) >= 16 {
		r.foKeys = append(r.foKeys, value)
	}
}
