package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeScripts writes name → text files under a new temp dir.
func writeScripts(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	goodScript = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 close(3) = 0\n"
	badScript  = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+.1 < S 0:0(0)\n+0 frob(3) = 0\n"
)

func TestLint(t *testing.T) {
	dir := writeScripts(t, map[string]string{
		"a/good.pkt":   goodScript,
		"a/notes.txt":  "not a script",
		"b/bad.pkt":    badScript,
		"b/cookie.pkt": "0 < S 0:0(0) win 100 <FO COOKIE_HEX>\n",
		"c/ifdef.pkt":  "0 close(3) = 0\n#ifdef EXTRA\n+0 frob(3) = 0\n#endif\n",
	})
	portable := writeScripts(t, map[string]string{"port.pkt": "0 close(3) = -1 EBADF\n"})
	tests := []struct {
		name   string
		args   []string
		stdout string
		stderr string
		code   int
	}{
		{
			name:   "good file",
			args:   []string{filepath.Join(dir, "a", "good.pkt")},
			stdout: "1 ok, 0 bad\n",
		},
		{
			name: "directory",
			args: []string{dir},
			stdout: dir + "/b/bad.pkt:2:5: inbound TCP packet needs a window (\"win N\")\n" +
				dir + "/b/bad.pkt:3:4: unknown system call \"frob\"\n" +
				"3 ok, 1 bad\n",
			code: 2,
		},
		{
			name:   "define reaches #ifdef",
			args:   []string{"-D", "EXTRA=1", filepath.Join(dir, "c")},
			stdout: dir + "/c/ifdef.pkt:3:4: unknown system call \"frob\"\n0 ok, 1 bad\n",
			code:   2,
		},
		{
			name:   "define replaces a cookie",
			args:   []string{"-D", "COOKIE_HEX=zz", filepath.Join(dir, "b", "cookie.pkt")},
			stdout: dir + "/b/cookie.pkt:1:26: FO cookie \"zz\" is not hex\n0 ok, 1 bad\n",
			code:   2,
		},
		{
			name: "a warning leaves the script ok",
			args: []string{filepath.Join(portable, "port.pkt")},
			stdout: portable + "/port.pkt:1:17: warning: errno EBADF has no \"(note)\" after it, which packetdrill rejects\n" +
				"1 ok, 0 bad\n",
		},
		{
			name:   "missing path",
			args:   []string{filepath.Join(dir, "nope.pkt"), filepath.Join(dir, "a")},
			stdout: "1 ok, 1 bad\n",
			stderr: "tcpconform lint: stat " + dir + "/nope.pkt: no such file or directory\n",
			code:   2,
		},
		{
			name:   "no paths",
			args:   nil,
			stderr: lintUsage,
			code:   2,
		},
		{
			name:   "bad define",
			args:   []string{"-D", "NOVALUE", dir},
			stderr: "invalid value \"NOVALUE\" for flag -D: want SYM=value, got \"NOVALUE\"\n",
			code:   2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cmdLint(tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit status %d, want %d", code, tt.code)
			}
			if stdout.String() != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), tt.stdout)
			}
			// flag prints its usage after a bad flag; compare the first line.
			gotErr := stderr.String()
			if tt.name == "bad define" {
				gotErr, _, _ = strings.Cut(gotErr, "\n")
				gotErr += "\n"
			}
			if gotErr != tt.stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", gotErr, tt.stderr)
			}
		})
	}
}

func TestLintCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "packetdrill-tcp")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus not found at %s", dir)
	}
	var stdout, stderr bytes.Buffer
	code := cmdLint([]string{dir}, &stdout, &stderr)
	// google's own scripts parse under google's packetdrill: a portability
	// warning on one of them would be a false one.
	if code != 0 || stdout.String() != "162 ok, 0 bad\n" {
		t.Errorf("exit status %d, output:\n%s%s", code, stdout.String(), stderr.String())
	}
}
