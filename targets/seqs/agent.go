package seqs

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/tcpconform/tcpconform/agentsdk"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent"
)

// The seqs target serves its Stack through agentsdk, as any Go stack of a
// user's would be served, and drives it with the harness's agent client:
// the binary that runs the harness starts itself again as the agent (the
// first argument agentArg, then the seed), which serves one Stack on stdin,
// stdout and the packet socket pair at fd 3, and exits when the harness
// closes it. So every case on seqs runs through the SDK.

// agentArg, as a binary's first argument, makes it a seqs agent. It is no
// word a command line would have by chance (argv cannot carry a NUL).
const agentArg = "-tcpconform-internal-seqs-agent"

func init() {
	if len(os.Args) == 3 && os.Args[1] == agentArg {
		os.Exit(serveAgent(os.Args[2]))
	}
}

// serveAgent is the agent's side: one Stack served until the harness goes.
func serveAgent(seedArg string) int {
	seed, err := strconv.ParseUint(seedArg, 10, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "seqs agent: bad seed %q\n", seedArg)
		return 2
	}
	// Reads go through Go's poller, on non-blocking descriptors: a
	// blocking read holds one of the runtime's Ps while it waits, and with
	// two of them (a 2-core machine) both readers would hold both, so the
	// goroutine that sends the stack's answer waited for sysmon to take
	// one back, up to 20 ms.
	in, err := agentsdk.Pollable(0, "stdin")
	var packets *os.File
	if err == nil {
		packets, err = agentsdk.Pollable(3, "packets")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "seqs agent: %v\n", err)
		return 1
	}
	s := NewStack(seed)
	defer s.Stop()
	err = agentsdk.Serve(in, os.Stdout, s, agentsdk.Options{
		Stack: "seqs", Version: seqsVersion(), IPv4: true,
		Packets: packets, Log: os.Stderr,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "seqs agent: %v\n", err)
		return 1
	}
	return 0
}

// seqsVersion is the version of github.com/soypat/seqs built in.
func seqsVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/soypat/seqs" {
				return d.Version
			}
		}
	}
	return "unknown"
}

// startAgent runs this binary as a seqs agent and wraps it as an instance.
func startAgent(ctx context.Context, seed uint64) (targets.Instance, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("seqs target: %w: %v", targets.ErrUnavailable, err)
	}
	a, err := agent.Start(ctx, agent.Spec{Name: "seqs agent", Path: self, Args: []string{agentArg, strconv.FormatUint(seed, 10)}})
	if err != nil {
		return nil, err
	}
	in := agent.NewInstance(a, addrs, targets.Capabilities{IPv4: true, State: true, SynReceivedState: true})
	if !a.Hello().Has("tcpinfo") {
		in.Close()
		return nil, fmt.Errorf("seqs target: the agent announced no tcpinfo: %+v", a.Hello())
	}
	return instance{in}, nil
}

// addrs are the seqs instance's addresses: IPv4 only.
var addrs = targets.Addrs{Local4: targets.DocumentationAddrs.Local4, Peer4: targets.DocumentationAddrs.Peer4}

// instance is the agent's instance with TCP_INFO, which seqs' agent answers.
type instance struct{ *agent.Instance }

var _ targets.TCPInfo = instance{}

// TCPInfo implements targets.TCPInfo with the agent's "tcpinfo" request.
func (in instance) TCPInfo(fd int) (map[string]int64, error) {
	f, err := in.A.Call("tcpinfo", strconv.Itoa(fd))
	var e *agent.Error
	switch {
	case errors.As(err, &e):
		return nil, e.Errno
	case err != nil:
		return nil, err
	case len(f) != 1:
		return nil, fmt.Errorf("seqs agent: tcpinfo reply %q", f)
	}
	b, err := hex.DecodeString(f[0])
	if err != nil {
		return nil, fmt.Errorf("seqs agent: tcpinfo reply: %w", err)
	}
	return targets.LinuxTCPInfo(b), nil
}
