package main

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
)

// writeHTMLReport writes a static HTML report of one run on target into dir (index.html plus whatever assets, e.g. one SVG per case, or inline SVG): a summary (counts per outcome), a per-case table with verdicts (PASS/FAIL/SKIP/XFAIL/ERROR) and messages, a ladder (sequence) diagram of each case's exchange, and the coverage map (for each transition id T001–T110 from expectations.Transitions(), and each requirement label from expectations.Requirements(), which cases in results carry that label in c.Labels and their verdicts — a compact grid is fine).
func writeHTMLReport(dir, target string, results []injector.Result) error {
	if err := os.MkdirAll(filepath.Join(dir, ladderDir), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	page := reportPage{Target: target, Total: len(results)}
	for i, r := range results {
		v, err := viewCase(dir, i, r)
		if err != nil {
			return err
		}
		page.Cases = append(page.Cases, v)
	}
	page.Counts = countOutcomes(page.Cases)
	page.Transitions, page.Requirements = coverageCells(page.Cases)
	page.TransitionsCovered, page.RequirementsCovered = covered(page.Transitions), covered(page.Requirements)
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, page); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "index.html"), b.Bytes(), 0o644)
}

// ladderDir holds one SVG file per case, next to index.html.
const ladderDir = "ladders"

// reportPage is what the template shows.
type reportPage struct {
	Target                                  string
	Total                                   int
	Counts                                  []outcomeCount
	Cases                                   []caseView
	Transitions, Requirements               []coverageCell
	TransitionsCovered, RequirementsCovered int
}

type outcomeCount struct {
	Verdict, Class string
	N              int
}

// caseView is one case as the page shows it.
type caseView struct {
	N                                                 int
	Anchor, Name, ID, Location, Labels, Elapsed, Pcap string
	Verdict, Class                                    string
	// Inline puts the diagram in the page, open, rather than loading its
	// file when asked: for failures and errors, to keep a page of many
	// passes light.
	Inline         bool
	Why            string
	Message        []messageLine
	Packets        int
	SVG            template.HTML
	SVGFile, Trace string
	result         injector.Result
}

// messageLine is one line of a message with the class that colours it.
type messageLine struct{ Class, Text string }

// outcomes lists the verdicts in the order the summary shows them.
var outcomes = []injector.Outcome{injector.Passed, injector.Failed, injector.Deviated, injector.Skipped, injector.Errored}

// verdictClass is the CSS class of an outcome: "pass", "xfail", ...
func verdictClass(o injector.Outcome) string { return strings.ToLower(o.String()) }

// viewCase prepares result i for the page and writes its ladder as an SVG
// file.
func viewCase(dir string, i int, r injector.Result) (caseView, error) {
	c := r.Case
	if c == nil {
		c = &injector.Case{Name: "(unnamed case)"}
		r.Case = c
	}
	l := buildLadder(r)
	svg := ladderSVG(l, caseTitle(c))
	file := filepath.Join(ladderDir, fmt.Sprintf("%03d-%.80s.svg", i+1, injector.Slug(c.FullName())))
	if err := os.WriteFile(filepath.Join(dir, file), []byte(svg), 0o644); err != nil {
		return caseView{}, fmt.Errorf("report: %w", err)
	}
	var trace strings.Builder
	writeTrace(&trace, r)
	return caseView{
		N: i + 1, Anchor: fmt.Sprintf("case-%d", i+1), Name: c.FullName(), ID: c.ID, Location: c.Location,
		Labels: strings.Join(c.Labels, " "), Elapsed: round(r.Elapsed).String(), Pcap: r.Pcap,
		Verdict: r.Outcome.String(), Class: verdictClass(r.Outcome),
		Inline: r.Outcome == injector.Failed || r.Outcome == injector.Errored,
		Why:    l.end.why, Message: messageLines(r.Message), Packets: len(r.Packets),
		SVG: template.HTML(svg), SVGFile: filepath.ToSlash(file), Trace: trace.String(), result: r,
	}, nil
}

// messageLines splits a message and colours its expected, actual and
// fields lines.
func messageLines(msg string) []messageLine {
	if msg == "" {
		return nil
	}
	lines := strings.Split(strings.TrimRight(msg, "\n"), "\n")
	classes := detailClasses(lines)
	out := make([]messageLine, len(lines))
	for i, l := range lines {
		out[i] = messageLine{Class: classes[i], Text: l}
	}
	return out
}

