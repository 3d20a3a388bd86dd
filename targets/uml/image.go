package uml

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
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
	"time"

	"github.com/tcpconform/tcpconform/targets"
)

// AgentExecutable is set by a program whose main runs the guest's init
// when it is PID 1 (cmd/tcpconform: `tcpconform agent` in its init mode).
// Image then puts the program itself into the guest, if it is static;
// otherwise it builds cmd/tcpconform, static, from the module's source.
var AgentExecutable bool

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
		return "", fmt.Errorf("the go command is needed to build the guest's static tcpconform: not on PATH nor in %s", filepath.Dir(p))
	}
	return p, nil
}

// Image returns the initramfs the guest boots from: the tcpconform binary
// as /init (see initBinary), /dev/console, and the modules with
// /modules/order. It is built once into the user's cache directory, under
// a name that changes with what goes into it.
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
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	initBin, err := initBinary(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "init %d\n", len(initBin))
	h.Write(initBin)
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
	img := filepath.Join(dir, "initramfs-"+hex.EncodeToString(h.Sum(nil)[:8])+".cpio")
	if _, err := os.Stat(img); err == nil {
		now := time.Now()
		os.Chtimes(img, now, now)
		imageCache.path = img
		return img, nil
	}

	var buf bytes.Buffer
	c := newCPIO(&buf)
	for _, d := range []string{"dev", "proc", "sys", "tmp", "run", "modules"} {
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
	if err := writeWhole(img, buf.Bytes()); err != nil {
		return "", err
	}
	imageCache.path = img
	return img, nil
}

// cacheDir is where images and guest binaries are kept.
func cacheDir() (string, error) {
	dir, err := targets.CacheDir("uml")
	if err != nil {
		return "", err
	}
	pruneCache(dir, 7*24*time.Hour)
	return dir, nil
}

// pruneCache removes the images and binaries no run has used for age: a
// new one comes with every change of the source. Each use touches its
// files (use).
func pruneCache(dir string, age time.Duration) {
	old, _ := filepath.Glob(filepath.Join(dir, "*-*"))
	for _, p := range old {
		if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > age {
			os.Remove(p)
		}
	}
}

// use reads a cached file and marks it as used now.
func use(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		now := time.Now()
		os.Chtimes(path, now, now)
	}
	return b, err
}

// writeWhole writes a file under a temporary name and renames it, so that
// it appears whole, even with runs in parallel.
func writeWhole(path string, b []byte) error {
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// initBinary returns the guest's /init: this program when it is
// tcpconform (AgentExecutable) and static, else cmd/tcpconform built once
// with cgo off (so that it runs without a C library) from the module's
// source, and kept in dir under a name that changes with that source.
func initBinary(dir string) ([]byte, error) {
	if AgentExecutable {
		if exe, err := os.Executable(); err == nil && isStatic(exe) {
			return os.ReadFile(exe)
		}
	}
	root, err := moduleSource()
	if err != nil {
		return nil, err
	}
	sum, err := sourceSum(root)
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "tcpconform-"+sum)
	if b, err := use(bin); err == nil {
		return b, nil
	}
	gotool, err := goTool()
	if err != nil {
		return nil, err
	}
	out := bin + ".build" + strconv.Itoa(os.Getpid())
	defer os.Remove(out)
	cmd := exec.Command(gotool, "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/tcpconform")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("uml: building the guest's tcpconform failed: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	return b, writeWhole(bin, b)
}

// isStatic reports whether the ELF executable at path needs no dynamic
// loader.
func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return false
		}
	}
	return true
}

// moduleSource finds the tcpconform module's source: the directory this
// file was compiled from, two levels up.
func moduleSource() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if ok {
		root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
		if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/tcpconform/tcpconform\n") {
			return root, nil
		}
	}
	return "", errors.New("uml: the guest runs tcpconform itself: run a static tcpconform (CGO_ENABLED=0 go build ./cmd/tcpconform), or run from the module's source so that it can be built")
}

// sourceSum hashes what a build of cmd/tcpconform reads from the module:
// go.mod, go.sum and every non-test Go file, outside testdata.
func sourceSum(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "out") {
				return filepath.SkipDir
			}
			return nil
		}
		if name != "go.mod" && name != "go.sum" && (!strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go")) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)[:8]), err
}
