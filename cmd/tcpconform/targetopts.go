package main

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/suites"
	"github.com/tcpconform/tcpconform/targets"
	"github.com/tcpconform/tcpconform/targets/remote"
)

// targetOptionFlags are the flags that set up a target rather than the run:
// each becomes the targets.Options entry of its name, for the targets that
// take it (see targets.Configurable). Commands that pick a target register
// all of them.
var targetOptionFlags = []struct{ name, usage string }{
	{"iface", "remote target: the interface the device is reached through (never configured: the harness only opens an AF_PACKET socket on it)"},
	{"device", "remote target: ADDR:PORT of the device's `tcpconform agent -listen`"},
	{"token", "remote target: the device agent's token (default $" + remote.TokenEnv + ")"},
	{"device-ip4", "remote and agent targets: the IPv4 address of the stack under test (remote: the device's on the test link; agent: ADDR or ADDR/LEN, the length 24 unless given) (default 192.0.2.1)"},
	{"device-ip6", "remote and agent targets: the IPv6 address of the stack under test, or none (remote: the device's on the test link; agent: ADDR or ADDR/LEN, the length 64 unless given) (default 2001:db8::1)"},
	{"harness-ip4", "remote and agent targets: the IPv4 address the harness's peer sends from (remote: claims on the test link) (default 192.0.2.2)"},
	{"harness-ip6", "remote and agent targets: the IPv6 address the harness's peer sends from (remote: claims on the test link) (default 2001:db8::2)"},
	{"mac", "remote target: the harness's MAC address on the test link (default " + remote.DefaultMAC.String() + ")"},
	{"netns", "remote target: open the interface and the control connection inside this named network namespace (/run/netns/NAME)"},
	{"agent-cmd", "-target agent: the agent's command line, 'PROG ARGS', split as a shell would but run without one; {addr4} {prefix4} {peer4} {addr6} {prefix6} {peer6} {seed} are filled in (docs/bring-your-own-stack.md)"},
	{profileOption, "a profile file (YAML: variants, known deviations with their reasons and failures, timer granularity, latency, TIME-WAIT) to judge the target by instead of its built-in profile (docs/bring-your-own-stack.md)"},
}

// profileOption names the profile file. It is the run's, not the target's:
// any target takes it, and openTarget leaves it to loadProfile.
const profileOption = "profile"

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
	opts = maps.Clone(opts)
	delete(opts, profileOption)
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

// loadProfile returns the profile that the -profile file of opts gives
// tgt, or nil, when there is none, for its built-in profile. Its known
// deviations must name built-in cases or cases of this run. The file's
// mistakes come back as "file:line: message", others as "-profile: ...".
func loadProfile(tgt targets.Target, opts targets.Options, run []*injector.Case) (*expectations.Profile, error) {
	path := opts[profileOption]
	if path == "" {
		return nil, nil
	}
	isCase, err := caseIDs(run)
	if err != nil {
		return nil, err
	}
	p, err := expectations.LoadProfile(path, tgt.Name(), isCase)
	var located *expectations.ProfileError
	if err != nil && !errors.As(err, &located) {
		err = fmt.Errorf("-%s: %w", profileOption, err)
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// caseIDs returns whether a case ID is one of the built-in cases' or of
// the cases given.
func caseIDs(cases []*injector.Case) (func(id string) bool, error) {
	scripts, err := suites.BuiltinScriptCases(suites.ScriptOptions{})
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, c := range slices.Concat(suites.Cases(), scripts, cases) {
		ids[c.ID] = true
	}
	return func(id string) bool { return ids[id] }, nil
}
