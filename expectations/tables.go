package expectations

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
)

// The project's copies of the reference tables: the TCP state machine as
// RFC 9293 section 3.10 processes events (rows T001–T110), and RFC 9293's
// requirement labels (Appendix B). Suites label their specs with row ids and
// labels; `tcpconform coverage` and the tests read the tables from here.
var (
	//go:embed rfc/tcp-transitions.tsv
	transitionsTSV string
	//go:embed rfc/rfc9293-requirements.tsv
	requirementsTSV string
)

// Transition is one row of the transition table.
type Transition struct {
	ID string // "T043"
	// States are the states the row applies to (one or several that
	// behave alike).
	States     []string
	Event      string // "SEGMENT ARRIVES", "USER CLOSE", ...
	Condition  string
	Next       string // the next state, or "(unchanged)"
	Sent       string // segments sent, in RFC notation
	UserEffect string
	// Variant is the rule set the row belongs to: base (RFC 9293), rfc5961,
	// rfc793, rfc1337, rfc6191, impl, or an optional behaviour's label.
	Variant string
	Edge    bool // one of the arcs of RFC 793 Figure 6
	Notes   string
	Ref     string // "RFC9293 3.10.7.3 step 4; 3.5 Fig.6; RFC793 Fig.6"
}

// Sections returns the row's references as labels, "rfc9293:3.10.7.3":
// every numbered section, under the RFC it belongs to.
func (t Transition) Sections() []string {
	var out []string
	seen := map[string]bool{}
	doc := ""
	for _, item := range strings.Split(t.Ref, ";") {
		item = strings.TrimSpace(item)
		if m := rfcName.FindStringSubmatch(item); m != nil {
			doc = "rfc" + m[1]
			item = item[len(m[0]):]
		}
		if m := sectionNumber.FindStringSubmatch(strings.TrimSpace(item)); m != nil && doc != "" {
			if l := doc + ":" + m[1]; !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

var (
	rfcName = regexp.MustCompile(`^RFC\s*(\d+)`)
	// A section number opens an item ("3.10.7.3 step 4", "s.3 (F1)");
	// figures and pages ("Fig.6", "p.61") are not sections.
	sectionNumber = regexp.MustCompile(`^(?:s\.)?(\d+(?:\.\d+)*)\b`)
)

// Requirement is one RFC 9293 requirement label.
type Requirement struct {
	Label      string // "MUST-2"
	Section    string // "3.1"
	Paraphrase string
	// Observable says whether the requirement shows on the wire: "yes",
	// "partly" or "no".
	Observable string
	HowToTest  string
}

var (
	transitions  = mustParse(transitionsTSV, 11, parseTransition)
	requirements = mustParse(requirementsTSV, 5, parseRequirement)
)

// Transitions returns the rows T001–T110, in order.
func Transitions() []Transition { return append([]Transition(nil), transitions...) }

// TransitionByID returns the row with that id.
func TransitionByID(id string) (Transition, bool) {
	for _, t := range transitions {
		if t.ID == id {
			return t, true
		}
	}
	return Transition{}, false
}

// Requirements returns RFC 9293's requirement labels, in the table's order.
func Requirements() []Requirement { return append([]Requirement(nil), requirements...) }

func parseTransition(f []string) Transition {
	return Transition{
		ID: f[0], States: strings.Split(f[1], "|"), Event: f[2], Condition: f[3], Next: f[4],
		Sent: f[5], UserEffect: f[6], Variant: f[7], Edge: f[8] == "yes", Notes: f[9], Ref: f[10],
	}
}

func parseRequirement(f []string) Requirement {
	return Requirement{Label: f[0], Section: f[1], Paraphrase: f[2], Observable: f[3], HowToTest: f[4]}
}

// mustParse reads a tab-separated table with a header line; the tables are
// part of the build, so a malformed one is a programming error.
func mustParse[R any](text string, cols int, row func([]string) R) []R {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var out []R
	for i, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) != cols {
			panic(fmt.Sprintf("reference table line %d: %d columns, want %d", i+2, len(f), cols))
		}
		out = append(out, row(f))
	}
	return out
}
