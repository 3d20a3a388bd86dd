package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
)

// reportCases are a few built-in cases with every verdict but ERROR, plus
// the deliberately failing one and one that breaks the harness.
func reportCases(t *testing.T) []*injector.Case {
	return []*injector.Case{
		builtin(t, passiveOpen),
		builtin(t, "active close: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT for its full duration, CLOSED [IPv4]"),
		builtin(t, "T031 CLOSED: segments without ACK (SYN, SYN with data, FIN with data, bare data) draw <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> [IPv4]"),
		builtin(t, "T047 SYN-SENT: SYN,ACK,FIN: the FIN is acknowledged, CLOSE-WAIT [IPv4]"),
		builtin(t, "T037 LISTEN: SYN with a security/compartment mismatch [IPv4]"),
		wrongAck(),
		{Name: "report: a case that panics", Labels: []string{"T001"}, Family: injector.IPv4, Location: "cmd/tcpconform/report_test.go",
			Run: func(*injector.T) { panic("on purpose") }},
	}
}

// writeTestReport runs reportCases and writes their report to a temporary
// directory, which it returns.
func writeTestReport(t *testing.T) (string, []injector.Result) {
	results := runOnNetstack(t, injector.RunOptions{PcapDir: t.TempDir()}, reportCases(t)...)
	want := []injector.Outcome{injector.Passed, injector.Passed, injector.Passed, injector.Deviated, injector.Skipped, injector.Failed, injector.Errored}
	for i, r := range results {
		if r.Outcome != want[i] {
			t.Fatalf("%s: %v, want %v:\n%s", r.Case.FullName(), r.Outcome, want[i], r.Message)
		}
	}
	dir := t.TempDir()
	if err := writeHTMLReport(dir, "netstack", results); err != nil {
		t.Fatal(err)
	}
	return dir, results
}

// node is an element of a parsed XML document.
type node struct {
	name     string
	attr     map[string]string
	children []*node
	text     strings.Builder // all the text inside, children's included
}

// parseXML reads a whole document strictly: a page that is not well-formed
// fails here.
func parseXML(t *testing.T, path string) *node {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	root := &node{name: "#document"}
	stack := []*node{root}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed: %v", path, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attr: map[string]string{}}
			for _, a := range tok.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			for _, n := range stack {
				n.text.Write(tok)
			}
		}
	}
	return root
}

// all returns the elements under n (n included) that satisfy keep.
func (n *node) all(keep func(*node) bool) []*node {
	var out []*node
	if keep(n) {
		out = append(out, n)
	}
	for _, c := range n.children {
		out = append(out, c.all(keep)...)
	}
	return out
}

// byClass keeps elements whose class attribute is exactly class.
func byClass(name, class string) func(*node) bool {
	return func(n *node) bool { return n.name == name && n.attr["class"] == class }
}

func TestHTMLReport(t *testing.T) {
	dir, results := writeTestReport(t)
	doc := parseXML(t, filepath.Join(dir, "index.html"))
	text := doc.text.String()

	failing := results[5].Case.FullName()
	for _, want := range []string{
		"tcpconform run on netstack",
		"PASS 3", "FAIL 1", "XFAIL 1", "SKIP 1", "ERROR 1", "total 7",
		failing,
		"cmd/tcpconform/trace_test.go:",
		"  expected  flags S, ack IRS+2\n",
		"  actual    192.0.2.1.8080 > 192.0.2.2.40000: Flags [S.], seq ",
		"  fields    flags: want S got S.\n",
		"known deviation of netstack",
		"harness error: panic: on purpose",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q", want)
		}
	}

	// The failing case's section: its message with expected and actual
	// coloured apart, and its ladder open with the failure drawn in it.
	sections := doc.all(byClass("section", "case fail"))
	if len(sections) != 1 || !strings.Contains(sections[0].text.String(), failing) {
		t.Fatalf("%d failing sections", len(sections))
	}
	sec := sections[0]
	for class, want := range map[string]string{"exp": "  expected  flags S, ack IRS+2", "act": "  actual    192.0.2.1.8080 > "} {
		spans := sec.all(byClass("span", class))
		if len(spans) == 0 || !strings.HasPrefix(spans[0].text.String(), want) {
			t.Errorf("no span.%s starting %q in the failing section", class, want)
		}
	}
	svgs := sec.all(func(n *node) bool { return n.name == "svg" })
	if len(svgs) != 1 {
		t.Fatalf("%d diagrams in the failing section", len(svgs))
	}
	checkFailingLadder(t, svgs[0])
	// A diagram for each case that exchanged packets (all but the skipped
	// one and the one that panicked): the failure's in the page, the others
	// from their files.
	if n := len(doc.all(func(n *node) bool { return n.name == "svg" })); n != 1 {
		t.Errorf("%d diagrams in the page, want the failure's alone", n)
	}
	imgs := doc.all(func(n *node) bool { return n.name == "img" })
	for _, img := range imgs {
		if _, err := os.Stat(filepath.Join(dir, img.attr["src"])); err != nil {
			t.Errorf("diagram %v", err)
		}
	}
	if len(imgs) != len(results)-3 {
		t.Errorf("%d diagrams from files, want %d", len(imgs), len(results)-3)
	}

	checkCoverage(t, doc, results)
	checkSVGFiles(t, dir, len(results))
}

