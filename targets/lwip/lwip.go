// Package lwip is the lwIP target: each instance is a fresh lwip_agent
// process (agent/lwip_agent.c, built with gcc against Debian's liblwip-dev at
// first use) driven through the stack-agent protocol (docs/agent-protocol.md).
// Packets go over a unix socket pair, never a host interface; time is real.
package lwip

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/agent"
)

//go:embed agent/lwip_agent.c
var agentSource []byte

func init() { targets.Register(Target{}) }

// Target is the lwIP target.
type Target struct{}

// Name implements targets.Target.
func (Target) Name() string { return "lwip" }

// Describe implements targets.Target.
func (Target) Describe() string {
	return "lwIP 2.1 (Debian liblwip-dev), one agent process per case over a socket pair, real time"
}

// Available implements targets.Target: gcc, pkg-config and lwIP's
// development files must be present.
func (Target) Available() error {
	if _, err := exec.LookPath("gcc"); err != nil {
		return fmt.Errorf("%w: gcc not found (install gcc and liblwip-dev)", targets.ErrUnavailable)
	}
	if _, err := exec.LookPath("pkg-config"); err != nil {
		return fmt.Errorf("%w: pkg-config not found (install pkg-config and liblwip-dev)", targets.ErrUnavailable)
	}
	if out, err := exec.Command("pkg-config", "--exists", "lwip").CombinedOutput(); err != nil {
		return fmt.Errorf("%w: pkg-config knows no lwip (install liblwip-dev) %s", targets.ErrUnavailable, strings.TrimSpace(string(out)))
	}
	return nil
}

var build struct {
	sync.Mutex
	path string
}

// Binary returns the agent binary, building it into the user cache directory
// when no binary for this source exists there yet. The environment variable
// TCPCONFORM_LWIP_AGENT, when set, names an agent binary to use instead (for
// debugging: one built by hand, e.g. with -g -fsanitize=address).
func Binary() (string, error) {
	build.Lock()
	defer build.Unlock()
	if build.path != "" {
		return build.path, nil
	}
	if p := os.Getenv("TCPCONFORM_LWIP_AGENT"); p != "" {
		build.path = p
		return p, nil
	}
	if err := (Target{}).Available(); err != nil {
		return "", err
	}
	dir, err := targets.CacheDir("lwip_agent")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(agentSource)
	bin := filepath.Join(dir, "lwip_agent-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(bin); err == nil {
		build.path = bin
		return bin, nil
	}
	src := filepath.Join(dir, "lwip_agent-"+hex.EncodeToString(sum[:8])+".c")
	if err := os.WriteFile(src, agentSource, 0o644); err != nil {
		return "", err
	}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "lwip").Output()
	if err != nil {
		return "", fmt.Errorf("lwip: pkg-config --cflags --libs lwip: %v", err)
	}
	tmp := bin + ".tmp" + strconv.Itoa(os.Getpid())
	args := append([]string{"-O2", "-Wall", "-o", tmp, src}, strings.Fields(string(flags))...)
	args = append(args, "-lpthread")
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("lwip: building the agent failed: %v\n%s", err, out)
	}
	// Renaming makes the binary appear whole, even with builds in parallel.
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	build.path = bin
	return bin, nil
}

// Command implements agent.Commander: the agent binary (built at first
// use), given the stack's IPv4 address and prefix length, its IPv6 address
// and the seed of its randomness. Instances are started from it, and
// "tcpconform targets -v" shows it, so that -target agent -agent-cmd runs
// the same agent.
func (Target) Command() (agent.Command, error) {
	bin, err := Binary()
	if err != nil {
		return agent.Command{}, err
	}
	return agent.Command{Name: "lwip", Argv: []string{bin, "{addr4}", "{prefix4}", "{addr6}", "{seed}"}, Net: agent.DocumentationNet}, nil
}

// New implements targets.Target: it starts a fresh agent.
func (t Target) New(ctx context.Context, cfg targets.Config) (targets.Instance, error) {
	c, err := t.Command()
	if err != nil {
		return nil, err
	}
	return c.New(ctx, cfg)
}
