package main

import (
	"flag"

	"github.com/tcpconform/tcpconform/targets"
)

// targetOptionFlags are the flags that set up a target rather than the run:
// each becomes the targets.Options entry of its name, for the targets that
// take it (see targets.Configurable). Commands that pick a target register
// all of them.
var targetOptionFlags = []struct{ name, usage string }{}

// registerTargetOptions adds the target option flags to fs, collecting
// their values into opts.
func registerTargetOptions(fs *flag.FlagSet, opts targets.Options) {
	for _, o := range targetOptionFlags {
		fs.Func(o.name, o.usage, func(v string) error {
			opts[o.name] = v
			return nil
		})
	}
}

// openTarget returns the named target set up with opts, ready to run here.
func openTarget(name string, opts targets.Options) (targets.Target, error) {
	t, err := targets.Open(name, opts)
	if err != nil {
		return nil, err
	}
	if err := t.Available(); err != nil {
		return nil, &unavailableError{t.Name(), err}
	}
	return t, nil
}

// unavailableError says that a target cannot run on this machine.
type unavailableError struct {
	name string
	err  error
}

func (e *unavailableError) Error() string {
	return "target " + e.name + " cannot run here: " + e.err.Error()
}
func (e *unavailableError) Unwrap() error { return e.err }
