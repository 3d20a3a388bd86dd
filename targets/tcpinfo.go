package targets

import (
	"encoding/binary"
	"reflect"
	"strings"

	"golang.org/x/sys/unix"
)

// tcpInfoField is one integer field of Linux's struct tcp_info: its
// TCPInfo name ("tcpi_snd_cwnd") and where it lies.
type tcpInfoField struct {
	name         string
	offset, size int
}

// tcpInfoFields lists the integer fields of Linux's struct tcp_info, in
// order, as x/sys/unix lays it out.
func tcpInfoFields() []tcpInfoField {
	var fs []tcpInfoField
	t := reflect.TypeOf(unix.TCPInfo{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch f.Type.Kind() {
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if f.IsExported() {
				fs = append(fs, tcpInfoField{"tcpi_" + strings.ToLower(f.Name), int(f.Offset), int(f.Type.Size())})
			}
		}
	}
	return fs
}

// LinuxTCPInfo reads Linux's struct tcp_info as getsockopt(TCP_INFO) gave it
// on a little-endian machine, into the TCPInfo map ("tcpi_snd_cwnd"). An
// older kernel's struct is shorter: the fields past its end are left out,
// not read as zero.
func LinuxTCPInfo(b []byte) map[string]int64 {
	m := map[string]int64{}
	for _, f := range tcpInfoFields() {
		if f.offset+f.size > len(b) {
			continue
		}
		v := b[f.offset : f.offset+f.size]
		switch f.size {
		case 1:
			m[f.name] = int64(v[0])
		case 2:
			m[f.name] = int64(binary.LittleEndian.Uint16(v))
		case 4:
			m[f.name] = int64(binary.LittleEndian.Uint32(v))
		case 8:
			m[f.name] = int64(binary.LittleEndian.Uint64(v))
		}
	}
	return m
}

// EncodeLinuxTCPInfo is the inverse of LinuxTCPInfo: the struct up to the
// end of the last field m holds, little-endian, with the fields m lacks
// before it zero.
func EncodeLinuxTCPInfo(m map[string]int64) []byte {
	var b []byte
	for _, f := range tcpInfoFields() {
		v, has := m[f.name]
		if !has {
			continue
		}
		if len(b) < f.offset+f.size {
			b = append(b, make([]byte, f.offset+f.size-len(b))...)
		}
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], uint64(v))
		copy(b[f.offset:f.offset+f.size], w[:f.size])
	}
	return b
}
