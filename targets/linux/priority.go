package linux

import (
	"os"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// realTimeOnce raises the process to real-time scheduling once, when the
// first instance starts.
var realTimeOnce sync.Once

// minProcs is the least GOMAXPROCS the target runs with. A socket call that
// waits in the kernel (poll, a blocking connect) keeps its P, the runtime's
// right to run Go code, for up to 10 ms before the runtime takes it back.
// With one P per CPU on a 2-CPU machine, two such calls left the goroutine
// that reads the device without a P, and packets reached the script up to
// 16 ms after they left: a blocking connect then "returned late" in a
// quarter of the runs. The harness is I/O bound, so more Ps than CPUs costs
// nothing.
const minProcs = 16

// morePs raises GOMAXPROCS to minProcs.
func morePs() {
	if runtime.GOMAXPROCS(0) < minProcs {
		runtime.GOMAXPROCS(minProcs)
	}
}

// raisePriority puts every thread of the process under SCHED_RR at the
// lowest real-time priority, as packetdrill does for itself, when there is
// more than one CPU (with one, a real-time process could starve the rest of
// the machine). Threads made later inherit the policy from the thread that
// makes them. On a loaded machine the scheduler would otherwise keep the
// thread that reads the device, or the one that injects, waiting for a
// time slice of several milliseconds, and a script's timing would fail for
// the harness's sake, not the stack's. The kernel's real-time throttling
// (sched_rt_runtime_us) still leaves the rest of the machine its share.
// Without the privilege it is a no-op; the returned error says why.
func raisePriority() error {
	if runtime.NumCPU() < 2 {
		return nil
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	var first error
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		attr := &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_RR, Priority: 1}
		if err := unix.SchedSetAttr(tid, attr, 0); err != nil && first == nil {
			first = err
		}
	}
	return first
}