// detailClasses gives each line of a message the class of its kind:
// "exp", "act" or "fld"; a continuation line (deeper indented, no kind of
// its own) keeps the class of the line before.
func detailClasses(lines []string) []string {
	kinds := map[string]string{"expected": "exp", "actual": "act", "fields": "fld"}
	out := make([]string, len(lines))
	prev := ""
	for i, l := range lines {
		t := strings.TrimLeft(l, " ")
		switch {
		case t == "" || len(l)-len(t) < 2:
			prev = ""
		case len(l)-len(t) > 4:
			// a continuation: keep prev
		default:
			prev = kinds[detailKind(t)]
		}
		out[i] = prev
	}
	return out
}

func countOutcomes(cases []caseView) []outcomeCount {
	out := make([]outcomeCount, len(outcomes))
	for i, o := range outcomes {
		out[i] = outcomeCount{Verdict: o.String(), Class: verdictClass(o)}
		for _, c := range cases {
			if c.result.Outcome == o {
				out[i].N++
			}
		}
	}
	return out
}

// coverageCell is one transition or requirement label of the coverage
// grid, with a mark for each case that carries it.
type coverageCell struct {
	ID, Title, Class string
	Marks            []coverageMark
}

type coverageMark struct{ Anchor, Title, Class, Letter string }

// severity orders verdicts for a cell's colour: the worst one shows.
var severity = map[injector.Outcome]int{
	injector.Skipped: 1, injector.Passed: 2, injector.Deviated: 3, injector.Errored: 4, injector.Failed: 5,
}

// coverageCells maps the cases onto the transition table and the
// requirement labels.
func coverageCells(cases []caseView) (transitions, requirements []coverageCell) {
	for _, t := range expectations.Transitions() {
		title := fmt.Sprintf("%s %s %s: %s → %s [%s]", t.ID, strings.Join(t.States, "|"), t.Event, t.Condition, t.Next, t.Variant)
		transitions = append(transitions, coverageCell{ID: t.ID, Title: title})
	}
	for _, rq := range expectations.Requirements() {
		title := fmt.Sprintf("%s (section %s): %s", rq.Label, rq.Section, rq.Paraphrase)
		requirements = append(requirements, coverageCell{ID: rq.Label, Title: title})
	}
	markCells(transitions, cases)
	markCells(requirements, cases)
	return transitions, requirements
}

// markCells adds to each cell the cases labelled with its id and colours
// it by the worst of their verdicts.
func markCells(cells []coverageCell, cases []caseView) {
	for i := range cells {
		cell := &cells[i]
		worst := injector.Outcome(-1)
		for _, c := range cases {
			if !hasLabel(c.result.Case, cell.ID) {
				continue
			}
			o := c.result.Outcome
			cell.Marks = append(cell.Marks, coverageMark{
				Anchor: c.Anchor, Title: o.String() + " " + c.Name, Class: verdictClass(o), Letter: o.String()[:1],
			})
			if severity[o] > severity[worst] {
				worst = o
			}
		}
		cell.Class = "none"
		if worst >= 0 {
			cell.Class = verdictClass(worst)
		}
	}
}

func hasLabel(c *injector.Case, label string) bool {
	for _, l := range c.Labels {
		if l == label {
			return true
		}
	}
	return false
}

func covered(cells []coverageCell) int {
	n := 0
	for _, c := range cells {
		if len(c.Marks) > 0 {
			n++
		}
	}
	return n
}

// The geometry of a ladder diagram, in pixels. Text is 11 px monospace,
// about charW wide a character.
const (
	svgWidth   = 1160
	peerX      = 250
	targetX    = 900
	headerH    = 52
	packetH    = 34
	stateH     = 24
	lineH      = 15
	charW      = 6.7
	maxLabel   = 96  // characters of a label between the lifelines
	maxLineLen = 165 // characters of a detail line across the diagram
)

// svgStyle is shared by the inline diagrams and the SVG files. Its rules
// are scoped to the diagram (class ladder): inline, a style element applies
// to the whole page.
const svgStyle = `.ladder text{font:11px monospace;fill:#24292f;white-space:pre}
.ladder .head{font:bold 13px sans-serif}.ladder .time{fill:#6e7781}
.ladder .life{stroke:#8c959f;stroke-width:2}
.ladder .box{fill:#f6f8fa;stroke:#8c959f}
.ladder .in{stroke:#0969da;fill:#0969da}.ladder .out{stroke:#1a7f37;fill:#1a7f37}
.ladder .odd{stroke:#bc4c00;fill:#bc4c00;stroke-dasharray:5 3}
.ladder .bad{stroke:#cf222e;fill:#cf222e;stroke-width:2.5}
.ladder .peer{fill:#ddf4ff;stroke:#0969da}.ladder .target{fill:#dafbe1;stroke:#1a7f37}
.ladder .failbox{fill:#ffebe9;stroke:#cf222e}.ladder .failline{stroke:#cf222e;stroke-width:2;stroke-dasharray:6 3}
.ladder .why{font-weight:bold;fill:#cf222e}.ladder .ok{font-weight:bold;fill:#1a7f37}.ladder .skip{font-weight:bold;fill:#6e7781}
.ladder .exp{fill:#0550ae}.ladder .act{fill:#cf222e}.ladder .fld{fill:#953800}.ladder .note{fill:#cf222e}`

