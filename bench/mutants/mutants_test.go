package main

import (
	"bytes"
	"context"
	"path/filepath"
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

// TestMutants runs the benchmark: the built-in suite must kill its floor of
// the benchmark's own mutants.
func TestMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("the mutation benchmark builds tcpconform once per mutant; skipped with -short")
	}
	var out bytes.Buffer
	code := Main(context.Background(), nil, &out, &out)
	t.Log("\n" + out.String())
	if code != 0 {
		t.Errorf("exit status %d: the suite kills fewer mutants than its floor, or a mutant errored (above)", code)
	}
}
