package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The CI templates under ci/ are documentation people copy, so a flag
// renamed in main.go must not leave them calling one that no longer exists.
// These tests read every YAML file there, find each shell command a job
// runs, pick out the tcpconform invocations, and check them against the
// flags the commands really register.

// repoRoot is the module's root, seen from this package's directory.
const repoRoot = "../.."

// invocation is one call of tcpconform found in a template.
type invocation struct {
	where string   // file:line of the run:/script: entry
	args  []string // what follows the program: the command, then its arguments
}

// flagSpec maps a command's flag names to whether each takes a value.
type flagSpec map[string]bool

// commandFlags asks Main for a command's flags, as "-h" prints them, and
// caches the answer. ok is false when the command does not exist.
type commandFlags map[string]flagSpec

// defaultsLine matches a flag line of flag.PrintDefaults: "  -name" for a
// boolean, "  -name type" for a flag with a value, and "  -x\tusage" for a
// one-letter boolean.
var defaultsLine = regexp.MustCompile(`^  -([^\s=]+)( [^\t]+)?(\t.*)?$`)

func (c commandFlags) lookup(cmd string) (flagSpec, bool) {
	if spec, ok := c[cmd]; ok {
		return spec, spec != nil
	}
	var out, errb bytes.Buffer
	if Main(context.Background(), []string{cmd, "-h"}, &out, &errb) != 0 {
		c[cmd] = nil
		return nil, false
	}
	spec := flagSpec{}
	sc := bufio.NewScanner(strings.NewReader(errb.String() + out.String()))
	for sc.Scan() {
		if m := defaultsLine.FindStringSubmatch(sc.Text()); m != nil {
			spec[m[1]] = m[2] != ""
		}
	}
	c[cmd] = spec
	return spec, true
}

// ciTemplate is what checkTemplate learnt from one file.
type ciTemplate struct {
	scripts     int          // run:/script: entries
	invocations []invocation // tcpconform calls among them
	problems    []string
}

func (t *ciTemplate) problem(where, format string, args ...any) {
	t.problems = append(t.problems, where+": "+fmt.Sprintf(format, args...))
}

// checkTemplate parses a YAML template and checks every tcpconform call in
// it; baselines it reads must exist under root or be written by a call in
// the same template.
func checkTemplate(name string, data []byte, root string, flags commandFlags) *ciTemplate {
	tmpl := &ciTemplate{}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		tmpl.problem(name, "%v", err)
		return tmpl
	}
	for _, s := range shellScripts(&doc) {
		tmpl.scripts++
		where := fmt.Sprintf("%s:%d", name, s.Line)
		for _, cmd := range simpleCommands(s.Value) {
			args, found, err := tcpconformArgs(cmd)
			switch {
			case err != nil:
				tmpl.problem(where, "%v", err)
			case found:
				tmpl.invocations = append(tmpl.invocations, invocation{where, args})
			}
		}
	}

	written := map[string]bool{}
	type read struct{ where, path, target string }
	var reads []read
	for _, inv := range tmpl.invocations {
		values, ok := checkInvocation(tmpl, inv, root, flags)
		if !ok {
			continue
		}
		for _, p := range values["write-baseline"] {
			written[filepath.Clean(p)] = true
		}
		target := "netstack" // run's default
		if ts := values["target"]; len(ts) > 0 {
			target = ts[len(ts)-1]
		}
		for _, p := range values["baseline"] {
			reads = append(reads, read{inv.where, p, target})
		}
	}
	for _, r := range reads {
		if written[filepath.Clean(r.path)] {
			continue
		}
		checkBaselineFile(tmpl, r.where, root, r.path, r.target)
	}
	return tmpl
}