// svgDoc accumulates the elements of one diagram.
type svgDoc struct{ b strings.Builder }

func (d *svgDoc) add(format string, args ...any) { fmt.Fprintf(&d.b, format+"\n", args...) }

// text writes an escaped text element; a shortened text keeps the whole
// in a tooltip.
func (d *svgDoc) text(x, y float64, class, anchor, s string, limit int) {
	tip := ""
	if r := []rune(s); limit > 0 && len(r) > limit {
		tip = "<title>" + html.EscapeString(s) + "</title>"
		s = string(r[:limit-1]) + "…"
	}
	d.add(`<text x="%.1f" y="%.1f" class="%s" text-anchor="%s">%s%s</text>`, x, y, class, anchor, tip, html.EscapeString(s))
}

// pill writes a state in a rounded box beside a lifeline: to its left
// (the peer's) or its right (the target's).
func (d *svgDoc) pill(x, y float64, s, class string, left bool) {
	w := float64(len(s))*charW + 14
	if left {
		x -= w + 10
	} else {
		x += 10
	}
	d.add(`<rect x="%.1f" y="%.1f" width="%.1f" height="18" rx="9" class="%s"/>`, x, y-13, w, class)
	d.text(x+w/2, y, "", "middle", s, 0)
}

// arrow draws a sloped line from (x1, y1) to (x2, y2) with its head.
func (d *svgDoc) arrow(x1, y1, x2, y2 float64, class string) {
	d.add(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="%s"/>`, x1, y1, x2, y2, class)
	dx, dy := x2-x1, y2-y1
	n := math.Hypot(dx, dy)
	ux, uy := dx/n, dy/n
	bx, by := x2-10*ux, y2-10*uy
	d.add(`<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f" class="%s" style="stroke-dasharray:none"/>`,
		x2, y2, bx-4*uy, by+4*ux, bx+4*uy, by-4*ux, class)
}

// ladderSVG draws l as a standalone SVG document (which also works inline
// in HTML): the two lifelines, one arrow per packet, the states beside the
// lifelines, and how the case ended.
func ladderSVG(l ladder, title string) string {
	var body svgDoc
	y := float64(headerH + 22)
	if len(l.rows) > 0 {
		body.pill(peerX, y, l.peerStart, "peer", true)
		y += stateH
	}
	for _, r := range l.rows {
		y = drawRung(&body, r, y)
	}
	height := drawEnding(&body, l.end, y) + 12

	var d svgDoc
	d.add(`<svg xmlns="http://www.w3.org/2000/svg" class="ladder" width="%d" height="%.0f" viewBox="0 0 %d %.0f">`,
		svgWidth, height, svgWidth, height)
	d.add(`<title>%s</title>`, html.EscapeString(title))
	d.add(`<style>%s</style>`, svgStyle)
	for _, end := range []struct {
		x    float64
		name string
	}{{peerX, "peer " + l.peerAddr + " (tcpconform)"}, {targetX, "target " + l.targetAddr}} {
		d.add(`<rect x="%.1f" y="8" width="260" height="28" rx="4" class="box"/>`, end.x-130)
		d.text(end.x, 27, "head", "middle", end.name, 36)
		d.add(`<line x1="%.1f" y1="36" x2="%.1f" y2="%.1f" class="life"/>`, end.x, end.x, y)
	}
	d.b.WriteString(body.b.String())
	d.add(`</svg>`)
	return d.b.String()
}

// drawRung draws one row at y and returns where the next begins.
func drawRung(d *svgDoc, r rung, y float64) float64 {
	if !r.packet {
		d.text(8, y, "time", "start", traceTime(r.at), 0)
		d.pill(targetX, y, r.targetState, "target", false)
		return y + stateH
	}
	d.text(8, y+14, "time", "start", traceTime(r.at), 0)
	x1, x2 := float64(peerX), float64(targetX)
	if !r.inbound {
		x1, x2 = x2, x1
	}
	class := map[bool]string{true: "in", false: "out"}[r.inbound]
	switch {
	case r.mismatch:
		class = "bad"
		d.text(targetX+12, y+18, "note", "start", "◀ the actual segment of the failure", 0)
	case r.odd:
		class = "odd"
	}
	d.text((peerX+targetX)/2, y+4, "", "middle", r.label, maxLabel)
	d.arrow(x1, y+8, x2, y+18, class)
	if r.peerState != "" {
		d.pill(peerX, y+18, r.peerState, "peer", true)
	}
	return y + packetH
}

