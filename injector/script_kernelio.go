package injector

import (
	"context"
	"net/netip"
	"path/filepath"
	"syscall"

	"github.com/tcpconform/tcpconform/script"
	"github.com/tcpconform/tcpconform/targets"
)

// This file holds the calls and argument forms of packetdrill beyond plain
// socket calls: NULL buffers, bare address families, files, pipes, sendfile
// and splice. Each needs an optional interface of the target (see
// targets/kernelio.go); a target without it skips the script.

// isNull reports whether e is a NULL pointer: the symbol NULL or 0.
func isNull(e script.Expr) bool {
	switch v := e.(type) {
	case *script.Int:
		return v.Value == 0
	case *script.Symbol:
		return v.Name == "NULL"
	}
	return false
}

// nullBuffer reports whether the buffer argument (the second) of a read or
// write call is NULL. The iovec calls take an array there, which a NULL
// cannot stand for here.
func (r *scriptRun) nullBuffer(sc *script.Syscall) bool {
	if len(sc.Args) < 2 || !isNull(sc.Args[1]) {
		return false
	}
	if sc.Name == "readv" || sc.Name == "writev" {
		r.skip(sc.Pos, "%s with a NULL iovec array is not supported by tcpconform", sc.Name)
	}
	return true
}

// nullIO makes read, recv, recvfrom, write, send or sendto with a NULL
// buffer: packetdrill passes the NULL to the kernel, and so does the
// target, so the result is the stack's (EFAULT on Linux).
func (r *scriptRun) nullIO(sc *script.Syscall, fd int, n int, flags int64, to netip.AddrPort) preparedCall {
	nb, ok := r.p.Sockets().(targets.NullBuffers)
	if !ok {
		r.skip(sc.Pos, "%s with a NULL buffer is not supported on target %s", sc.Name, r.t.target)
	}
	switch sc.Name {
	case "read", "recv", "recvfrom":
		return preparedCall{exec: func(ctx context.Context) callResult {
			return result(nb.RecvNull(ctx, fd, n, int(flags)))
		}}
	}
	return preparedCall{exec: func(ctx context.Context) callResult {
		return result(nb.SendNull(ctx, fd, n, int(flags), to))
	}}
}

// bareFamily returns the address family written in place of a socket
// address, argument i of connect or sendto (connect(3, AF_UNSPEC, ...)); ok
// is false for "...", the address of the script's peer.
func (r *scriptRun) bareFamily(sc *script.Syscall, i int) (family int64, ok bool) {
	if i >= len(sc.Args) {
		return 0, false
	}
	if _, ell := sc.Args[i].(*script.Ellipsis); ell {
		return 0, false
	}
	return r.arg(sc, i), true
}

func (r *scriptRun) bareFamilies(sc *script.Syscall) targets.BareFamilies {
	bf, ok := r.p.Sockets().(targets.BareFamilies)
	if !ok {
		r.skip(sc.Pos, "%s with a bare address family is not supported on target %s", sc.Name, r.t.target)
	}
	return bf
}

// connectFamily makes connect with a zeroed address of family. AF_UNSPEC
// dissolves the connection (POSIX connect(2); Linux aborts a TCP
// connection with a RST); the connection under test stays the one the
// script follows, so its RST is matched as usual.
func (r *scriptRun) connectFamily(sc *script.Syscall, fd int, family int64) preparedCall {
	bf := r.bareFamilies(sc)
	return preparedCall{exec: func(ctx context.Context) callResult {
		return result(0, bf.ConnectFamily(ctx, fd, int(family)))
	}}
}

// sendToFamily makes sendto with a zeroed address of family.
func (r *scriptRun) sendToFamily(sc *script.Syscall, fd, n int, flags, family int64) preparedCall {
	if isNull(sc.Args[1]) {
		r.skip(sc.Pos, "sendto with both a NULL buffer and a bare address family is not supported by tcpconform")
	}
	bf := r.bareFamilies(sc)
	return preparedCall{exec: func(ctx context.Context) callResult {
		return result(bf.SendToFamily(ctx, fd, make([]byte, n), int(flags), int(family)))
	}}
}

