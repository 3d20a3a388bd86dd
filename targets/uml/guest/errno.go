//go:build linux

package main

import (
	"errors"
	"io/fs"
	"strconv"
	"syscall"
)

// errnoNames spells the errnos a socket call can plausibly return. The
// protocol sends symbolic names; anything else goes out as E<n>.
var errnoNames = map[syscall.Errno]string{
	syscall.EPERM:           "EPERM",
	syscall.ENOENT:          "ENOENT",
	syscall.EINTR:           "EINTR",
	syscall.EIO:             "EIO",
	syscall.ENXIO:           "ENXIO",
	syscall.E2BIG:           "E2BIG",
	syscall.EBADF:           "EBADF",
	syscall.EAGAIN:          "EAGAIN",
	syscall.ENOMEM:          "ENOMEM",
	syscall.EACCES:          "EACCES",
	syscall.EFAULT:          "EFAULT",
	syscall.EBUSY:           "EBUSY",
	syscall.EEXIST:          "EEXIST",
	syscall.ENODEV:          "ENODEV",
	syscall.ENOTDIR:         "ENOTDIR",
	syscall.EISDIR:          "EISDIR",
	syscall.EINVAL:          "EINVAL",
	syscall.ENFILE:          "ENFILE",
	syscall.EMFILE:          "EMFILE",
	syscall.ENOTTY:          "ENOTTY",
	syscall.ENOSPC:          "ENOSPC",
	syscall.EROFS:           "EROFS",
	syscall.EPIPE:           "EPIPE",
	syscall.ERANGE:          "ERANGE",
	syscall.ENOSYS:          "ENOSYS",
	syscall.ENOTSOCK:        "ENOTSOCK",
	syscall.EDESTADDRREQ:    "EDESTADDRREQ",
	syscall.EMSGSIZE:        "EMSGSIZE",
	syscall.EPROTOTYPE:      "EPROTOTYPE",
	syscall.ENOPROTOOPT:     "ENOPROTOOPT",
	syscall.EPROTONOSUPPORT: "EPROTONOSUPPORT",
	syscall.ESOCKTNOSUPPORT: "ESOCKTNOSUPPORT",
	syscall.EOPNOTSUPP:      "EOPNOTSUPP",
	syscall.EPFNOSUPPORT:    "EPFNOSUPPORT",
	syscall.EAFNOSUPPORT:    "EAFNOSUPPORT",
	syscall.EADDRINUSE:      "EADDRINUSE",
	syscall.EADDRNOTAVAIL:   "EADDRNOTAVAIL",
	syscall.ENETDOWN:        "ENETDOWN",
	syscall.ENETUNREACH:     "ENETUNREACH",
	syscall.ENETRESET:       "ENETRESET",
	syscall.ECONNABORTED:    "ECONNABORTED",
	syscall.ECONNRESET:      "ECONNRESET",
	syscall.ENOBUFS:         "ENOBUFS",
	syscall.EISCONN:         "EISCONN",
	syscall.ENOTCONN:        "ENOTCONN",
	syscall.ESHUTDOWN:       "ESHUTDOWN",
	syscall.ETIMEDOUT:       "ETIMEDOUT",
	syscall.ECONNREFUSED:    "ECONNREFUSED",
	syscall.EHOSTDOWN:       "EHOSTDOWN",
	syscall.EHOSTUNREACH:    "EHOSTUNREACH",
	syscall.EALREADY:        "EALREADY",
	syscall.EINPROGRESS:     "EINPROGRESS",
	syscall.EPROTO:          "EPROTO",
}

// errnoName is the protocol's spelling of e: "ECONNREFUSED", or "E<n>".
func errnoName(e syscall.Errno) string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return "E" + strconv.Itoa(int(e))
}

// errnoOf digs the errno out of err (a bare Errno, an *os.PathError, …);
// an error without one counts as EIO.
func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, fs.ErrNotExist) {
		return syscall.ENOENT
	}
	return syscall.EIO
}
