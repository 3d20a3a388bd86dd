package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tcpconform/tcpconform/expectations"
	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/targets"
)

const packetdrillUsage = `usage: tcpconform packetdrill [packetdrill's options] script.pkt...
       (or the tcpconform binary under the name "packetdrill")

Runs each script as packetdrill does: its options are packetdrill's own
(--ip_version=..., --tolerance_usecs=..., -D SYM=value, -v, --dry_run, ...,
given as --name=value or --name value, before or after the scripts), and
options on the command line win over those in a script's header. The scripts
run one after the other on the linux target (a fresh network namespace with
a TUN device per script; needs root), and the first that does not pass ends
the run. docs/packetdrill-compat.md says what each option does here.

tcpconform's own options:
  --target=NAME   the target to run on (default: $TCPCONFORM_TARGET, else linux)
  --pcap_dir=DIR  write a pcap of a script that fails into DIR
  --timeout=DUR   wall-time limit per script (default 180s, run_all.py's)
  --confirm=false do not run a failing script once more (by default a script
                  that fails is run again and the second run's verdict counts:
                  on a real clock a loaded machine can make a packet late)

Exit status: 0 every script passed; 1 a script failed (nonconformance, or a
known deviation of the target); 2 a usage, script or harness error;
4 a script needs what the target cannot do (skipped, with the reason;
kselftest's code for a skip).
`

// Exit status of the drop-in for a script the target cannot run: the code
// kselftest runners read as "skip".
const exitSkip = 4

// pdTimeout is packetdrill's runner's limit per script (run_all.py).
const pdTimeout = 180 * time.Second

// pdCommandLine is packetdrill's command line as read here.
type pdCommandLine struct {
	options      []*script.Option // for the engine, in order
	defines      map[string]string
	scripts      []string
	verbose, dry bool
	target       string
	pcapDir      string
	timeout      time.Duration
	help         bool
	confirm      string             // "true" or "false"
	targetVals   map[string]*string // by target option name: see targetOptionFlags
}

// targetOpts returns the target options given on the command line.
func (c *pdCommandLine) targetOpts() targets.Options {
	opts := targets.Options{}
	for name, v := range c.targetVals {
		opts[name] = *v
	}
	return opts
}

// packetdrillOptions collects run's repeated -O NAME[=VALUE] flags: a
// packetdrill option for every script, as on packetdrill's command line.
type packetdrillOptions []*script.Option

func (p *packetdrillOptions) String() string {
	var s []string
	for _, o := range *p {
		s = append(s, o.Name+"="+o.Value)
	}
	return strings.Join(s, " ")
}

func (p *packetdrillOptions) Set(v string) error {
	name, value, hasValue := strings.Cut(strings.TrimPrefix(v, "--"), "=")
	if runnerOptions[name] {
		return fmt.Errorf("--%s is an option of the drop-in's command line, not of a script run", name)
	}
	o, err := script.NewOption(script.Pos{File: "-O " + v}, name, value, hasValue)
	if err != nil {
		return err
	}
	*p = append(*p, o)
	return nil
}

// runnerOptions are packetdrill options the command reads itself.
var runnerOptions = map[string]bool{"define": true, "verbose": true, "debug": true, "dry_run": true}

// parsePacketdrillArgs reads packetdrill's command line the way its
// getopt_long does: long options as --name=value or --name value (a unique
// prefix of a name will do), -v and -D SYM=value (also -DSYM=value and
// bundled, -vv), options anywhere among the scripts, "--" ending them.
func parsePacketdrillArgs(args []string) (*pdCommandLine, error) {
	c := &pdCommandLine{defines: map[string]string{}, target: envOr("TCPCONFORM_TARGET", "linux"), timeout: pdTimeout, confirm: "true"}
	pos := script.Pos{File: "command line"}
	own := map[string]*string{"target": &c.target, "pcap_dir": &c.pcapDir, "confirm": &c.confirm}
	c.targetVals = map[string]*string{}
	for _, o := range targetOptionFlags { // --agent_cmd for -agent-cmd, in packetdrill's spelling
		v := new(string)
		c.targetVals[o.name] = v
		own[strings.ReplaceAll(o.name, "-", "_")] = v
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			c.scripts = append(c.scripts, args[i+1:]...)
			return c, nil
		case a == "-h" || a == "--help" || a == "-help":
			c.help = true
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			full, err := pdOptionName(name, own)
			if err != nil {
				return nil, err
			}
			name = full
			_, takesValue := script.OptionTakesValue(name)
			if _, ok := own[name]; ok || name == "timeout" {
				takesValue = true
			}
			if takesValue && !hasValue {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("option --%s needs a value", name)
				}
				i++
				value, hasValue = args[i], true
			}
			if err := c.option(pos, name, value, hasValue, own); err != nil {
				return nil, err
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				switch a[j] {
				case 'v':
					c.verbose = true
				case 'D':
					def := a[j+1:]
					if def == "" {
						if i+1 >= len(args) {
							return nil, fmt.Errorf("option -D needs SYM=value")
						}
						i++
						def = args[i]
					}
					if err := c.define(def); err != nil {
						return nil, err
					}
					j = len(a)
				default:
					return nil, fmt.Errorf("unknown option -%c", a[j])
				}
			}
		default:
			c.scripts = append(c.scripts, a)
		}
	}
	return c, nil
}

