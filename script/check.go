package script

import (
	"fmt"
	"strings"
	"time"
)

// Check runs the checks that look at whole events: the first event is at
// time 0, absolute times never go backwards, each time form suits its
// action, and every system call is one the harness knows. Parse runs it;
// it is exported for ASTs built by other means.
func Check(f *File) ErrorList { return check(f, true) }

// check is Check; checkFirst is false when the script's first event was
// lost to a syntax error, so that f.Events[0] is not really the first.
func check(f *File, checkFirst bool) ErrorList {
	var errs ErrorList
	add := func(pos Pos, format string, args ...any) {
		errs = append(errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	}
	var now time.Duration // the scheduled time of the previous event
	for i, ev := range f.Events {
		t := ev.Time
		if i == 0 && checkFirst && (t.Kind == AnyTime || t.Start != 0) {
			add(t.Pos, "first event must be at time 0")
		}
		switch t.Kind {
		case Absolute:
			if t.Start < now {
				add(t.Pos, "time goes backwards: %s after %s", seconds(t.Start), seconds(now))
			}
			now = t.Start
		case Relative:
			now += t.Start
		}
		pkt, _ := ev.Action.(*Packet)
		outbound := pkt != nil && pkt.Dir == Outbound
		switch {
		case t.Kind == AnyTime && !outbound:
			add(t.Pos, `"*" time is allowed only on outbound packets`)
		case t.Range && !outbound:
			add(t.Pos, "time range is allowed only on outbound packets")
		}
		if sc, ok := ev.Action.(*Syscall); ok {
			if !knownSyscalls[sc.Name] {
				add(sc.Pos, "unknown system call %q", sc.Name)
			}
		} else if t.Blocking {
			add(t.Pos, `blocking time "...END" is allowed only on system calls`)
		}
	}
	return errs
}

// seconds prints d in seconds with at least three decimals: 0.100, 1.000,
// 0.000250.
func seconds(d time.Duration) string {
	us := d.Microseconds()
	s := fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
	for strings.HasSuffix(s, "0") && len(s)-strings.IndexByte(s, '.') > 4 {
		s = s[:len(s)-1]
	}
	return s
}