// drawEnding draws the verdict at y: for a failure, a red line across
// both lifelines and a box with the headline and the details, expected and
// actual coloured apart. It returns the bottom of what it drew.
func drawEnding(d *svgDoc, e ending, y float64) float64 {
	at := "the end"
	if e.known {
		at = traceTime(e.at) + " s"
	}
	if !e.failed() {
		line := fmt.Sprintf("✓ %v at %s", e.outcome, at)
		class := "ok"
		if e.outcome == injector.Skipped {
			line, class = fmt.Sprintf("SKIP: %s", e.why), "skip"
		}
		d.text(8, y+10, class, "start", line, maxLineLen)
		return y + 16
	}
	lines, classes := wrapDetails(e.details)
	d.add(`<line x1="4" y1="%.1f" x2="%d" y2="%.1f" class="failline"/>`, y, svgWidth-4, y)
	d.add(`<rect x="4" y="%.1f" width="%d" height="%d" rx="4" class="failbox"/>`, y+6, svgWidth-8, 26+lineH*len(lines))
	d.text(12, y+24, "why", "start", fmt.Sprintf("✗ %v at %s: %s", e.outcome, at, e.why), maxLineLen)
	for i, l := range lines {
		d.text(12, y+24+float64(lineH*(i+1)), classes[i], "start", l, 0)
	}
	return y + 32 + float64(lineH*len(lines))
}

// wrapDetails cuts long detail lines to fit the diagram, each piece
// keeping its line's class.
func wrapDetails(details []string) ([]string, []string) {
	classes := detailClasses(indentAll(details))
	var lines, cls []string
	for i, d := range details {
		for j, piece := range wrap(d, maxLineLen) {
			if j > 0 {
				piece = strings.Repeat(" ", 10) + piece
			}
			lines, cls = append(lines, piece), append(cls, classes[i])
		}
	}
	return lines, cls
}

// wrap cuts s into pieces of at most n characters, after a space where
// there is one in the second half of a piece.
func wrap(s string, n int) []string {
	r := []rune(s)
	var out []string
	for len(r) > n {
		cut := n
		for i := n - 1; i >= n/2; i-- {
			if r[i] == ' ' {
				cut = i + 1
				break
			}
		}
		out = append(out, string(r[:cut]))
		r = r[cut:]
	}
	return append(out, string(r))
}

// indentAll puts back the indent splitMessage took off, for detailClasses.
func indentAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "  " + l
	}
	return out
}

