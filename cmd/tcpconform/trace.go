package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tcpconform/tcpconform/injector"
)

// writeTrace writes the same ladder as text for a terminal: one line per packet, peer on the left, target on the right, arrows showing direction, time since start, the segment in short form (flags, relative seq/ack, len, options), and the target's TCP state where it was read (and the peer's state as inferred from what it sent and received), plus a line marking where and why the case failed.
func writeTrace(w io.Writer, r injector.Result) {
	l := buildLadder(r)
	g := traceGeometry(l)
	fmt.Fprintf(w, "%s: %v\n", caseTitle(r.Case), r.Outcome)
	if len(l.rows) == 0 {
		fmt.Fprintf(w, "%s (no packets)\n", strings.Repeat(" ", timeWidth))
	} else {
		fmt.Fprintln(w, g.line("time", "peer "+l.peerAddr, g.blank(), "target "+l.targetAddr))
		fmt.Fprintln(w, g.line("", l.peerStart, g.blank(), ""))
		for _, row := range l.rows {
			fmt.Fprintln(w, g.row(row))
		}
	}
	writeEnding(w, l.end)
}

// caseTitle names a case with its ID when it has one.
func caseTitle(c *injector.Case) string {
	if c == nil {
		return "(no case)"
	}
	if c.ID == "" {
		return c.FullName()
	}
	return fmt.Sprintf("%s (%s)", c.FullName(), c.ID)
}

// timeWidth is the width of the time column, "+12.345678".
const timeWidth = 10

// traceColumns are the widths of the peer's state column and of the
// arrows between the two lifelines.
type traceColumns struct{ state, arrow int }

// traceGeometry sizes the columns to the widest peer state and label, so
// the target's lifeline stays straight.
func traceGeometry(l ladder) traceColumns {
	g := traceColumns{state: len("peer " + l.peerAddr), arrow: 30}
	g.state = max(g.state, len(l.peerStart))
	for _, row := range l.rows {
		g.state = max(g.state, len(row.peerState))
		g.arrow = max(g.arrow, len(row.label)+6)
	}
	return g
}

// line lays out one line: time, the peer's column, what lies between the
// lifelines, the target's column.
func (g traceColumns) line(at, peer, between, target string) string {
	s := fmt.Sprintf("%*s %*s |%s| %s", timeWidth, at, g.state, peer, between, target)
	return strings.TrimRight(s, " ")
}

func (g traceColumns) blank() string { return strings.Repeat(" ", g.arrow) }

// row draws a packet as an arrow, or a state the target was read in.
func (g traceColumns) row(r rung) string {
	at := traceTime(r.at)
	if !r.packet {
		return g.line(at, "", g.blank(), r.targetState)
	}
	line := g.line(at, r.peerState, g.arrowOf(r), "")
	if r.mismatch {
		line += " <== the actual segment of the failure"
	}
	return line
}

// arrowOf draws "--label---->" or "<--label----"; ICMP and undecodable
// packets and bad checksums are drawn with "~".
func (g traceColumns) arrowOf(r rung) string {
	dash := "-"
	if r.odd {
		dash = "~"
	}
	body := dash + dash + r.label
	fill := strings.Repeat(dash, g.arrow-len(body)-1)
	if r.inbound {
		return body + fill + ">"
	}
	return "<" + body + fill
}

func traceTime(d time.Duration) string { return fmt.Sprintf("%+.6f", d.Seconds()) }

// writeEnding writes the last line: the verdict, when the case ended and
// why, then the message's details.
func writeEnding(w io.Writer, e ending) {
	at := "end"
	if e.known {
		at = traceTime(e.at)
	}
	mark := "=="
	if e.failed() {
		mark = "##"
	}
	line := fmt.Sprintf("%*s %s %v", timeWidth, at, mark, e.outcome)
	if e.failed() {
		line += " here"
	}
	if e.why != "" {
		line += ": " + e.why
	}
	fmt.Fprintln(w, line)
	for _, d := range e.details {
		fmt.Fprintf(w, "%*s %s\n", timeWidth+3, "", d)
	}
}
