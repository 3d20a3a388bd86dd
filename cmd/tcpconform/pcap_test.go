package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// What the JSON report says of each case, as far as these tests need.
type pcapReportCase struct {
	Name    string `json:"name"`
	Outcome string `json:"outcome"`
	Pcap    string `json:"pcap"`
	Packets int    `json:"packets"`
}

func readReportCases(t *testing.T, path string) []pcapReportCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Cases []pcapReportCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rep.Cases
}

// capturedPacket is one packet of a pcap, decoded.
type capturedPacket struct {
	at       time.Time
	src, dst string // address.port
	tcp      *layers.TCP
}

// readPcap reads a pcap file with gopacket's reader, which checks its
// header, and decodes each packet as the raw IP datagram it should be.
func readPcap(t *testing.T, path string) []capturedPacket {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if r.LinkType() != layers.LinkTypeRaw {
		t.Errorf("%s: link type %v, want raw IP", path, r.LinkType())
	}
	var pkts []capturedPacket
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: packet %d: %v", path, len(pkts)+1, err)
		}
		if ci.CaptureLength != len(data) || ci.Length != len(data) {
			t.Errorf("%s: packet %d: capture length %d, length %d, %d bytes read", path, len(pkts)+1, ci.CaptureLength, ci.Length, len(data))
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Errorf("%s: packet %d does not decode: %v", path, len(pkts)+1, el.Error())
		}
		cp := capturedPacket{at: ci.Timestamp}
		var src, dst string
		if nl := p.NetworkLayer(); nl != nil {
			src, dst = nl.NetworkFlow().Src().String(), nl.NetworkFlow().Dst().String()
		}
		if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			cp.tcp = tcp
			cp.src, cp.dst = fmt.Sprintf("%s.%d", src, tcp.SrcPort), fmt.Sprintf("%s.%d", dst, tcp.DstPort)
		} else {
			cp.src, cp.dst = src, dst
		}
		pkts = append(pkts, cp)
	}
	return pkts
}

// checkExchange checks what every pcap must show of a case: packets, both
// ways between the same two endpoints, in time order.
func checkExchange(t *testing.T, name string, pkts []capturedPacket) {
	t.Helper()
	if len(pkts) == 0 {
		t.Errorf("%s: empty pcap", name)
		return
	}
	ways := map[[2]string]int{}
	for i, p := range pkts {
		ways[[2]string{p.src, p.dst}]++
		if i > 0 && p.at.Before(pkts[i-1].at) {
			t.Errorf("%s: packet %d at %v is before packet %d at %v", name, i+1, p.at, i, pkts[i-1].at)
		}
	}
	a, b := pkts[0].src, pkts[0].dst
	if ways[[2]string{a, b}] == 0 || ways[[2]string{b, a}] == 0 {
		t.Errorf("%s: want packets both ways between %s and %s, got %v", name, a, b, ways)
	}
}

// tsharkFrames counts the frames tshark reads from a pcap, and how many
// of them it decodes as TCP.
func tsharkFrames(t *testing.T, tshark, path string) (frames, tcp int) {
	t.Helper()
	cmd := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "frame.number", "-e", "tcp.srcport")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v\n%s", path, err, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		frames++
		if num, port, _ := strings.Cut(line, "\t"); num != fmt.Sprint(frames) {
			t.Errorf("tshark -r %s: frame %q in line %d", path, num, frames)
		} else if port != "" {
			tcp++
		}
	}
	return frames, tcp
}

// pcapAll runs tcpconform with -pcap all and a JSON report into temp
// dirs, and returns the exit status and the report's cases.
func pcapAll(t *testing.T, args ...string) (int, []pcapReportCase, string) {
	t.Helper()
	pcapDir := t.TempDir()
	report := filepath.Join(t.TempDir(), "report.json")
	args = append([]string{"run", "-target", "netstack", "-pcap-dir", pcapDir, "-pcap", "all", "-json", report}, args...)
	code, out, errs := runMain(args...)
	if code == exitError {
		t.Fatalf("%q: exit %d\n%s\n%s", args, code, out, errs)
	}
	return code, readReportCases(t, report), pcapDir
}

