// Package kernelagent is what `tcpconform agent` serves: the Linux
// kernel's sockets of one network namespace (internal/posix), with
// sysctls that reset puts back, an optional shell, and the transports the
// agent protocol runs on besides stdin and stdout (a serial line, TCP
// with a token).
package kernelagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/tcpconform/tcpconform/internal/posix"
	"github.com/tcpconform/tcpconform/targets"
)

// Config sets a Backend up.
type Config struct {
	// Stack is the kernel's sockets the agent serves.
	Stack *posix.Stack
	// Sysctls lets the harness change sysctls (put back at every reset
	// and at Release); without, "sysctl" is refused as unsupported, so
	// that an agent on a machine of its own changes none of its settings
	// unless told.
	Sysctls bool
	// SysctlDir is where the knobs are ("" means /proc/sys); tests point
	// it at a scratch directory.
	SysctlDir string
	// Renew, if not nil, gives the next case a fresh stack at every
	// reset (the UML guest: a new network namespace), and is in charge of
	// releasing the old one. Without, reset closes the stack's sockets,
	// abortively, and keeps the namespace.
	Renew func(old *posix.Stack) (*posix.Stack, error)
}

// Backend is an agentsdk backend: *posix.Stack's calls, plus Reset and
// SetSysctl.
type Backend struct {
	*posix.Stack
	sysctls *sysctls // nil when refused
	renew   func(*posix.Stack) (*posix.Stack, error)
}

// New returns the backend of cfg.
func New(cfg Config) *Backend {
	b := &Backend{Stack: cfg.Stack, renew: cfg.Renew}
	if cfg.Sysctls {
		dir := cfg.SysctlDir
		if dir == "" {
			dir = "/proc/sys"
		}
		// A guest's kernel is the stack's alone: a knob of its first
		// namespace only (net.core.rmem_max) is the stack's too. Anywhere
		// else, only the stack's namespace is touched.
		b.sysctls = &sysctls{dir: dir, saved: map[string]string{}, netns: b.inNetns, global: cfg.Renew != nil}
	}
	return b
}

// inNetns runs f on the current stack's thread.
func (b *Backend) inNetns(f func() error) error { return b.Stack.Thread().Do(f) }

// Reset implements agentsdk.Resetter: the sysctls go back first, where
// they were changed, then the stack is renewed or reset.
func (b *Backend) Reset() error {
	errs := b.restoreSysctls()
	if b.renew == nil {
		b.Stack.ResetAbortively()
		return errors.Join(errs...)
	}
	next, err := b.renew(b.Stack)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("no fresh stack: %w", err))...)
	}
	b.Stack = next
	return errors.Join(errs...)
}

// Release closes every socket and puts the sysctls back, when the agent
// ends.
func (b *Backend) Release() error {
	errs := b.restoreSysctls()
	b.Stack.Release()
	return errors.Join(errs...)
}

func (b *Backend) restoreSysctls() []error {
	if b.sysctls == nil {
		return nil
	}
	return b.sysctls.restore()
}

// SetSysctl implements targets.Sysctls.
func (b *Backend) SetSysctl(name, value string) error {
	if b.sysctls == nil {
		return fmt.Errorf("sysctl %s: %w: the agent changes no sysctls unless started with -sysctl", name, targets.ErrUnsupported)
	}
	return b.sysctls.set(name, value)
}

// WithShell is a Backend that also runs shell commands (targets.Shell),
// which an agent offers only when told to (-allow-shell).
type WithShell struct{ *Backend }

// RunShell implements targets.Shell: /bin/sh -c, started on the stack's
// thread so that it runs in the stack's network namespace.
func (s WithShell) RunShell(ctx context.Context, command, dir string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := s.inNetns(cmd.Start); err != nil {
		return nil, err
	}
	err := cmd.Wait()
	return []byte(out.String()), err
}
