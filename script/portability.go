package script

import "fmt"

// Two packetdrill dialects exist: google's upstream tool and nplab's fork,
// which FreeBSD's TCP test suite is written for. tcpconform reads both, and
// is more lenient than either in a few places. The parser notes each
// construct that not every packetdrill accepts; once the whole script is
// read, portabilityWarnings decides which of them to report:
//
//   - a construct no packetdrill accepts always warns;
//   - a script with an nplab marker (syntax only nplab has and nobody
//     writes by accident, such as "/udp(...)" or "hlim") is an nplab
//     script: google-only syntax in it warns;
//   - any other script is a google script: nplab-only syntax in it that is
//     not a marker (an ICMP code only nplab's tables have) warns.

// syntaxKind says which packetdrill accepts a construct.
type syntaxKind uint8

const (
	everyDialect syntaxKind = iota // every packetdrill; never noted
	nplabMarker                    // only nplab, and it marks an nplab script
	nplabOnly                      // only nplab, but easy to write in a google script
	googleOnly                     // only google's packetdrill
	noDialect                      // neither: tcpconform is more lenient
)

// portNote is one construct that not every packetdrill accepts.
type portNote struct {
	Pos  Pos
	Kind syntaxKind
	What string // the construct, as a warning names it
}

// notePort records a construct for portabilityWarnings.
func (p *parser) notePort(pos Pos, kind syntaxKind, format string, args ...any) {
	p.port = append(p.port, portNote{Pos: pos, Kind: kind, What: fmt.Sprintf(format, args...)})
}

// portabilityWarnings turns the notes of one script into warnings.
func portabilityWarnings(notes []portNote) ErrorList {
	var marker *portNote
	for i := range notes {
		if notes[i].Kind == nplabMarker {
			marker = &notes[i]
			break
		}
	}
	var warns ErrorList
	for _, n := range notes {
		var msg string
		switch {
		case n.Kind == noDialect:
			msg = n.What + ", which packetdrill rejects"
		case n.Kind == nplabOnly && marker == nil:
			msg = n.What + " is nplab packetdrill syntax, which google's packetdrill rejects"
		case n.Kind == googleOnly && marker != nil:
			msg = fmt.Sprintf("%s is google packetdrill syntax, which nplab's packetdrill (needed for the %s at line %d) rejects",
				n.What, marker.What, marker.Pos.Line)
		default:
			continue
		}
		warns = append(warns, &Error{Pos: n.Pos, Msg: msg})
	}
	return sortErrors(warns)
}
