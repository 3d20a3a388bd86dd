package injector

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/targets"
)

// command runs a back-quoted shell command. A target with a shell (Linux)
// runs it in the script's folder. On one without, the command is read rather
// than run: the sysctl settings it makes (directly, or through a script file
// it names, such as packetdrill's defaults.sh) are handed to a target that
// takes them, and anything else skips the script with the reason.
func (r *scriptRun) command(c *script.Command) {
	if sh, ok := r.instance().(targets.Shell); ok {
		cmd, err := r.runnable(c.Cmd, 0)
		if err != nil {
			r.t.ErrorAt(r.where(c.Pos), err)
		}
		out, err := sh.RunShell(r.t.ctx, cmd, r.dir)
		if text := strings.TrimSpace(string(out)); text != "" {
			// A command that went on after a step failed (a sysctl the
			// namespace refused) still says so: every failure message
			// carries what it printed.
			note := fmt.Sprintf("%s: `%s` printed: %s", r.where(c.Pos), oneLine(c.Cmd), oneLine(text))
			r.notes = append(r.notes, note)
			if r.p.Log != nil {
				fmt.Fprintln(r.p.Log, note)
			}
		}
		if err != nil {
			// The target cannot be put in the state the script asks for;
			// what the command printed says why.
			r.skip(c.Pos, "shell command `%s` failed (%v): %s", strings.TrimSpace(c.Cmd), err, strings.TrimSpace(string(out)))
		}
		return
	}
	sys, ok := r.instance().(targets.Sysctls)
	if !ok {
		r.skip(c.Pos, "target %s cannot run shell commands", r.t.target)
	}
	settings, err := r.readSettings(c.Cmd, r.dir, 0)
	if err != nil {
		r.skip(c.Pos, "shell command `%s`: %v", strings.TrimSpace(c.Cmd), err)
	}
	for _, s := range settings {
		if err := sys.SetSysctl(s.name, s.value); err != nil {
			if errors.Is(err, targets.ErrUnsupported) {
				r.skip(c.Pos, "%v", err)
			}
			r.scriptError(c.Pos, "%v", err)
		}
	}
}

// runnable returns cmd with every script it starts that is not executable
// (a checkout or copy that lost its mode bits, as scripts' helpers such as
// defaults.sh often are) replaced by an executable copy, made the same way in
// turn; a copy without "#!" runs under the shell, as the shell runs such
// files. Paths are relative to the script's folder, where commands run.
func (r *scriptRun) runnable(cmd string, depth int) (string, error) {
	if depth > 4 {
		return cmd, nil
	}
	lines := strings.Split(cmd, "\n")
	for i, line := range lines {
		trimmed := strings.TrimLeft(line, " \t")
		word, rest, _ := strings.Cut(trimmed, " ")
		if word == "" || strings.HasPrefix(word, "#") || !strings.Contains(word, "/") {
			continue
		}
		path := word
		if !filepath.IsAbs(path) {
			path = filepath.Join(r.dir, path)
		}
		path = followLostSymlinks(path)
		st, err := os.Stat(path)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		if st.Mode()&0o111 != 0 {
			if abs, err := filepath.Abs(path); err == nil && path != filepath.Join(r.dir, word) {
				lines[i] = strings.Replace(line, word, abs, 1)
			}
			continue
		}
		body, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		inner, err := r.runnable(string(body), depth+1)
		if err != nil {
			return "", err
		}
		if r.tmp == "" {
			if r.tmp, err = os.MkdirTemp("", "tcpconform-cmd-"); err != nil {
				return "", err
			}
		}
		copyPath := filepath.Join(r.tmp, fmt.Sprintf("%d-%s", r.copies, filepath.Base(path)))
		r.copies++
		if err := os.WriteFile(copyPath, []byte(inner), 0o755); err != nil {
			return "", err
		}
		lines[i] = copyPath
		if rest != "" {
			lines[i] += " " + rest
		}
	}
	return strings.Join(lines, "\n"), nil
}

// followLostSymlinks follows files that are symbolic links stored as plain
// files (a checkout or copy without symlink support keeps a link as a small
// file holding the target's path): such a file's whole content is one
// relative path, to an existing file, from the file's own folder.
func followLostSymlinks(path string) string {
	for range 8 {
		st, err := os.Stat(path)
		if err != nil || !st.Mode().IsRegular() || st.Size() > 256 || st.Mode()&0o111 != 0 {
			return path
		}
		b, err := os.ReadFile(path)
		target := strings.TrimSpace(string(b))
		if err != nil || target == "" || strings.ContainsAny(target, " \t\n#") || filepath.IsAbs(target) {
			return path
		}
		next := filepath.Join(filepath.Dir(path), target)
		if _, err := os.Stat(next); err != nil {
			return path
		}
		path = next
	}
	return path
}

// setting is one sysctl a command makes.
type setting struct{ name, value string }

