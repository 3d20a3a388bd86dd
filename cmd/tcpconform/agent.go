package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/tcpconform/tcpconform/agentsdk"
	"github.com/tcpconform/tcpconform/internal/kernelagent"
	"github.com/tcpconform/tcpconform/internal/posix"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/uml/guestinit"
)

// cmdAgent serves the agent protocol (docs/agent-protocol.md) with the
// kernel's sockets of the network namespace it runs in: on stdin and
// stdout, a serial line, or TCP. Packets travel on a real interface, not
// through the agent; it configures no interface but its test interface
// (-iface), on which it gives each case a fresh network namespace.
func cmdAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "serve one harness at a time on this TCP `IP:PORT` (a specific address, not a wildcard) instead of stdin and stdout")
	token := fs.String("token", os.Getenv("TCPCONFORM_AGENT_TOKEN"), "with -listen, the shared `secret` a harness must send first, as \"token SECRET\" (default $TCPCONFORM_AGENT_TOKEN; required off loopback)")
	serial := fs.String("serial", "", "serve on this serial line (`device`) instead of stdin and stdout")
	allowShell := fs.Bool("allow-shell", false, "run the shell commands of scripts (\"shell\" requests) in the agent's namespace")
	sysctls := fs.Bool("sysctl", false, "let the harness change sysctls (put back at every reset and at exit)")
	iface := fs.String("iface", "", "give each case a new network namespace holding a macvlan on this test `interface` (its MAC address, the -ip4 and -ip6 addresses); no other interface is touched")
	ip4 := fs.String("ip4", "", "with -iface, the stack's IPv4 address on it, `ADDR/LEN`")
	ip6 := fs.String("ip6", "", "with -iface, the stack's IPv6 address on it, `ADDR/LEN`")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() != 0 || *listen != "" && *serial != "" || *iface == "" && (*ip4 != "" || *ip6 != "") {
		fmt.Fprintln(stderr, "usage: tcpconform agent [-listen IP:PORT [-token SECRET] | -serial DEVICE] [-iface NAME [-ip4 ADDR/LEN] [-ip6 ADDR/LEN]] [-allow-shell] [-sysctl]")
		return exitError
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "tcpconform agent: "+format+"\n", a...) }
	cfg := kernelagent.Config{Stack: posix.New(posix.Here()), Sysctls: *sysctls}
	opts := hereOptions()
	if *iface != "" {
		var err error
		cfg.Stack, cfg.Renew, opts.IPv4, opts.IPv6, err = guestinit.FreshNamespaces(*iface, *ip4, *ip6)
		if err != nil {
			logf("-iface %s: %v", *iface, err)
			return exitError
		}
	}
	kb := kernelagent.New(cfg)
	defer kb.Release()
	var b targets.Sockets = kb
	if *allowShell {
		b = kernelagent.WithShell{Backend: kb}
	}
	opts.Log = stderr
	serve := func(c kernelagent.Conn) error {
		err := agentsdk.Serve(c.Reader, c.Writer, b, opts)
		if rerr := kb.Reset(); rerr != nil {
			logf("after the harness: %v", rerr)
		}
		return err
	}
	var err error
	switch {
	case *listen != "":
		err = listenAgent(ctx, *listen, *token, serve, logf)
	case *serial != "":
		var f *os.File
		if f, err = kernelagent.OpenSerial(*serial, logf); err == nil {
			err = serve(kernelagent.Conn{Reader: f, Writer: f})
			f.Close()
		}
	default:
		var in *os.File
		if in, err = agentsdk.Pollable(0, "stdin"); err == nil {
			err = serve(kernelagent.Conn{Reader: in, Writer: stdout})
		}
	}
	if err != nil {
		logf("%v", err)
		return exitError
	}
	return exitOK
}

// hereOptions describes the kernel the agent runs on: its release, and
// the families it has.
func hereOptions() agentsdk.Options {
	// sock_diag and /proc/net/tcp both list request sockets.
	opts := agentsdk.Options{Stack: "linux", Version: "unknown", IPv4: true, SynReceived: true}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		opts.Version = unix.ByteSliceToString(u.Release[:])
	}
	_, err := os.Stat("/proc/net/if_inet6")
	opts.IPv6 = err == nil
	return opts
}

// listenAgent serves harnesses on a TCP address until ctx ends.
func listenAgent(ctx context.Context, addr, token string, serve func(kernelagent.Conn) error, logf func(string, ...any)) error {
	if _, err := kernelagent.CheckListen(addr, token); err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, func() { l.Close() })
	logf("serving on %s", l.Addr())
	err = (&kernelagent.Listener{L: l, Token: token, Logf: logf, Serve: serve}).Run()
	if ctx.Err() != nil && errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
