package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpconform/tcpconform/internal/mutate"
)

// TestMutantsApply checks that every mutant of both sets still names one
// place in the pinned module: after a gVisor upgrade, the mutants that no
// longer apply are listed here, each at its line.
func TestMutantsApply(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	w, err := mutate.Open(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, set := range []string{"set", "holdout"} {
		ms, err := mutate.Load(filepath.Join(root, "bench", "mutants", set))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if err := w.Check(m); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestMutants runs the benchmark on both sets: the suite must kill its
// floor of the benchmark's own mutants, and all but one of the holdout's
// 30, which were written apart from the suite.
func TestMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("the mutation benchmark builds tcpconform once per mutant; skipped with -short")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readSources(t, root)
	for _, tc := range []struct{ set, floor string }{
		{"set", "95"},
		{"holdout", "96.6"},
	} {
		t.Run(tc.set, func(t *testing.T) {
			var out bytes.Buffer
			code := Main(context.Background(), []string{"-parallel", "2", "-floor", tc.floor, filepath.Join(root, "bench", "mutants", tc.set)}, &out, &out)
			t.Log("\n" + out.String())
			if code != 0 {
				t.Errorf("exit status %d: the suite kills less than %s%% of the mutants, or a mutant errored (above)", code, tc.floor)
			}
		})
	}
}

// readSources opens every source file of the module. The benchmark builds
// tcpconform from them in a child go command, which the test cache does
// not see; opening them here makes a change to any (a spec, a script, a
// mutant) run the benchmark again instead of reusing a cached verdict.
func readSources(t *testing.T, root string) {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "out") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".go", ".pkt", ".txtar", ".mod", ".sum", ".tsv", ".c", ".h":
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			return f.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
