package agentsdk

import (
	"errors"
	"strings"
)

// MaxIDLen is the longest request id the protocol allows, in bytes.
const MaxIDLen = 63

// Request is one parsed request line: "<id> <verb> <arg>...".
type Request struct {
	ID   string
	Verb string
	Args []string
}

// String is the request as a line (without the newline).
func (r Request) String() string {
	return strings.Join(append([]string{r.ID, r.Verb}, r.Args...), " ")
}

// ErrMalformed is what ParseRequest returns for a line that has no verb or
// whose id is too long; such a line is answered "? err EINVAL".
var ErrMalformed = errors.New("malformed request")

// ParseRequest splits a request line into id, verb and arguments, at runs
// of spaces, tabs and line ends. A blank line gives a zero Request and no
// error: the protocol ignores it.
func ParseRequest(line string) (Request, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return Request{}, nil
	}
	if len(f) < 2 || len(f[0]) > MaxIDLen {
		return Request{}, ErrMalformed
	}
	return Request{ID: f[0], Verb: f[1], Args: f[2:]}, nil
}
