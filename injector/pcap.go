package injector

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Recorder keeps every packet of a run, in both directions, stamped with the
// instance clock, and writes them as a pcap file (LINKTYPE_RAW: bare IPv4 and
// IPv6 datagrams, nanosecond timestamps) that tcpdump and Wireshark read.
type Recorder struct {
	mu      sync.Mutex
	packets []recorded
}

type recorded struct {
	at      time.Time
	inbound bool // sent by the harness to the target
	data    []byte
}

// Add records one packet; inbound is true for what the harness injected.
func (r *Recorder) Add(at time.Time, inbound bool, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.packets = append(r.packets, recorded{at: at, inbound: inbound, data: append([]byte(nil), data...)})
}

// Packet is one recorded packet: when it passed, which way, its bytes.
type Packet struct {
	At      time.Time
	Inbound bool // sent by the harness to the target
	Data    []byte
}

// Packets returns the packets recorded so far, in order.
func (r *Recorder) Packets() []Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Packet, len(r.packets))
	for i, p := range r.packets {
		out[i] = Packet{At: p.at, Inbound: p.inbound, Data: p.data}
	}
	return out
}

// Len returns the number of packets recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.packets)
}

// Bytes returns the pcap file.
func (r *Recorder) Bytes() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeRaw); err != nil {
		return nil, err
	}
	for _, p := range r.packets {
		ci := gopacket.CaptureInfo{Timestamp: p.at, CaptureLength: len(p.data), Length: len(p.data)}
		if err := w.WritePacket(ci, p.data); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// WriteFile writes the pcap file to path, creating its directory.
func (r *Recorder) WriteFile(path string) error {
	b, err := r.Bytes()
	if err != nil {
		return fmt.Errorf("pcap %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
