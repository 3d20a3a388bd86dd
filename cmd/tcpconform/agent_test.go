package main

import (
	"context"
	"strings"
	"testing"
)

// The agent refuses to serve where it must not: on a wildcard address, off
// loopback without a token, or on two transports at once.
func TestAgentRefusals(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"-listen", "0.0.0.0:7000", "-token", "s3cret"}, "wildcard"},
		{[]string{"-listen", "192.0.2.1:7000", "-token", ""}, "token is needed"},
		{[]string{"-listen", "127.0.0.1:7000", "-serial", "/dev/null"}, "usage"},
		{[]string{"extra"}, "usage"},
	} {
		var out, errs strings.Builder
		code := cmdAgent(context.Background(), c.args, &out, &errs)
		if code != exitError || !strings.Contains(errs.String(), c.says) {
			t.Errorf("agent %q: exit %d, stderr %q; want %d and %q", c.args, code, errs.String(), exitError, c.says)
		}
	}
}
