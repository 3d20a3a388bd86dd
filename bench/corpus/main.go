// Command corpus times a packetdrill corpus run by packetdrill itself and by
// tcpconform, in one run on one machine, so the figures compare as ratios.
//
//	go run ./bench/corpus -packetdrill /path/to/packetdrill [-corpus DIR] [-ip ipv4] [-parallel 8]
//
// It runs every script of the corpus in the chosen run_all.py variant four
// ways, one after the other:
//
//   - packetdrill, serially, each script as run_all.py runs it (its options
//     and definitions for the variant, the script's folder as working
//     directory) inside a fresh network namespace of its own (unshare -n);
//   - tcpconform as a drop-in, the same way (tcpconform packetdrill);
//   - tcpconform run -like-run-all, serially;
//   - tcpconform run -like-run-all -parallel N.
//
// and prints each way's wall time, its passes, and its time as a ratio of
// packetdrill's. It needs root (namespaces, TUN devices); packetdrill is not
// part of this project and is built from its own source.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/tcpconform/tcpconform/injector"
	"github.com/tcpconform/tcpconform/suites"
)

func main() {
	pd := flag.String("packetdrill", os.Getenv("PACKETDRILL"), "packetdrill binary (also $PACKETDRILL)")
	corpus := flag.String("corpus", "../shared/corpus/packetdrill-tcp", "folder of .pkt scripts")
	ip := flag.String("ip", "ipv4", "run_all.py variant: ipv4, ipv6 or ipv4-mapped-ipv6")
	parallel := flag.Int("parallel", 8, "cases at once for the parallel tcpconform run")
	timeout := flag.Duration("timeout", 180*time.Second, "limit per script (run_all.py's)")
	flag.Parse()
	if err := run(*pd, *corpus, *ip, *parallel, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "corpus:", err)
		os.Exit(2)
	}
}

func run(pd, corpus, ip string, parallel int, timeout time.Duration) error {
	if pd == "" {
		return fmt.Errorf("-packetdrill: give the packetdrill binary to compare with")
	}
	pd, err := filepath.Abs(pd)
	if err != nil {
		return err
	}
	mode, err := injector.ParseIPMode(ip)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "tcpconform-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tc := filepath.Join(tmp, "tcpconform")
	if out, err := exec.Command("go", "build", "-o", tc, "./cmd/tcpconform").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	paths, err := suites.ScriptPaths([]string{corpus})
	if err != nil {
		return err
	}
	var scripts []string
	for _, p := range paths {
		for _, m := range suites.RunAllModes(p) {
			if m == mode {
				scripts = append(scripts, p)
			}
		}
	}
	args := suites.RunAllArgs(mode)

	type way struct {
		name   string
		wall   time.Duration
		passed int
	}
	var ways []way
	for _, w := range []struct{ name, bin string }{{"packetdrill", pd}, {"tcpconform packetdrill (drop-in)", tc}} {
		begin := time.Now()
		passed := 0
		for _, s := range scripts {
			if oneScript(w.bin, w.bin == tc, s, args, timeout) {
				passed++
			}
		}
		ways = append(ways, way{w.name + ", serial", time.Since(begin), passed})
	}
	for _, n := range []int{1, parallel} {
		begin := time.Now()
		cmd := exec.Command(tc, "run", "-target", "linux", "-like-run-all", "-ip", ip, "-parallel", strconv.Itoa(n), "-pcap-dir", filepath.Join(tmp, "pcap"), corpus)
		out, _ := cmd.Output()
		ways = append(ways, way{fmt.Sprintf("tcpconform run -parallel %d", n), time.Since(begin), countPasses(out)})
	}
	fmt.Printf("%d scripts of %s, variant %s\n\n| way | wall | passed | wall / packetdrill's |\n|---|---|---|---|\n", len(scripts), corpus, ip)
	for _, w := range ways {
		fmt.Printf("| %s | %.1f s | %d | %.2f |\n", w.name, w.wall.Seconds(), w.passed, w.wall.Seconds()/ways[0].wall.Seconds())
	}
	return nil
}

// oneScript runs a script as run_all.py does, in a network namespace of its
// own, and reports whether it passed.
func oneScript(bin string, dropIn bool, path string, args []string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	abs, _ := filepath.Abs(path)
	argv := []string{"-n", "sh", "-c", `ip link set lo up && exec "$@"`, "sh", bin}
	if dropIn {
		argv = append(argv, "packetdrill")
	}
	argv = append(argv, append(append([]string{}, args...), filepath.Base(abs))...)
	cmd := exec.CommandContext(ctx, "unshare", argv...)
	cmd.Dir = filepath.Dir(abs)
	return cmd.Run() == nil
}

var passedLine = regexp.MustCompile(`(?m)^(\d+) passed, `)

// countPasses reads run's last line.
func countPasses(out []byte) int {
	var n int
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := passedLine.FindSubmatch(sc.Bytes()); m != nil {
			n, _ = strconv.Atoi(string(m[1]))
		}
	}
	return n
}
