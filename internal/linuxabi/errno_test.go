package linuxabi

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The errno table agrees with the kernel's numbering as x/sys/unix has it:
// every name is unix's name of its number, or one of the two names of a
// number that has two.
func TestErrnoTableIsLinuxs(t *testing.T) {
	// Where unix prints another name of the same number.
	aliases := map[string]string{"EWOULDBLOCK": "EAGAIN", "EDEADLOCK": "EDEADLK", "EOPNOTSUPP": "ENOTSUP", "EUCLEAN": "EFSCORRUPTED"}
	if len(errnoTable) < 130 {
		t.Errorf("only %d errnos", len(errnoTable))
	}
	for _, e := range errnoTable {
		want := unix.ErrnoName(e.num)
		got := e.name
		if a, ok := aliases[got]; ok {
			got = a
		}
		if want != got && want != e.name {
			t.Errorf("%s = %d, but unix names %d %s", e.name, e.num, e.num, want)
		}
	}
	for name, want := range map[string]syscall.Errno{"EAGAIN": unix.EAGAIN, "EWOULDBLOCK": unix.EAGAIN, "ECONNREFUSED": unix.ECONNREFUSED, "E200": 200} {
		if got, ok := ParseErrno(name); !ok || got != want {
			t.Errorf("ParseErrno(%s) = %d %v, want %d", name, got, ok, want)
		}
	}
	for _, bad := range []string{"", "E", "EBOGUS", "E-1", "X12"} {
		if e, ok := ParseErrno(bad); ok {
			t.Errorf("ParseErrno(%q) = %d, want no errno", bad, e)
		}
	}
	if _, ok := ErrnoNamed("E200"); ok {
		t.Error("ErrnoNamed took a number")
	}
	if ErrnoName(unix.EAGAIN) != "EAGAIN" || ErrnoName(unix.EDEADLK) != "EDEADLK" || ErrnoName(250) != "E250" {
		t.Errorf("names: %s %s %s", ErrnoName(unix.EAGAIN), ErrnoName(unix.EDEADLK), ErrnoName(250))
	}
}
