package script

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// corpusDir holds scripts other projects wrote, kept outside the repository.
var corpusDir = filepath.Join("..", "..", "shared", "corpus")

// corpusFiles returns the .pkt files under dir, or skips tb when there are
// none.
func corpusFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Ext(path) == ".pkt" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil || len(files) == 0 {
		tb.Skipf("corpus not found at %s", dir)
	}
	return files
}

func TestCorpus(t *testing.T) {
	for _, path := range corpusFiles(t, corpusDir) {
		f, err := ParseFile(path, ParseOptions{})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(f.Events) == 0 {
			t.Errorf("%s: no events", path)
		}
	}
}

func BenchmarkParseCorpus(b *testing.B) {
	files := corpusFiles(b, filepath.Join(corpusDir, "packetdrill-tcp"))
	srcs := make([][]byte, len(files))
	for i, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		srcs[i] = src
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for i, src := range srcs {
			if _, err := Parse(files[i], src, ParseOptions{}); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "scripts/s")
}