// open handles open("path", flags) = fd. A relative path is taken from the
// script's directory, where packetdrill's runner starts it.
func (r *scriptRun) open(sc *script.Syscall) preparedCall {
	files, ok := r.p.Sockets().(targets.Files)
	if !ok {
		r.skip(sc.Pos, "open is not supported on target %s", r.t.target)
	}
	if len(sc.Args) < 2 {
		r.scriptError(sc.Pos, "open wants a path and flags")
	}
	str, ok := sc.Args[0].(*script.String)
	if !ok {
		r.scriptError(sc.Args[0].Position(), "open wants a path in quotes")
	}
	path := str.Value
	if !filepath.IsAbs(path) {
		path = filepath.Join(r.dir, path)
	}
	flags := r.arg(sc, 1)
	return preparedCall{newFD: true, exec: func(context.Context) callResult {
		return result(files.Open(path, int(flags), 0o600))
	}, post: func(fd int64) { r.nonblock[int(fd)] = flags&syscall.O_NONBLOCK != 0 }}
}

// sendfile handles sendfile(out, in, [offset], count): the offset is where
// the file is read from, as packetdrill always passes a pointer to it.
func (r *scriptRun) sendfile(sc *script.Syscall) preparedCall {
	files, ok := r.p.Sockets().(targets.Files)
	if !ok {
		r.skip(sc.Pos, "sendfile is not supported on target %s", r.t.target)
	}
	out, in := r.fd(sc, 0), r.fd(sc, 1)
	off, n := r.arg(sc, 2), r.arg(sc, 3)
	return preparedCall{exec: func(ctx context.Context) callResult {
		o := off
		return result(files.Sendfile(ctx, out, in, &o, int(n)))
	}}
}

// pipes returns the target's pipes, or skips the script.
func (r *scriptRun) pipes(sc *script.Syscall) targets.Pipes {
	p, ok := r.p.Sockets().(targets.Pipes)
	if !ok {
		r.skip(sc.Pos, "%s is not supported on target %s", sc.Name, r.t.target)
	}
	return p
}

// pipe handles pipe([r, w]) = 0: the script names the two ends.
func (r *scriptRun) pipe(sc *script.Syscall) preparedCall {
	p := r.pipes(sc)
	var arr *script.Array
	if len(sc.Args) == 1 {
		arr, _ = sc.Args[0].(*script.Array)
	}
	if arr == nil || len(arr.Elems) != 2 {
		r.scriptError(sc.Pos, "pipe wants [read-fd, write-fd]")
	}
	var names [2]int64
	for i, e := range arr.Elems {
		n, err := r.intArg(e)
		if err != nil {
			r.scriptError(e.Position(), "pipe descriptor: %v", err)
		}
		names[i] = n
	}
	var ends [2]int
	return preparedCall{exec: func(context.Context) callResult {
		var err error
		ends[0], ends[1], err = p.Pipe()
		return result(0, err)
	}, post: func(int64) {
		for i, n := range names {
			r.fds[n] = ends[i]
			r.nonblock[ends[i]] = false
		}
	}}
}

// splice handles splice(in, off_in, out, off_out, len, flags). packetdrill
// passes the offsets as pointers, so only NULL (the descriptor's own
// position, as pipes and sockets need) is meaningful.
func (r *scriptRun) splice(sc *script.Syscall) preparedCall {
	p := r.pipes(sc)
	if len(sc.Args) < 6 {
		r.scriptError(sc.Pos, "splice wants in, off_in, out, off_out, len, flags")
	}
	for _, i := range []int{1, 3} {
		if !isNull(sc.Args[i]) {
			r.skip(sc.Args[i].Position(), "splice with an offset other than NULL is not supported by tcpconform")
		}
	}
	in, out := r.fd(sc, 0), r.fd(sc, 2)
	n, flags := r.arg(sc, 4), r.arg(sc, 5)
	return preparedCall{exec: func(ctx context.Context) callResult {
		return result(p.Splice(ctx, in, nil, out, nil, int(n), int(flags)))
	}}
}