// With -pcap all every case that ran leaves a pcap, passing or not, and
// the pcap holds exactly the packets the case exchanged: as many as the
// report counts, both ways, in order; tshark reads the same.
func TestPcapAllHoldsEachCasesExchange(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		tshark = ""
	}
	// Two built-in cases per family: one passes, one is a known deviation
	// of netstack, a failure the profile expects.
	code, cases, pcapDir := pcapAll(t, "-run", `^(passive open: LISTEN to SYN-RECEIVED to ESTABLISHED|T066 SYN-RECEIVED: in-window SYN on a passive open)`)
	if code != exitOK {
		t.Errorf("exit %d, want 0", code)
	}
	outcomes := map[string]int{}
	for _, c := range cases {
		outcomes[c.Outcome]++
	}
	if len(cases) != 4 || outcomes["PASS"] != 2 || outcomes["XFAIL"] != 2 {
		t.Fatalf("cases %+v, want 2 PASS and 2 XFAIL", cases)
	}

	// A script whose RST the target sends with another ack than the script
	// says: a real failure, next to the script that passes. Each exchanges
	// one SYN in and one RST out.
	dir := writeScripts(t, map[string]string{
		"good.pkt":  fmt.Sprintf(rstScript, 1),
		"wrong.pkt": fmt.Sprintf(rstScript, 2),
	})
	code, scriptCases, scriptPcaps := pcapAll(t, "-ip", "4", dir)
	if code != exitNonconformance {
		t.Errorf("scripts: exit %d, want 1", code)
	}
	if len(scriptCases) != 2 {
		t.Fatalf("script cases %+v, want 2", scriptCases)
	}
	cases = append(cases, scriptCases...)

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Pcap == "" {
				t.Fatalf("%s (%s): no pcap in the report", c.Name, c.Outcome)
			}
			if d := filepath.Dir(c.Pcap); d != pcapDir && d != scriptPcaps {
				t.Errorf("pcap %s is outside -pcap-dir", c.Pcap)
			}
			pkts := readPcap(t, c.Pcap)
			if len(pkts) != c.Packets {
				t.Errorf("%d packets in %s, the report counts %d", len(pkts), c.Pcap, c.Packets)
			}
			checkExchange(t, c.Name, pkts)
			t.Logf("%s: %d packets", c.Outcome, len(pkts))
			if strings.HasPrefix(c.Name, dir) {
				if len(pkts) != 2 || pkts[0].tcp == nil || !pkts[0].tcp.SYN || pkts[1].tcp == nil || !pkts[1].tcp.RST ||
					pkts[0].src != pkts[1].dst {
					t.Errorf("want a SYN in and a RST out, got %+v", pkts)
				}
			}
			if tshark == "" {
				t.Skip("tshark not installed: apt-get install tshark")
			}
			frames, tcp := tsharkFrames(t, tshark, c.Pcap)
			if frames != len(pkts) || tcp != len(pkts) {
				t.Errorf("tshark reads %d frames, %d of them TCP; gopacket read %d packets", frames, tcp, len(pkts))
			}
			t.Logf("tshark reads %d frames", frames)
		})
	}
}

// Without -pcap all only the failing case gets a pcap.
func TestPcapFailedOnlyByDefault(t *testing.T) {
	dir := writeScripts(t, map[string]string{
		"good.pkt":  fmt.Sprintf(rstScript, 1),
		"wrong.pkt": fmt.Sprintf(rstScript, 2),
	})
	pcapDir := t.TempDir()
	report := filepath.Join(t.TempDir(), "report.json")
	code, out, errs := runMain("run", "-ip", "4", "-pcap-dir", pcapDir, "-json", report, dir)
	if code != exitNonconformance {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
	}
	for _, c := range readReportCases(t, report) {
		if got, want := c.Pcap != "", c.Outcome == "FAIL"; got != want {
			t.Errorf("%s (%s): pcap %q", c.Name, c.Outcome, c.Pcap)
		}
	}
	files, err := os.ReadDir(pcapDir)
	if err != nil || len(files) != 1 {
		t.Errorf("pcap dir holds %v (%v), want the one failing case's pcap", files, err)
	}
	if code, _, errs := runMain("run", "-pcap", "some", "-pcap-dir", pcapDir, dir); code != exitError || !strings.Contains(errs, "-pcap") {
		t.Errorf("-pcap some: exit %d, %q", code, errs)
	}
}
