package linux

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// Once an instance has started, the process runs with enough Ps for
// calls that wait in the kernel, and (with more than one CPU) every thread
// runs under SCHED_RR, as packetdrill's do.
func TestInstancesRaiseScheduling(t *testing.T) {
	newInstance(t)
	if n := runtime.GOMAXPROCS(0); n < minProcs {
		t.Errorf("GOMAXPROCS %d, want at least %d", n, minProcs)
	}
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: the process keeps normal scheduling")
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		stat, err := os.ReadFile("/proc/self/task/" + task.Name() + "/stat")
		if err != nil {
			continue // the thread ended
		}
		// The fields after the command's closing parenthesis; policy is
		// field 41 of stat(5), the 39th after it.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if policy := f[38]; policy != "2" {
			t.Errorf("thread %s: scheduling policy %s, want 2 (SCHED_RR)", task.Name(), policy)
		}
	}
}
