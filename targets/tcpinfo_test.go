package targets

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Fields are read at the kernel's offsets; a short struct (an older kernel)
// leaves the later fields out.
func TestLinuxTCPInfo(t *testing.T) {
	ti := unix.TCPInfo{State: 1, Ca_state: 2, Rto: 200000, Snd_cwnd: 10, Bytes_acked: 1 << 40, Delivered: 7}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&ti)), unsafe.Sizeof(ti))
	m := LinuxTCPInfo(b)
	for k, want := range map[string]int64{"tcpi_state": 1, "tcpi_ca_state": 2, "tcpi_rto": 200000, "tcpi_snd_cwnd": 10, "tcpi_bytes_acked": 1 << 40, "tcpi_delivered": 7} {
		if m[k] != want {
			t.Errorf("%s = %d, want %d", k, m[k], want)
		}
	}
	short := LinuxTCPInfo(b[:unsafe.Offsetof(ti.Pacing_rate)])
	if _, ok := short["tcpi_pacing_rate"]; ok {
		t.Errorf("a struct cut before tcpi_pacing_rate reports it")
	}
	if short["tcpi_total_retrans"] != 0 || len(short) == 0 || short["tcpi_snd_cwnd"] != 10 {
		t.Errorf("short struct: %v", short)
	}
}

// Encoding the map gives back the kernel's bytes, as far as its last
// field.
func TestEncodeLinuxTCPInfo(t *testing.T) {
	ti := unix.TCPInfo{State: 1, Ca_state: 2, Rto: 200000, Snd_cwnd: 10, Bytes_acked: 1 << 40, Delivered: 7}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&ti)), unsafe.Sizeof(ti))
	got := EncodeLinuxTCPInfo(LinuxTCPInfo(b))
	if string(got) != string(b[:len(got)]) || len(got) < int(unsafe.Offsetof(ti.Delivered))+4 {
		t.Errorf("round trip: got %x\nwant %x", got, b)
	}
	if got := EncodeLinuxTCPInfo(map[string]int64{"tcpi_ca_state": 2}); len(got) != 2 || got[1] != 2 {
		t.Errorf("only tcpi_ca_state: %x, want 0002", got)
	}
}