var (
	sysctlCmd = regexp.MustCompile(`^sysctl(\s+-[qwe]+)*\s+(.+)$`)
	// setSysctlsCmd is packetdrill's helper that takes
	// "/proc/sys/a/b=value" arguments.
	setSysctlsCmd = regexp.MustCompile(`^\S*set_sysctls\.py\s+(.+)$`)
	procSysCmd    = regexp.MustCompile(`^echo\s+(.+?)\s*>\s*/proc/sys/(\S+)$`)
	arith         = regexp.MustCompile(`\$\(\(([0-9*+\- ]+)\)\)`)
)

// harmless are commands with nothing to do on a stack without such state or
// with that behaviour already: flushing Linux's per-destination TCP metrics
// cache, and a plain FIFO queueing discipline on the test device.
var harmless = regexp.MustCompile(`^(ip\s+tcp_metrics\s+flush\b|tc\s+qdisc\s+(add|replace)\s+dev\s+\S+\s+root\s+pfifo$)`)

// readSettings reads the sysctl settings out of a shell command: one per
// "sysctl name=value" or "echo value > /proc/sys/..." line; a line that names
// an existing file (relative to dir, the directory of the script or file the
// line is in) is read as a shell script in turn.
func (r *scriptRun) readSettings(cmd, dir string, depth int) ([]setting, error) {
	if depth > 3 {
		return nil, errors.New("scripts nest too deeply")
	}
	var out []setting
	cmd = strings.ReplaceAll(cmd, "\\\n", " ") // line continuations
	for _, line := range strings.FieldsFunc(cmd, func(c rune) bool { return c == '\n' || c == ';' }) {
		line = stripComment(strings.TrimSpace(line))
		if i := strings.Index(line, ">"); i >= 0 && strings.Contains(line[i:], "/dev/null") {
			line = strings.TrimSpace(line[:i]) // drop output redirection
		}
		switch {
		case line == "" || harmless.MatchString(line):
		case setSysctlsCmd.MatchString(line):
			for _, kv := range splitAssignments(setSysctlsCmd.FindStringSubmatch(line)[1]) {
				file, value, ok := strings.Cut(kv, "=")
				name, isProc := strings.CutPrefix(file, "/proc/sys/")
				if !ok || !isProc {
					return nil, fmt.Errorf("set_sysctls.py argument %q is not /proc/sys/NAME=VALUE", kv)
				}
				v, err := expandArith(unquote(value))
				if err != nil {
					return nil, err
				}
				out = append(out, setting{strings.ReplaceAll(name, "/", "."), v})
			}
		case sysctlCmd.MatchString(line):
			for _, kv := range splitAssignments(sysctlCmd.FindStringSubmatch(line)[2]) {
				name, value, ok := strings.Cut(kv, "=")
				if !ok {
					return nil, fmt.Errorf("reading a sysctl (%q) is not supported", kv)
				}
				v, err := expandArith(unquote(value))
				if err != nil {
					return nil, err
				}
				out = append(out, setting{name, v})
			}
		case procSysCmd.MatchString(line):
			m := procSysCmd.FindStringSubmatch(line)
			v, err := expandArith(unquote(m[1]))
			if err != nil {
				return nil, err
			}
			out = append(out, setting{strings.ReplaceAll(m[2], "/", "."), v})
		default:
			path := filepath.Join(dir, strings.Fields(line)[0])
			b, err := os.ReadFile(path)
			if err != nil || len(strings.Fields(line)) > 1 {
				return nil, fmt.Errorf("%q cannot run on target %s", line, r.t.target)
			}
			more, err := r.readSettings(string(b), filepath.Dir(path), depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
			}
			out = append(out, more...)
		}
	}
	return out, nil
}

// stripComment drops a shell comment: from a '#' that starts a word, outside
// quotes, to the end of the line.
func stripComment(line string) string {
	quote := byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return strings.TrimSpace(line[:i])
		}
	}
	return line
}

// splitAssignments splits "a=1 b=\"x y\"" into its assignments, keeping
// quoted values whole.
func splitAssignments(s string) []string {
	var out []string
	var cur strings.Builder
	quote := rune(0)
	for _, c := range s {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			cur.WriteRune(c)
		case c == '"' || c == '\'':
			quote = c
			cur.WriteRune(c)
		case c == ' ' || c == '\t':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// expandArith evaluates the shell's $((a*b)) products and sums of integers.
func expandArith(s string) (string, error) {
	var err error
	out := arith.ReplaceAllStringFunc(s, func(m string) string {
		expr := arith.FindStringSubmatch(m)[1]
		sum := int64(0)
		for _, term := range strings.Split(strings.ReplaceAll(expr, " ", ""), "+") {
			prod := int64(1)
			for _, f := range strings.Split(term, "*") {
				n, e := strconv.ParseInt(f, 10, 64)
				if e != nil {
					err = fmt.Errorf("shell arithmetic %q is not supported", m)
					return m
				}
				prod *= n
			}
			sum += prod
		}
		return strconv.FormatInt(sum, 10)
	})
	return out, err
}

// oneLine folds a command or its output onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