// checkFailingLadder looks in the failing case's diagram for its arrows,
// the target's states, the mismatching segment and the failure box.
func checkFailingLadder(t *testing.T, svg *node) {
	t.Helper()
	texts := map[string]bool{}
	for _, n := range svg.all(func(n *node) bool { return n.name == "text" }) {
		texts[n.text.String()] = true
	}
	for _, want := range []string{"SYN-SENT", "ESTABLISHED", "SYN-RECEIVED", "CLOSED", "expected  flags S, ack IRS+2"} {
		if !texts[want] {
			t.Errorf("the diagram has no text %q", want)
		}
	}
	var labels []string
	for s := range texts {
		if regexp.MustCompile(`^S\.? 0:0\(0\) `).MatchString(s) {
			labels = append(labels, s)
		}
	}
	if len(labels) != 2 {
		t.Errorf("SYN and SYN,ACK labels: %q", labels)
	}
	for _, class := range []string{"in", "bad", "failbox", "failline"} {
		if len(svg.all(func(n *node) bool { return n.attr["class"] == class })) == 0 {
			t.Errorf("the diagram has nothing of class %q", class)
		}
	}
}

// checkCoverage reads the two grids: a cell per transition and per
// requirement label, coloured by the worst verdict among the cases
// carrying it, with a link to each.
func checkCoverage(t *testing.T, doc *node, results []injector.Result) {
	t.Helper()
	cells := map[string]*node{}
	for _, n := range doc.all(func(n *node) bool { return strings.HasPrefix(n.attr["class"], "cell ") }) {
		cells[n.children[0].text.String()] = n
	}
	if want := len(expectations.Transitions()) + len(expectations.Requirements()); len(cells) != want {
		t.Errorf("%d coverage cells, want %d", len(cells), want)
	}
	for id, class := range map[string]string{
		"T036": "cell fail",  // the failing case, and passive open
		"T001": "cell error", // the panic, and passive open
		"T031": "cell pass",
		"T047": "cell xfail",
		"T037": "cell skip",
		"T110": "cell none",
	} {
		if c := cells[id]; c == nil || c.attr["class"] != class {
			t.Errorf("cell %s: %v, want class %q", id, c, class)
		}
	}
	marks := cells["T036"].all(func(n *node) bool { return n.name == "a" })
	if len(marks) != 2 || marks[1].attr["href"] != "#case-6" || marks[1].attr["class"] != "mark fail" {
		t.Errorf("T036 marks: %+v", marks)
	}
	if c := cells["MUST-2"]; c == nil || c.attr["class"] != "cell fail" {
		t.Errorf("requirement MUST-2: %v", c)
	}
}

// checkSVGFiles parses the standalone diagrams.
func checkSVGFiles(t *testing.T, dir string, n int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, ladderDir, "*.svg"))
	if err != nil || len(files) != n {
		t.Fatalf("%d SVG files (%v), want %d", len(files), err, n)
	}
	for _, f := range files {
		root := parseXML(t, f)
		if len(root.children) != 1 || root.children[0].name != "svg" {
			t.Errorf("%s: root is not an svg element", f)
		}
	}
}

// The page loads in a real browser without console errors, renders, and
// the failing case is in its DOM.
func TestHTMLReportInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if _, err := os.Stat("/usr/bin/chromium"); err != nil {
			t.Skip("chromium not installed: apt-get install chromium")
		}
		chromium = "/usr/bin/chromium"
	}
	dir, results := writeTestReport(t)
	page := "file://" + filepath.Join(dir, "index.html")
	tmp := t.TempDir()
	shot := filepath.Join(tmp, "report.png")

	_, stderr := runChromium(t, chromium, tmp, "--screenshot="+shot, "--window-size=1280,2000", page)
	for _, bad := range []string{"Uncaught", "ERROR:CONSOLE", ":CONSOLE(", "ERR_FILE_NOT_FOUND"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("chromium logged %q:\n%s", bad, stderr)
		}
	}
	t.Logf("screenshot: %s", shot)
	checkScreenshot(t, shot)
	if b, err := os.ReadFile(shot); err == nil {
		if err := os.WriteFile("/tmp/tcpconform-report.png", b, 0o644); err == nil {
			t.Logf("copied to /tmp/tcpconform-report.png")
		}
	}

	dom, _ := runChromium(t, chromium, tmp, "--dump-dom", page)
	for _, want := range []string{results[5].Case.FullName(), "expected  flags S, ack IRS+2", `class="act"`, "<svg"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM lacks %q", want)
		}
	}
}

// runChromium runs headless chromium on args and returns its stdout and
// stderr.
func runChromium(t *testing.T, chromium, profile string, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0", "--user-data-dir=" + filepath.Join(profile, "profile")}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String(), errb.String()
}

// checkScreenshot wants a PNG of the window's size with more in it than a
// blank page.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() < 1000 {
		t.Errorf("screenshot is %v", b)
	}
	if n := colours(img); n < 20 {
		t.Errorf("screenshot has %d colours: nearly blank", n)
	}
}

// colours counts the distinct colours of img, up to a thousand.
func colours(img image.Image) int {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(seen) < 1000; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			seen[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	return len(seen)
}
