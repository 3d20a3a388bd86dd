package targets

import (
	"encoding/binary"
	"reflect"
	"strings"

	"golang.org/x/sys/unix"
)

// LinuxTCPInfo reads Linux's struct tcp_info as getsockopt(TCP_INFO) gave it
// on a little-endian machine, into the TCPInfo map ("tcpi_snd_cwnd"). An
// older kernel's struct is shorter: the fields past its end are left out,
// not read as zero.
func LinuxTCPInfo(b []byte) map[string]int64 {
	m := map[string]int64{}
	t := reflect.TypeOf(unix.TCPInfo{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		end := f.Offset + f.Type.Size()
		if !f.IsExported() || end > uintptr(len(b)) {
			continue
		}
		v := b[f.Offset:end]
		var n int64
		switch f.Type.Kind() {
		case reflect.Uint8:
			n = int64(v[0])
		case reflect.Uint16:
			n = int64(binary.LittleEndian.Uint16(v))
		case reflect.Uint32:
			n = int64(binary.LittleEndian.Uint32(v))
		case reflect.Uint64:
			n = int64(binary.LittleEndian.Uint64(v))
		default:
			continue
		}
		m["tcpi_"+strings.ToLower(f.Name)] = n
	}
	return m
}
