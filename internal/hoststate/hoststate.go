// Package hoststate takes a snapshot of the host's network configuration
// (links, addresses, IPv4 sysctls), so tests can check that running the
// harness left the host exactly as it was.
package hoststate

import (
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strings"
)

// volatile matches the lines that change on their own: memory accounting
// sysctls and link statistics.
var volatile = regexp.MustCompile(`tcp_mem|udp_mem|\bmtu_expires\b`)

// Snapshot returns `ip -o link`, `ip -o addr` and `sysctl net.ipv4`,
// sorted, without what moves by itself.
func Snapshot() (string, error) {
	var b strings.Builder
	for _, args := range [][]string{{"ip", "-o", "link"}, {"ip", "-o", "addr"}, {"sysctl", "net.ipv4"}} {
		out, err := exec.Command(args[0], args[1:]...).Output()
		if err != nil {
			return "", fmt.Errorf("%s: %w", strings.Join(args, " "), err)
		}
		var keep []string
		for _, l := range strings.Split(string(out), "\n") {
			if !volatile.MatchString(l) {
				keep = append(keep, l)
			}
		}
		sort.Strings(keep)
		b.WriteString(strings.Join(keep, "\n"))
	}
	return b.String(), nil
}
