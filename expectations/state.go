package expectations

import (
	"fmt"

	"github.com/tcpconform/tcpconform/state"
)

// StateMatcher matches a connection's RFC 9293 state.
type StateMatcher struct {
	Want state.State
}

// BeInState matches a state.State equal to want. A target that cannot
// observe states reports state.Unknown, which matches nothing: specs that
// assert states declare that they need the capability, so they are skipped
// on such targets rather than failed.
func BeInState(want state.State) *StateMatcher { return &StateMatcher{Want: want} }

// Match implements types.GomegaMatcher.
func (m *StateMatcher) Match(actual any) (bool, error) {
	s, ok := actual.(state.State)
	if !ok {
		return false, fmt.Errorf("BeInState expects a state.State, got %T", actual)
	}
	return s == m.Want, nil
}

// FailureMessage implements types.GomegaMatcher.
func (m *StateMatcher) FailureMessage(actual any) string {
	return fmt.Sprintf("connection state does not match\n  expected  %v\n  actual    %v", m.Want, actual)
}

// NegatedFailureMessage implements types.GomegaMatcher.
func (m *StateMatcher) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("connection state should not be %v, and it is", m.Want)
}

func (m *StateMatcher) String() string { return "state " + m.Want.String() }