// pdOptionName resolves a long option's name, or a unique prefix of one,
// among packetdrill's options and the command's own.
func pdOptionName(name string, own map[string]*string) (string, error) {
	names := append(script.OptionNames(), "timeout")
	for n := range own {
		names = append(names, n)
	}
	var found []string
	for _, n := range names {
		if n == name {
			return n, nil
		}
		if strings.HasPrefix(n, name) && name != "" {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("unknown option --%s", name)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("option --%s is ambiguous: %s", name, strings.Join(found, ", "))
}

func (c *pdCommandLine) define(def string) error {
	sym, value, ok := strings.Cut(def, "=")
	if !ok || sym == "" {
		return fmt.Errorf("bad definition %q: want SYM=value", def)
	}
	c.defines[sym] = value
	return nil
}

// option takes one long option: the command's own, a runner option, or one
// for the engine (checked as a script header's would be).
func (c *pdCommandLine) option(pos script.Pos, name, value string, hasValue bool, own map[string]*string) error {
	if p, ok := own[name]; ok {
		*p = value
		return nil
	}
	switch name {
	case "timeout":
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 {
			return fmt.Errorf("--timeout=%q: want a duration such as 180s", value)
		}
		c.timeout = d
		return nil
	case "define":
		return c.define(value)
	case "verbose", "debug":
		c.verbose = true
	case "dry_run":
		c.dry = true
	}
	o, err := script.NewOption(pos, name, value, hasValue)
	if err != nil {
		return err
	}
	if !runnerOptions[name] {
		c.options = append(c.options, o)
	}
	return nil
}

// cmdPacketdrill runs "tcpconform packetdrill", or the binary as
// "packetdrill".
func cmdPacketdrill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parsePacketdrillArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "packetdrill: %v\n\n%s", err, packetdrillUsage)
		return exitError
	}
	if c.confirm != "true" && c.confirm != "false" {
		fmt.Fprintf(stderr, "packetdrill: --confirm=%q: want true or false\n", c.confirm)
		return exitError
	}
	if c.help {
		fmt.Fprint(stdout, packetdrillUsage)
		return exitOK
	}
	if len(c.scripts) == 0 {
		fmt.Fprintf(stderr, "packetdrill: missing script path\n\n%s", packetdrillUsage)
		return exitError
	}
	var tgt targets.Target
	var profile *expectations.Profile
	if !c.dry {
		if tgt, err = openTarget(c.target, c.targetOpts()); err != nil {
			fmt.Fprintf(stderr, "packetdrill: target %s: %v\n", c.target, err)
			return exitError
		}
		var given []*injector.Case // for the profile, the scripts' IDs: their paths
		for _, path := range c.scripts {
			given = append(given, &injector.Case{ID: path})
		}
		if profile, err = loadProfile(tgt, c.targetOpts(), given); err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
	}
	for _, path := range c.scripts {
		f, err := script.ParseFile(path, script.ParseOptions{Defines: c.defines})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
		if c.dry {
			continue
		}
		cs, err := injector.ScriptCase(f, injector.ScriptOptions{CommandLine: c.options})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
		o := injector.RunOptions{Seed: 1, PcapDir: c.pcapDir, Timeout: c.timeout, Verbose: c.verbose, Profile: profile}
		res := injector.Run(ctx, tgt, cs, o)
		if res.Outcome == injector.Failed && c.confirm == "true" && ctx.Err() == nil {
			// As run -confirm: on a real clock a loaded machine can make a
			// packet late; a behaviour of the stack fails twice.
			first := res.Message
			if res = injector.Run(ctx, tgt, cs, o); res.Outcome == injector.Passed {
				fmt.Fprintf(stderr, "%s\n(failed the first time; passed when run again, which is the verdict)\n", first)
			}
		}
		if code := reportPacketdrill(res, tgt.Name(), stdout, stderr); code != exitOK {
			return code
		}
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "packetdrill: interrupted")
			return exitError
		}
	}
	return exitOK
}

// reportPacketdrill prints one script's result the way packetdrill does
// (nothing on a pass; the reason, starting file:line:, on stderr
// otherwise) and returns the exit status it calls for.
func reportPacketdrill(res injector.Result, target string, stdout, stderr io.Writer) int {
	if res.Log != "" {
		fmt.Fprint(stdout, res.Log)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "%s\n(non-fatal: the script went on)\n", w)
	}
	switch res.Outcome {
	case injector.Passed:
		return exitOK
	case injector.Failed:
		fmt.Fprintln(stderr, res.Message)
		return exitNonconformance
	case injector.Deviated:
		fmt.Fprintf(stderr, "%s\n(a known deviation of target %s)\n", res.Message, target)
		return exitNonconformance
	case injector.Skipped:
		fmt.Fprintf(stderr, "%s\n(skipped: target %s cannot run this script)\n", res.Message, target)
		return exitSkip
	}
	fmt.Fprintln(stderr, res.Message)
	return exitError
}

// invokedAsPacketdrill reports whether the binary was started under the
// name packetdrill (a link to it), so that runners that call packetdrill
// run it unchanged.
func invokedAsPacketdrill(argv0 string) bool {
	base := argv0[strings.LastIndexByte(argv0, '/')+1:]
	return base == "packetdrill"
}