// shellScripts returns the shell text of every run: (GitHub Actions) and
// script:, before_script: and after_script: (GitLab CI) entry, wherever
// it sits. A run: whose value is a mapping (defaults: run: shell:) is no
// command and is passed over.
func shellScripts(n *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	var scalars func(v *yaml.Node)
	scalars = func(v *yaml.Node) {
		switch v.Kind {
		case yaml.AliasNode:
			scalars(v.Alias)
		case yaml.ScalarNode:
			out = append(out, v)
		case yaml.SequenceNode:
			for _, item := range v.Content {
				scalars(item)
			}
		}
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				switch n.Content[i].Value {
				case "run", "script", "before_script", "after_script":
					scalars(n.Content[i+1])
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return out
}

// A shell word, or an operator that ends a simple command ("op").
type shellToken struct {
	word string
	op   bool
}

// shellTokens splits shell text into words and operators: enough of sh's
// grammar for CI steps (quotes, escapes, line continuations, comments,
// $(...), ${...} and GitHub's ${{ ... }} kept inside one word, redirections
// dropped with their target).
func shellTokens(s string) []shellToken {
	var toks []shellToken
	var word strings.Builder
	inWord := false
	redirect := false // the next word is a redirection's target
	flush := func() {
		if inWord {
			if redirect {
				redirect = false
			} else {
				toks = append(toks, shellToken{word: word.String()})
			}
		}
		word.Reset()
		inWord = false
	}
	// upTo copies s[i:] through the matching closer into the word and
	// returns the index after it.
	upTo := func(i int, open, close string) int {
		depth := 0
		for j := i; j < len(s); {
			switch {
			case strings.HasPrefix(s[j:], open):
				depth++
				j += len(open)
			case strings.HasPrefix(s[j:], close):
				depth--
				j += len(close)
				if depth == 0 {
					word.WriteString(s[i:j])
					return j
				}
			default:
				j++
			}
		}
		word.WriteString(s[i:])
		return len(s)
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			if s[i+1] != '\n' {
				word.WriteByte(s[i+1])
				inWord = true
			}
			i += 2
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			word.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 2
		case c == '"':
			i++
			for i < len(s) && s[i] != '"' {
				switch {
				case s[i] == '\\' && i+1 < len(s):
					word.WriteByte(s[i+1])
					i += 2
				case strings.HasPrefix(s[i:], "$("):
					i = upTo(i, "(", ")")
				case strings.HasPrefix(s[i:], "${"):
					i = upTo(i, "{", "}")
				default:
					word.WriteByte(s[i])
					i++
				}
			}
			inWord = true
			i++
		case strings.HasPrefix(s[i:], "$("):
			i = upTo(i, "(", ")")
			inWord = true
		case strings.HasPrefix(s[i:], "${"):
			i = upTo(i, "{", "}")
			inWord = true
		case c == '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				j = len(s) - i - 1
			}
			word.WriteString(s[i : i+2+j])
			inWord = true
			i += j + 2
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t':
			flush()
			i++
		case c == '>' || c == '<':
			// A redirection: a word of digits before it is its descriptor.
			if inWord && strings.Trim(word.String(), "0123456789") == "" {
				word.Reset()
				inWord = false
			}
			flush()
			i++
			for i < len(s) && (s[i] == '>' || s[i] == '&' || s[i] == '|') {
				i++
			}
			redirect = true
		case strings.ContainsRune("\n;&|()", rune(c)):
			flush()
			redirect = false
			for i < len(s) && strings.ContainsRune(";&|", rune(s[i])) {
				i++
			}
			if c == '\n' || c == '(' || c == ')' {
				i++
			}
			toks = append(toks, shellToken{op: true})
		default:
			word.WriteByte(c)
			inWord = true
			i++
		}
	}
	flush()
	return toks
}

