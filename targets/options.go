package targets

import (
	"fmt"
	"sort"
	"strings"
)

// Options are a target's settings from the command line, by name: the
// program of an agent (-agent-cmd), the interface of a remote device
// (-iface), a profile file (-profile). An option left empty is absent.
type Options map[string]string

// Configurable is implemented by targets that take Options. Configure
// returns the target set up with opts; it refuses an option it does not
// know, or a value it cannot use, with an error that names the option.
type Configurable interface {
	Target
	Configure(opts Options) (Target, error)
}

// Open returns the target registered under name, set up with opts. A
// target that takes no options refuses any that are given; a Configurable
// one is configured even with none, so that it can say what it misses.
func Open(name string, opts Options) (Target, error) {
	t, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	given := opts.names()
	if c, ok := t.(Configurable); ok {
		return c.Configure(opts)
	}
	if len(given) > 0 {
		return nil, fmt.Errorf("target %s takes no options (given: -%s)", name, strings.Join(given, ", -"))
	}
	return t, nil
}

// names returns the names of the options that have a value, sorted.
func (o Options) names() []string {
	var out []string
	for k, v := range o {
		if v != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Unknown returns an error naming the first option with a value that is
// not among known, or nil; Configure implementations start with it.
func (o Options) Unknown(target string, known ...string) error {
	for _, k := range o.names() {
		if !contains(known, k) {
			return fmt.Errorf("target %s does not take -%s", target, k)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
