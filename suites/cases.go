// Package suites holds the built-in conformance cases: one file per
// behaviour, each case labelled with the RFC 9293 transitions (T001–T110 of
// the project's transition table), RFC sections and states it covers.
//
// The cases are written against the engine (injector and expectations) and
// do not depend on Ginkgo: `tcpconform run` runs them directly, and the
// package's Ginkgo suite turns each into a spec.
package suites

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/tcpconform/tcpconform/injector"
)

var registered []*injector.Case

// behaviour declares one case, run once over IPv4 and once over IPv6.
func behaviour(name string, labels []string, needs injector.Needs, run func(t *injector.T)) bool {
	_, file, line, _ := runtime.Caller(1)
	return declareBehaviour("", fmt.Sprintf("suites/%s:%d", filepath.Base(file), line), name, labels, needs, run)
}

// behaviourWithID is behaviour for a case that a target's profile may have
// to declare a known deviation: profiles name cases by ID, and this one's
// is its file, "suites/data_transfer.go", as a script's is its path.
func behaviourWithID(name string, labels []string, needs injector.Needs, run func(t *injector.T)) bool {
	_, file, line, _ := runtime.Caller(1)
	id := "suites/" + filepath.Base(file)
	return declareBehaviour(id, fmt.Sprintf("%s:%d", id, line), name, labels, needs, run)
}

func declareBehaviour(id, loc, name string, labels []string, needs injector.Needs, run func(t *injector.T)) bool {
	for _, f := range []injector.Family{injector.IPv4, injector.IPv6} {
		ls := append(append([]string(nil), labels...), fmt.Sprintf("ipv%d", int(f)))
		registered = append(registered, &injector.Case{
			Name: name, ID: id, Labels: ls, Family: f, Needs: needs, Run: run, Location: loc,
		})
	}
	return true
}

// Cases returns the built-in cases, ordered by where they are declared.
func Cases() []*injector.Case {
	out := append([]*injector.Case(nil), registered...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Location < out[j].Location })
	return out
}
