package main

import (
	"fmt"
	"io"
	"os"

	"github.com/tcpconform/tcpconform/injector"
)

// progress keeps a live counter under the case lines while a run goes on,
// when the output is a terminal; elsewhere (a CI log, a file) the case
// lines alone say how far the run is.
type progress struct {
	w     io.Writer
	total int
	done  int
	tty   bool
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// show redraws the counter after one more case ended.
func (p *progress) show(counts map[injector.Outcome]int) {
	p.done++
	if !p.tty {
		return
	}
	fmt.Fprintf(p.w, "\r\033[K[%d/%d] %d passed, %d failed, %d skipped, %d known deviations, %d errors",
		p.done, p.total, counts[injector.Passed], counts[injector.Failed], counts[injector.Skipped],
		counts[injector.Deviated], counts[injector.Errored])
}

// clear erases the counter before a case line or the summary is printed.
func (p *progress) clear() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
