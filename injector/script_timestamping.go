package injector

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/tcpconform/tcpconform/script"
)

// scmTimestamp reads {scm_sec=S, scm_nsec=N}, the data of an
// SCM_TIMESTAMPING control message as packetdrill writes it: the first of
// its three timestamps (the software one), in script time. A zero time
// asks for no check, as in packetdrill. ok is false for data of another
// shape.
func (r *scriptRun) scmTimestamp(sc *script.Syscall, e script.Expr) (stamp *time.Duration, ok bool) {
	st, isStruct := e.(*script.Struct)
	if !isStruct || len(st.Fields) != 2 {
		return nil, false
	}
	var sec, nsec int64
	for i, name := range []string{"scm_sec", "scm_nsec"} {
		as, isAssign := st.Fields[i].(*script.Assign)
		if !isAssign || as.Name != name {
			return nil, false
		}
		v, err := r.intArg(as.Value)
		if err != nil {
			r.scriptError(as.Pos, "%s: %v", name, err)
		}
		if i == 0 {
			sec = v
		} else {
			nsec = v
		}
	}
	if r.p.clock.Virtual() {
		r.skip(sc.Pos, "SCM_TIMESTAMPING times need a real-time clock; target %s runs on a virtual one", r.t.target)
	}
	if sec == 0 && nsec == 0 {
		return nil, true
	}
	d := time.Duration(sec)*time.Second + time.Duration(nsec)
	return &d, true
}

// checkStamp compares the software timestamp of an SCM_TIMESTAMPING
// message (struct scm_timestamping: three struct timespec, the first the
// software one, in CLOCK_REALTIME) with the script's time, within the
// script's absolute tolerance, as packetdrill does.
func (r *scriptRun) checkStamp(i int, data []byte, want *time.Duration) error {
	if want == nil {
		return nil
	}
	if len(data) < 16 {
		return fmt.Errorf("%w: control message %d is %d bytes, too short for a struct scm_timestamping", errCmsgData, i, len(data))
	}
	sec := int64(binary.NativeEndian.Uint64(data[0:]))
	nsec := int64(binary.NativeEndian.Uint64(data[8:]))
	got := time.Unix(sec, nsec).Sub(r.p.Start())
	if diff := got - *want; diff > r.tolUsecs || diff < -r.tolUsecs {
		return fmt.Errorf("%w: control message %d timestamp %.6f s, the script expects %.6f s (tolerance %.6f s)",
			errCmsgData, i, got.Seconds(), want.Seconds(), r.tolUsecs.Seconds())
	}
	return nil
}