// simpleCommands splits shell text into simple commands, each its words.
func simpleCommands(s string) [][]string {
	var cmds [][]string
	var cur []string
	for _, t := range shellTokens(s) {
		if t.op {
			if len(cur) > 0 {
				cmds = append(cmds, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, t.word)
	}
	if len(cur) > 0 {
		cmds = append(cmds, cur)
	}
	return cmds
}

// isTCPConform reports whether a word names the program: the installed
// binary, a path to it, or its package for go run.
func isTCPConform(w string) bool {
	w, _, _ = strings.Cut(w, "@")
	return w == "tcpconform" || strings.HasSuffix(w, "/tcpconform")
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// Options of the wrappers a CI command may put before the program that
// take a separate value.
var (
	sudoValueOpts = map[string]bool{"-u": true, "-g": true, "-C": true, "-D": true, "-h": true, "-p": true, "-r": true, "-t": true, "-U": true, "-T": true}
	envValueOpts  = map[string]bool{"-u": true, "-C": true, "-S": true}
	goValueOpts   = map[string]bool{"-C": true, "-p": true, "-asmflags": true, "-buildmode": true, "-compiler": true, "-covermode": true,
		"-coverpkg": true, "-exec": true, "-gccgoflags": true, "-gcflags": true, "-installsuffix": true, "-ldflags": true, "-mod": true,
		"-modfile": true, "-overlay": true, "-pgo": true, "-pkgdir": true, "-tags": true, "-toolexec": true, "-o": true}
)

// skipOpts drops leading options of a wrapper, with the values of those
// that take one.
func skipOpts(w []string, valued map[string]bool) []string {
	for len(w) > 0 && strings.HasPrefix(w[0], "-") {
		if w[0] == "--" {
			return w[1:]
		}
		if valued[w[0]] && len(w) > 1 {
			w = w[2:]
		} else {
			w = w[1:]
		}
	}
	return w
}

// tcpconformArgs recognizes a simple command that runs tcpconform, through
// sudo, env, time, exec, timeout or go run, and returns what follows the
// program. A mention of the program anywhere else is an error: the check
// would otherwise pass over a call it cannot read.
func tcpconformArgs(words []string) (args []string, found bool, err error) {
	w := words
	for {
		for len(w) > 0 && assignment.MatchString(w[0]) {
			w = w[1:]
		}
		if len(w) == 0 {
			return nil, false, nil
		}
		switch w[0] {
		case "sudo":
			w = skipOpts(w[1:], sudoValueOpts)
			continue
		case "env":
			w = skipOpts(w[1:], envValueOpts)
			continue
		case "time", "exec", "nohup", "command":
			w = w[1:]
			continue
		case "timeout":
			w = skipOpts(w[1:], map[string]bool{"-s": true, "-k": true})
			if len(w) > 0 {
				w = w[1:] // the duration
			}
			continue
		}
		break
	}
	switch {
	case isTCPConform(w[0]):
		return w[1:], true, nil
	case w[0] == "go" && len(w) > 1 && w[1] == "run":
		rest := skipOpts(w[2:], goValueOpts)
		if len(rest) > 0 && isTCPConform(rest[0]) {
			return rest[1:], true, nil
		}
	case w[0] == "go":
		return nil, false, nil // go build, install, test, vet ...: no run of the program
	}
	for _, x := range words {
		if isTCPConform(x) {
			return nil, false, fmt.Errorf("cannot tell how %q runs tcpconform; call it as tcpconform, ./cmd/tcpconform via go run, or through sudo/env", strings.Join(words, " "))
		}
	}
	return nil, false, nil
}

// checkInvocation checks one call against the command's flags and returns
// the values it gives each flag.
func checkInvocation(tmpl *ciTemplate, inv invocation, root string, flags commandFlags) (map[string][]string, bool) {
	if len(inv.args) == 0 {
		tmpl.problem(inv.where, "tcpconform called without a command")
		return nil, false
	}
	cmd, rest := inv.args[0], inv.args[1:]
	spec, ok := flags.lookup(cmd)
	if !ok {
		tmpl.problem(inv.where, "tcpconform has no command %q (tcpconform %s -h does not exit 0)", cmd, cmd)
		return nil, false
	}
	values := map[string][]string{}
	var flagArgs, paths []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			paths = append(paths, rest[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			paths = append(paths, a)
			continue
		}
		if len(paths) > 0 {
			tmpl.problem(inv.where, "tcpconform %s: flag %s comes after the argument %q, so it is taken as a path, not a flag", cmd, a, paths[0])
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takesValue, known := spec[name]
		if !known {
			// Whether a value follows is unknown, so the rest is not read.
			tmpl.problem(inv.where, "tcpconform %s has no flag -%s (its flags: %s)", cmd, name, spec.names())
			return values, true
		}
		if takesValue && !hasValue {
			if i+1 == len(rest) {
				tmpl.problem(inv.where, "tcpconform %s: flag -%s needs a value", cmd, name)
				return values, true
			}
			i++
			value, hasValue = rest[i], true
		}
		// Written as -name=value, no flag can take the -h below as its
		// value, so the parse never goes on to run the command.
		if hasValue {
			flagArgs = append(flagArgs, "-"+name+"="+value)
		} else {
			flagArgs = append(flagArgs, "-"+name)
		}
		values[name] = append(values[name], value)
	}
	// The command's own FlagSet has the last word on the flags and their
	// values: parse them, then stop at -h before anything runs.
	var out, errb bytes.Buffer
	if code := Main(context.Background(), append(append([]string{cmd}, flagArgs...), "-h"), &out, &errb); code != 0 {
		tmpl.problem(inv.where, "tcpconform %s %s: the flags do not parse (exit %d): %s", cmd, strings.Join(flagArgs, " "), code, strings.TrimSpace(strings.SplitN(errb.String(), "\n", 2)[0]))
	}
	for _, p := range paths {
		if strings.ContainsAny(p, "$*?") {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			tmpl.problem(inv.where, "tcpconform %s: path %s is not in the repository", cmd, p)
		}
	}
	return values, true
}

func (s flagSpec) names() string {
	var names []string
	for n := range s {
		names = append(names, "-"+n)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// baselineTarget matches the header -write-baseline puts on a baseline.
var baselineTarget = regexp.MustCompile(`(?m)^# tcpconform baseline for target (\S+?):`)

// checkBaselineFile checks that a baseline a template reads is committed,
// and is for the target the call tests.
func checkBaselineFile(tmpl *ciTemplate, where, root, path, target string) {
	if strings.Contains(path, "$") || filepath.IsAbs(path) {
		tmpl.problem(where, "baseline %s: give a path in the repository, without variables, so it can be checked", path)
		return
	}
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		tmpl.problem(where, "baseline %s is neither in the repository nor written by the template: %v", path, err)
		return
	}
	if m := baselineTarget.FindSubmatch(data); m != nil && string(m[1]) != target {
		tmpl.problem(where, "baseline %s is for target %s, but the call tests %s", path, m[1], target)
	}
}

// ciTemplates lists the YAML files under ci/.
func ciTemplates(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(repoRoot, "ci"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yml" || ext == ".yaml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no YAML templates under ci/")
	}
	return files
}

func TestCITemplatesCallRealCommandsAndFlags(t *testing.T) {
	flags := commandFlags{}
	for _, path := range ciTemplates(t) {
		rel, _ := filepath.Rel(repoRoot, path)
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			tmpl := checkTemplate(rel, data, repoRoot, flags)
			for _, p := range tmpl.problems {
				t.Error(p)
			}
			if tmpl.scripts == 0 || len(tmpl.invocations) == 0 {
				t.Errorf("%s: %d run:/script: entries and %d tcpconform calls; a template should run tcpconform", rel, tmpl.scripts, len(tmpl.invocations))
			}
			for _, inv := range tmpl.invocations {
				t.Logf("%s: tcpconform %s", inv.where, strings.Join(inv.args, " "))
			}
		})
	}
}

// The checker itself must catch the mistakes it is there for; each entry
// is a template and a piece of every problem it must report (none: clean).
func TestCITemplateCheckerCatchesMistakes(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "ci/baselines"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"ci/baselines/netstack.txt": "# tcpconform baseline for target netstack: ...\n",
		"ci/baselines/linux.txt":    "# tcpconform baseline for target linux: ...\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"github clean", `
jobs:
  a:
    defaults:
      run:
        shell: bash
    steps:
      - run: >-
          sudo -E env PATH=$PATH go run ./cmd/tcpconform run -target linux -parallel 2
          -run '^T0[0-9]+ ' -junit "${{ runner.temp }}/junit.xml" -baseline ci/baselines/linux.txt 2>&1 | tee out.log
      - run: |
          go build -o tcpconform ./cmd/tcpconform
          ./tcpconform targets && ./tcpconform list -run=T031
`, nil},
		{"gitlab clean", `
.base: &base
  - tcpconform run -write-baseline out/new.txt
j:
  before_script: *base
  script:
    - tcpconform run -baseline out/new.txt
    - tcpconform lint ci
`, nil},
		{"unknown flag", "steps:\n  - run: go run ./cmd/tcpconform run -target netstack -no-such-flag x\n",
			[]string{"has no flag -no-such-flag"}},
		{"unknown command", "script: [tcpconform frobnicate -v]\n",
			[]string{`has no command "frobnicate"`}},
		{"no command", "script: [tcpconform]\n",
			[]string{"without a command"}},
		{"flag of another command", "script: [tcpconform targets -target linux]\n",
			[]string{"tcpconform targets has no flag -target"}},
		{"missing value", "script: [tcpconform run -junit]\n",
			[]string{"-junit needs a value"}},
		{"bad value", "script: [tcpconform run -parallel many]\n",
			[]string{"the flags do not parse"}},
		{"flag after path", "script: [tcpconform run ci -v]\n",
			[]string{"taken as a path"}},
		{"missing path", "script: [tcpconform lint no/such/dir]\n",
			[]string{"path no/such/dir is not in the repository"}},
		{"missing baseline", "script: [tcpconform run -baseline ci/baselines/other.txt]\n",
			[]string{"baseline ci/baselines/other.txt is neither in the repository"}},
		{"baseline of another target", "script: [tcpconform run -target netstack -baseline ci/baselines/linux.txt]\n",
			[]string{"is for target linux, but the call tests netstack"}},
		{"unreadable call", "script: [xargs -n1 tcpconform run]\n",
			[]string{"cannot tell how"}},
		{"not yaml", "script: [a\n", []string{"yaml"}},
	}
	// Checking must never run a command: anything it writes would land in
	// this empty working directory.
	cwd := t.TempDir()
	t.Chdir(cwd)
	defer func() {
		if left, _ := os.ReadDir(cwd); len(left) > 0 {
			t.Errorf("checking templates wrote %v: it ran a command", left)
		}
	}()
	flags := commandFlags{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := checkTemplate("t.yml", []byte(tt.yaml), root, flags)
			if len(tt.want) == 0 && len(tmpl.invocations) == 0 {
				t.Errorf("found no invocation")
			}
			if len(tmpl.problems) != len(tt.want) {
				t.Errorf("problems %q, want %d", tmpl.problems, len(tt.want))
			}
			for _, w := range tt.want {
				if !strings.Contains(strings.Join(tmpl.problems, "\n"), w) {
					t.Errorf("problems %q lack %q", tmpl.problems, w)
				}
			}
		})
	}
}

func TestShellWords(t *testing.T) {
	got := simpleCommands("A=1 sudo -E env PATH=$PATH go run ./cmd/tcpconform run \\\n  -run 'a b' -junit \"$(pwd)/x y.xml\" -json ${{ runner.temp }}/r.json > log 2>&1 # note\n" +
		"echo done; true && false | cat")
	want := [][]string{
		{"A=1", "sudo", "-E", "env", "PATH=$PATH", "go", "run", "./cmd/tcpconform", "run", "-run", "a b", "-junit", "$(pwd)/x y.xml", "-json", "${{ runner.temp }}/r.json"},
		{"echo", "done"}, {"true"}, {"false"}, {"cat"},
	}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}
