package injector

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/targets"
)

// getsockoptBytes handles getsockopt with a string value, such as
// getsockopt(3, SOL_TCP, TCP_CONGESTION, "cubic", [5]): as in packetdrill,
// the option's length must be the script's, and its bytes the string.
func (r *scriptRun) getsockoptBytes(sc *script.Syscall, fd int, level, name int64, str *script.String) preparedCall {
	raw, ok := r.p.Sockets().(targets.RawGetsockopts)
	if !ok {
		r.skip(sc.Pos, "getsockopt with a string value is not supported on target %s", r.t.target)
	}
	if len(sc.Args) < 5 {
		r.scriptError(sc.Pos, "getsockopt needs the value's length, [N]")
	}
	n := r.arg(sc, 4)
	if n != int64(len(str.Value)) {
		r.scriptError(sc.Args[4].Position(), "getsockopt length %d is not that of the string %q (%d bytes)", n, str.Value, len(str.Value))
	}
	want := []byte(str.Value)
	return preparedCall{optional: true, exec: func(context.Context) callResult {
		got, err := raw.GetsockoptBytes(fd, int(level), int(name), int(n))
		if err == nil && !bytes.Equal(got, want) {
			err = fmt.Errorf("%w: value %q, the script expects %q", errSockoptValue, got, want)
		}
		return result(0, err)
	}}
}

// errSockoptValue marks an option whose value differs from the script's.
var errSockoptValue = errors.New("option value mismatch")

// setsockoptLinger handles setsockopt with {onoff=N, linger=S}, a struct
// linger (two C ints), as SO_LINGER takes.
func (r *scriptRun) setsockoptLinger(sc *script.Syscall, fd int, level, name int64, st *script.Struct) preparedCall {
	raw, ok := r.p.Sockets().(targets.RawSockopts)
	if !ok {
		r.skip(sc.Pos, "setsockopt with a struct value is not supported on target %s", r.t.target)
	}
	value := make([]byte, 8)
	for i, field := range []string{"onoff", "linger"} {
		var as *script.Assign
		if i < len(st.Fields) {
			as, _ = st.Fields[i].(*script.Assign)
		}
		if as == nil || as.Name != field || len(st.Fields) != 2 {
			r.skip(sc.Pos, "setsockopt with the value %v is not supported by tcpconform: only {onoff=..., linger=...} is", st)
		}
		v, err := r.intArg(as.Value)
		if err != nil {
			r.scriptError(as.Pos, "%s: %v", field, err)
		}
		binary.NativeEndian.PutUint32(value[4*i:], uint32(v))
	}
	return preparedCall{optional: true, exec: func(context.Context) callResult {
		return result(0, raw.SetsockoptBytes(fd, int(level), int(name), value))
	}}
}
