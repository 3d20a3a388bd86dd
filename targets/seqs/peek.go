package seqs

import (
	"reflect"
	"unsafe"

	"github.com/soypat/seqs/stacks"
)

// seqs' blocking calls (TCPConn.Read and Write, TCPListener.Accept) spin
// until they can go on, and the stack is not safe for concurrent use, so
// this package drives it from one lock and calls them only once they will
// not wait. Whether they would wait depends on fields seqs does not export:
// the free space of a connection's send ring, the connections a listener
// holds, and the counter that tells a connection from the next one reusing
// the same memory. These helpers read them (never write them), for the one
// seqs version go.mod pins; a field renamed upstream panics here at once
// (see the package test), never misreads.

// txFree is how many octets TCPConn.Write can take without spinning: the
// free space of its send ring (stacks.ring.Free).
func txFree(c *stacks.TCPConn) int {
	tx := reflect.ValueOf(c).Elem().FieldByName("tx")
	n := tx.FieldByName("buf").Len()
	off := int(tx.FieldByName("off").Int())
	end := int(tx.FieldByName("end").Int())
	switch {
	case off == 0:
		return n - end
	case off < end:
		return off + n - end
	default:
		return off - end
	}
}

// connID is the counter seqs bumps each time a TCPConn's memory is reset
// for another connection (TCPConn.connid).
func connID(c *stacks.TCPConn) uint8 {
	return uint8(reflect.ValueOf(c).Elem().FieldByName("connid").Uint())
}

// listenerConns returns the connections a listener holds, with whether
// Accept has handed each out already (TCPListener.conns, .used).
func listenerConns(l *stacks.TCPListener) (conns []*stacks.TCPConn, used []bool) {
	v := reflect.ValueOf(l).Elem()
	cs, us := v.FieldByName("conns"), v.FieldByName("used")
	for i := 0; i < cs.Len(); i++ {
		conns = append(conns, (*stacks.TCPConn)(unsafe.Pointer(cs.Index(i).UnsafeAddr())))
		used = append(used, us.Index(i).Bool())
	}
	return conns, used
}
