// Command vethlab makes a remote device out of this machine for
// `tcpconform run -target remote`: two new network namespaces joined by
// veth pairs, the device's running `tcpconform agent -listen` (see
// targets/remote/vethlab), and runs a command, or a shell, in the
// harness's namespace with the target's settings in the environment. The
// namespaces and the agent go when the command ends (or vethlab is
// interrupted). It needs root.
//
//	vethlab [-tcpconform PATH] [-- COMMAND ARGS...]
//
// In the command, $TCPCONFORM_REMOTE_FLAGS holds the remote target's flags
// and $TCPCONFORM_AGENT_TOKEN the agent's token, so that
//
//	vethlab -- sh -c 'tcpconform run -target remote $TCPCONFORM_REMOTE_FLAGS'
//
// runs the built-in suite against the device's kernel.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/tcpconform/tcpconform/targets/remote"
	"github.com/tcpconform/tcpconform/targets/remote/vethlab"
)

func main() {
	os.Exit(run())
}

func run() int {
	bin := flag.String("tcpconform", "tcpconform", "the tcpconform `binary` the device runs as its agent")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: vethlab [-tcpconform PATH] [-- COMMAND ARGS...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	path, err := exec.LookPath(*bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vethlab:", err)
		return 2
	}
	argv := flag.Args()
	if len(argv) == 0 {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		argv = []string{sh}
	}
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)

	// The namespaces go on every way out: the command's end, a signal, an
	// error; a vethlab killed outright leaves them to the next run's
	// reaper.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	lab, err := vethlab.Up()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vethlab:", err)
		return 2
	}
	defer lab.Close()
	if err := lab.StartAgent(path, token); err != nil {
		fmt.Fprintln(os.Stderr, "vethlab:", err)
		return 2
	}
	var flags []string
	for k, v := range lab.TargetOptions("") {
		if v != "" && k != "netns" { // the command runs in the namespace
			flags = append(flags, "-"+k+" "+v)
		}
	}
	sort.Strings(flags)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), remote.TokenEnv+"="+token, "TCPCONFORM_REMOTE_FLAGS="+strings.Join(flags, " "))
	fmt.Fprintf(os.Stderr, "vethlab: harness namespace %s, device namespace %s; target flags: %s\n", lab.Harness, lab.Device, strings.Join(flags, " "))
	// Forked on the harness's namespace thread, the command runs in that
	// namespace.
	if err := lab.InHarness(cmd.Start); err != nil {
		fmt.Fprintln(os.Stderr, "vethlab:", err)
		return 2
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case s := <-sigs:
		cmd.Process.Signal(s)
		err = <-done
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vethlab:", err)
		return 2
	}
	return 0
}
