package mutate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Target is the module the mutants edit: the gVisor go.mod pins, which
// holds the netstack target's TCP.
const Target = "gvisor.dev/gvisor"

// Workspace builds tcpconform against mutants of a copy of the pinned
// module. The copy is made once per module version, in the user's cache
// directory, and never edited: a mutant's files reach the compiler through
// an overlay (go build -overlay), and the copy through a replace directive
// in a go.mod of the workspace's own (go build -modfile). Keeping the copy
// at one path lets the build cache serve every package a mutant leaves
// alone.
type Workspace struct {
	// Root is the tcpconform module's directory.
	Root string
	// Version is the pinned module's version; Copy is where its copy is.
	Version, Copy string
	// dir holds the go.mod, overlays and binaries of this workspace.
	dir string
}

// Open prepares a workspace for the tcpconform module at root.
func Open(ctx context.Context, root string) (*Workspace, error) {
	out, err := goCommand(ctx, root, "list", "-m", "-json", Target)
	if err != nil {
		return nil, err
	}
	var mod struct{ Version, Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return nil, fmt.Errorf("go list -m %s: %v", Target, err)
	}
	if mod.Dir == "" || mod.Version == "" {
		return nil, fmt.Errorf("go list -m %s: no directory or version (is the module downloaded, or already replaced in go.mod?)", Target)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, err
	}
	w := &Workspace{Root: root, Version: mod.Version,
		Copy: filepath.Join(cache, "tcpconform", "mutate", "gvisor@"+mod.Version)}
	if err := copyOnce(mod.Dir, w.Copy); err != nil {
		return nil, err
	}
	reapLeftovers()
	if w.dir, err = os.MkdirTemp("", fmt.Sprintf("%s%d-", tempPrefix, os.Getpid())); err != nil {
		return nil, err
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		w.Close()
		return nil, err
	}
	gomod = fmt.Appendf(gomod, "\nreplace %s => %s\n", Target, w.Copy)
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err == nil {
		err = os.WriteFile(filepath.Join(w.dir, "go.mod"), gomod, 0o644)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(w.dir, "go.sum"), gosum, 0o644)
	}
	if err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close removes the workspace's files; the module's copy stays for the
// next run.
func (w *Workspace) Close() error { return os.RemoveAll(w.dir) }

// tempPrefix starts the name of a workspace's directory, which goes on
// with the PID of the process that made it.
const tempPrefix = "tcpconform-mutate-"

// reapLeftovers removes the workspace directories of runs whose process is
// gone (killed before it could clean up): those named with a PID that no
// longer exists.
func reapLeftovers() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, d := range dirs {
		pid, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(d), tempPrefix), "-")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil || n <= 0 {
			continue
		}
		if _, err := os.Stat(filepath.Join("/proc", pid)); os.IsNotExist(err) {
			os.RemoveAll(d)
		}
	}
}

// copyOnce copies the module at src to dst unless a complete copy is
// there: it copies into a fresh directory beside dst and renames it, so an
// interrupted copy is never taken for a complete one.
func copyOnce(src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), filepath.Base(dst)+".partial-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(tmp, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("copying %s: %v", src, err)
	}
	if err := os.Rename(tmp, dst); err != nil && !os.IsExist(err) {
		if _, serr := os.Stat(dst); serr != nil {
			return err
		}
	}
	return nil
}

// read returns a file of the module's pristine copy.
func (w *Workspace) read(path string) ([]byte, error) {
	return os.ReadFile(filepath.Join(w.Copy, filepath.FromSlash(path)))
}

// Check applies m to the module without building: it reports a mutant
// whose old text is missing or ambiguous.
func (w *Workspace) Check(m *Mutant) error {
	_, err := m.Apply(w.read)
	return err
}

// Build builds the tcpconform command against the module with m applied
// (none for nil) and returns the binary's path. A mutant that does not
// compile is an error with the compiler's output.
func (w *Workspace) Build(ctx context.Context, m *Mutant) (string, error) {
	name := "unmutated"
	args := []string{"build", "-modfile", filepath.Join(w.dir, "go.mod")}
	if m != nil {
		name = m.Name
		files, err := m.Apply(w.read)
		if err != nil {
			return "", err
		}
		replace := map[string]string{}
		for p, text := range files {
			to := filepath.Join(w.dir, name, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
				return "", err
			}
			if err := os.WriteFile(to, text, 0o644); err != nil {
				return "", err
			}
			replace[filepath.Join(w.Copy, filepath.FromSlash(p))] = to
		}
		overlay, _ := json.Marshal(map[string]any{"Replace": replace})
		ov := filepath.Join(w.dir, name+".overlay.json")
		if err := os.WriteFile(ov, overlay, 0o644); err != nil {
			return "", err
		}
		args = append(args, "-overlay", ov)
	}
	bin := filepath.Join(w.dir, name+".bin")
	args = append(args, "-o", bin, "./cmd/tcpconform")
	if _, err := goCommand(ctx, w.Root, args...); err != nil {
		return "", err
	}
	return bin, nil
}

// goCommand runs the go command in dir and returns its standard output,
// or an error with its standard error.
func goCommand(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