// reportTemplate is the page. It is written as well-formed XML too (void
// elements closed, attributes with values), so tools can read it as XHTML.
var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>tcpconform run on {{.Target}}</title>
<style>
body{font:14px sans-serif;margin:16px 24px;color:#24292f}
h1{font-size:22px;margin:0 0 8px}
h2{font-size:18px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}
nav a{margin-right:14px}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.labels{font-size:11px;color:#57606a;max-width:260px}
pre{font:12px monospace;margin:4px 0;white-space:pre-wrap}
pre.message{background:#f6f8fa;padding:6px;border-left:4px solid #d0d7de}
pre.trace{background:#f6f8fa;padding:6px;white-space:pre;overflow-x:auto}
.badge{display:inline-block;min-width:44px;text-align:center;border-radius:4px;padding:1px 4px;font:bold 12px monospace;color:#fff}
.badge.pass{background:#1a7f37}.badge.fail{background:#cf222e}.badge.xfail{background:#9a6700}
.badge.skip{background:#6e7781}.badge.error{background:#8250df}
.counts span{margin-right:16px;font-size:16px}
.case{margin:18px 0;padding:8px 12px;border:1px solid #d0d7de;border-radius:6px}
.case.fail,.case.error{border-color:#cf222e;background:#fffafa}
.case h3{font-size:15px;margin:0 0 4px}
.meta{color:#57606a;font-size:12px;margin:0 0 6px}
.exp{color:#0550ae}.act{color:#cf222e;font-weight:bold}.fld{color:#953800}
.ladder{max-width:100%;height:auto;display:block}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(92px,1fr));gap:3px}
.cell{border:1px solid #d0d7de;border-radius:3px;padding:2px 3px;font-size:11px;min-height:30px}
.cell .id{display:block;font:bold 11px monospace}
.cell.none{background:#f6f8fa;color:#8c959f}.cell.pass{background:#dafbe1}.cell.fail{background:#ffebe9}
.cell.xfail{background:#fff8c5}.cell.skip{background:#eaeef2}.cell.error{background:#fbefff}
.mark{display:inline-block;width:12px;height:12px;margin:1px;font:bold 9px/12px monospace;text-align:center;color:#fff;text-decoration:none;border-radius:2px}
.mark.pass{background:#1a7f37}.mark.fail{background:#cf222e}.mark.xfail{background:#9a6700}
.mark.skip{background:#6e7781}.mark.error{background:#8250df}
</style>
</head>
<body>
<h1>tcpconform run on {{.Target}}</h1>
<nav><a href="#cases">Cases</a><a href="#ladders">Ladders</a><a href="#coverage">Coverage</a></nav>
<h2 id="summary">Summary</h2>
<p class="counts">{{range .Counts}}<span><span class="badge {{.Class}}">{{.Verdict}}</span> {{.N}}</span>{{end}}<span>total {{.Total}}</span></p>

<h2 id="cases">Cases</h2>
<table>
<thead><tr><th>#</th><th>Verdict</th><th>Case</th><th>ID</th><th>Labels</th><th>Time</th><th>Message</th></tr></thead>
<tbody>
{{range .Cases}}<tr class="{{.Class}}">
<td>{{.N}}</td><td><span class="badge {{.Class}}">{{.Verdict}}</span></td>
<td><a href="#{{.Anchor}}">{{.Name}}</a></td><td>{{.ID}}</td><td class="labels">{{.Labels}}</td><td>{{.Elapsed}}</td>
<td>{{if .Message}}<details><summary>{{.Why}}</summary><pre class="message">{{template "message" .Message}}</pre></details>{{end}}</td>
</tr>
{{end}}</tbody>
</table>

<h2 id="ladders">Ladders</h2>
<p class="meta">Peer (the harness) on the left, target on the right; sequence numbers relative to each side's first, as tcpdump prints them.
Target states are those the case read; the peer's are inferred from what it sent and received. Reads at the same instant as packets
are placed where the packets explain them.</p>
{{range .Cases}}<section class="case {{.Class}}" id="{{.Anchor}}">
<h3><span class="badge {{.Class}}">{{.Verdict}}</span> {{.Name}}</h3>
<p class="meta">{{if .ID}}ID {{.ID}} · {{end}}{{.Location}} · {{.Elapsed}} · {{.Packets}} packets{{if .Labels}} · {{.Labels}}{{end}}{{if .Pcap}} · pcap {{.Pcap}}{{end}} · <a href="{{.SVGFile}}">SVG</a></p>
{{if .Message}}<pre class="message">{{template "message" .Message}}</pre>{{end}}
{{if .Packets}}<details{{if .Inline}} open="open"{{end}}><summary>ladder diagram</summary>
{{if .Inline}}{{.SVG}}{{else}}<img class="ladder" src="{{.SVGFile}}" loading="lazy" alt="ladder diagram of {{.Name}}"/>{{end}}
</details>{{else}}<p class="meta">No packets were exchanged.</p>{{end}}
<details><summary>text trace</summary><pre class="trace">{{.Trace}}</pre></details>
</section>
{{end}}

<h2 id="coverage">Coverage</h2>
<p>Transitions (RFC 9293 section 3.10) with a case in this run: {{.TransitionsCovered}}/{{len .Transitions}};
requirement labels: {{.RequirementsCovered}}/{{len .Requirements}}. Each mark is a case carrying the label, coloured by its verdict;
a cell takes the colour of its worst verdict.</p>
<p class="counts">{{range .Counts}}<span><span class="mark {{.Class}}">{{slice .Verdict 0 1}}</span> {{.Verdict}}</span>{{end}}</p>
<h3>Transitions</h3>
<div class="grid">
{{range .Transitions}}{{template "cell" .}}{{end}}</div>
<h3>Requirements</h3>
<div class="grid">
{{range .Requirements}}{{template "cell" .}}{{end}}</div>
</body>
</html>
{{define "message"}}{{range .}}<span class="{{.Class}}">{{.Text}}</span>
{{end}}{{end}}
{{define "cell"}}<div class="cell {{.Class}}" title="{{.Title}}"><span class="id">{{.ID}}</span>{{range .Marks}}<a class="mark {{.Class}}" href="#{{.Anchor}}" title="{{.Title}}">{{.Letter}}</a>{{end}}</div>
{{end}}`))
