package uml

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// guestSource is the guest agent (guest/*.go, package main, standard library
// only). It is built at first use with the Go toolchain, as a static binary,
// and becomes the guest's /init.
//
//go:embed guest
var guestSource embed.FS

// moduleRoot is where Debian's user-mode-linux package puts the guest
// kernel's modules, one directory per kernel release.
const moduleRoot = "/usr/lib/uml/modules"

// guestModules are the modules the guest loads, in order: IPv6 is a module
// in Debian's build, and needs crc-ccitt; each case's stack lives on a
// macvlan device over the NIC, in a network namespace of its own.
var guestModules = []string{"kernel/lib/crc-ccitt.ko", "kernel/net/ipv6/ipv6.ko", "kernel/drivers/net/macvlan.ko"}

var imageCache struct {
	sync.Mutex
	path string
}

// moduleDir returns the module directory of the installed guest kernel.
func moduleDir() (string, error) {
	dirs, _ := filepath.Glob(filepath.Join(moduleRoot, "*"))
	sort.Strings(dirs)
	if len(dirs) == 0 {
		return "", fmt.Errorf("no kernel modules in %s (install user-mode-linux)", moduleRoot)
	}
	return dirs[len(dirs)-1], nil
}

// goTool finds the go command: the one on PATH, else the one of the
// toolchain that built this program.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("the go command is needed to build the guest agent: not on PATH nor in %s", filepath.Dir(p))
	}
	return p, nil
}

// Image returns the initramfs the guest boots from: the guest agent as
// /init, /dev/console, and the modules with /modules/order. It is built once
// into the user's cache directory, under a name that changes with what goes
// into it.
func Image() (string, error) {
	imageCache.Lock()
	defer imageCache.Unlock()
	if imageCache.path != "" {
		return imageCache.path, nil
	}
	mdir, err := moduleDir()
	if err != nil {
		return "", err
	}
	sources := map[string][]byte{}
	var names []string
	err = fs.WalkDir(guestSource, "guest", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := guestSource.ReadFile(p)
		sources[filepath.Base(p)] = b
		names = append(names, filepath.Base(p))
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s %d\n", n, len(sources[n]))
		h.Write(sources[n])
	}
	modules := make([][]byte, len(guestModules))
	for i, m := range guestModules {
		b, err := os.ReadFile(filepath.Join(mdir, m))
		if err != nil {
			return "", fmt.Errorf("guest kernel module: %w (install user-mode-linux)", err)
		}
		modules[i] = b
		fmt.Fprintf(h, "%s %d\n", m, len(b))
		h.Write(b)
	}
	sum := hex.EncodeToString(h.Sum(nil)[:8])

	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "tcpconform", "uml")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	img := filepath.Join(dir, "initramfs-"+sum+".cpio")
	if _, err := os.Stat(img); err == nil {
		imageCache.path = img
		return img, nil
	}

	initBin, err := buildGuest(sources)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	c := newCPIO(&buf)
	for _, d := range []string{"dev", "proc", "sys", "tmp", "modules"} {
		c.Dir(d)
	}
	c.CharDev("dev/console", 0o600, 5, 1)
	c.File("init", 0o755, initBin)
	var order strings.Builder
	for i, m := range guestModules {
		name := "/modules/" + filepath.Base(m)
		c.File(name, 0o644, modules[i])
		order.WriteString(name + "\n")
	}
	c.File("modules/order", 0o644, []byte(order.String()))
	if err := c.Close(); err != nil {
		return "", err
	}
	// Writing under a temporary name and renaming makes the image appear
	// whole, even with runs in parallel.
	tmp := img + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, img); err != nil {
		return "", err
	}
	imageCache.path = img
	return img, nil
}

// buildGuest compiles the guest agent in a scratch module of its own, with
// cgo off so that the binary runs without a C library.
func buildGuest(sources map[string][]byte) ([]byte, error) {
	gotool, err := goTool()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tcpconform-guest-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module tcpconformguest\n\ngo 1.22\n"), 0o644); err != nil {
		return nil, err
	}
	for n, b := range sources {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			return nil, err
		}
	}
	out := filepath.Join(dir, "init")
	cmd := exec.Command(gotool, "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("uml: building the guest agent failed: %v\n%s", err, b)
	}
	return os.ReadFile(out)
}
