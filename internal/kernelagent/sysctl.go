package kernelagent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/tcpconform/tcpconform/targets"
)

// sysctls writes knobs under dir (/proc/sys) and remembers the value each
// had before its first change, for restore.
//
// The knobs under /proc/sys/net are those of the network namespace of the
// thread that opens them, so they are opened through netns, on the
// stack's thread. A few are global and exist in the first namespace only
// (net.core.rmem_max, net.ipv4.tcp_mem, …): a knob missing in the stack's
// namespace is looked for in the agent's own, when global is set (in a
// guest, whose kernel is the stack's alone). Restoring puts every knob
// back where it was changed.
type sysctls struct {
	dir    string
	netns  func(func() error) error
	global bool

	mu    sync.Mutex
	saved map[string]string // path → original value
	order []string          // paths in the order of their first change
}

// knobPath turns "net.ipv4.tcp_sack" (or "net/ipv4/tcp_sack") into a path
// under dir; it refuses names that would leave it.
func (c *sysctls) knobPath(name string) (string, bool) {
	rel := name
	if !strings.Contains(name, "/") {
		rel = strings.ReplaceAll(name, ".", "/")
	}
	for _, part := range strings.Split(rel, "/") {
		if part == "" || part == "." || part == ".." {
			return "", false
		}
	}
	return filepath.Join(c.dir, rel), true
}

// anywhere runs f (which opens a knob) in the stack's network namespace,
// or, if the knob does not exist there and global is set, in the agent's
// own one.
func (c *sysctls) anywhere(f func() error) error {
	err := c.netns(f)
	if errors.Is(err, fs.ErrNotExist) && c.global {
		err = f()
	}
	return err
}

// set writes value to the knob name. A knob that does not exist is
// unsupported.
func (c *sysctls) set(name, value string) error {
	path, good := c.knobPath(name)
	if !good {
		return syscall.EINVAL
	}
	err := c.anywhere(func() error { return c.setPath(path, value) })
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sysctl %s: %w: this kernel has no such setting", name, targets.ErrUnsupported)
	}
	return err
}

func (c *sysctls) setPath(path, value string) error {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fs.ErrNotExist
	case err == nil:
		c.mu.Lock()
		if _, seen := c.saved[path]; !seen {
			c.saved[path] = strings.TrimRight(string(old), "\n")
			c.order = append(c.order, path)
		}
		c.mu.Unlock()
	}
	// A write-only knob cannot be read back, so it is not restored.
	return WriteKnob(path, value)
}

// WriteKnob writes a /proc/sys file in one write, as the kernel wants it.
func WriteKnob(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte(value + "\n"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// restore puts back every changed knob, the last changed first, and
// forgets them.
func (c *sysctls) restore() []error {
	c.mu.Lock()
	saved, order := c.saved, c.order
	c.saved, c.order = map[string]string{}, nil
	c.mu.Unlock()
	var errs []error
	for i := len(order) - 1; i >= 0; i-- {
		p := order[i]
		if err := c.anywhere(func() error { return WriteKnob(p, saved[p]) }); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
	}
	return errs
}
