package injector

import "syscall"

// linuxSymbols resolves the named constants scripts use as system call
// arguments to Linux's values: targets take Linux numbering (see
// targets.Sockets).
var linuxSymbols = map[string]int64{
	"AF_INET": syscall.AF_INET, "AF_INET6": syscall.AF_INET6, "AF_UNSPEC": syscall.AF_UNSPEC,
	"PF_INET": syscall.AF_INET, "PF_INET6": syscall.AF_INET6,
	"SOCK_STREAM": syscall.SOCK_STREAM, "SOCK_DGRAM": syscall.SOCK_DGRAM,
	"SOCK_NONBLOCK": syscall.SOCK_NONBLOCK, "SOCK_CLOEXEC": syscall.SOCK_CLOEXEC,
	"IPPROTO_TCP": syscall.IPPROTO_TCP, "IPPROTO_UDP": syscall.IPPROTO_UDP, "IPPROTO_IP": syscall.IPPROTO_IP,
	"IPPROTO_IPV6": syscall.IPPROTO_IPV6,
	"SOL_SOCKET":   syscall.SOL_SOCKET, "SOL_TCP": syscall.SOL_TCP, "SOL_IP": syscall.SOL_IP,
	"SOL_IPV6":     syscall.SOL_IPV6,
	"SO_REUSEADDR": syscall.SO_REUSEADDR, "SO_REUSEPORT": 15, "SO_KEEPALIVE": syscall.SO_KEEPALIVE,
	"SO_SNDBUF": syscall.SO_SNDBUF, "SO_RCVBUF": syscall.SO_RCVBUF, "SO_LINGER": syscall.SO_LINGER,
	"SO_ERROR": syscall.SO_ERROR, "SO_RCVLOWAT": syscall.SO_RCVLOWAT, "SO_MARK": 36,
	"SO_ZEROCOPY": 60, "SO_TIMESTAMPING": 37,
	"TCP_NODELAY": syscall.TCP_NODELAY, "TCP_MAXSEG": syscall.TCP_MAXSEG, "TCP_CORK": syscall.TCP_CORK,
	"TCP_KEEPIDLE": syscall.TCP_KEEPIDLE, "TCP_KEEPINTVL": syscall.TCP_KEEPINTVL,
	"TCP_KEEPCNT": syscall.TCP_KEEPCNT, "TCP_SYNCNT": syscall.TCP_SYNCNT, "TCP_LINGER2": syscall.TCP_LINGER2,
	"TCP_DEFER_ACCEPT": syscall.TCP_DEFER_ACCEPT, "TCP_WINDOW_CLAMP": syscall.TCP_WINDOW_CLAMP,
	"TCP_INFO": syscall.TCP_INFO, "TCP_QUICKACK": syscall.TCP_QUICKACK, "TCP_CONGESTION": 13,
	"TCP_USER_TIMEOUT": 18, "TCP_FASTOPEN": 23, "TCP_NOTSENT_LOWAT": 25, "TCP_INQ": 36,
	"TCP_FASTOPEN_CONNECT": 30,
	"IP_TOS":               syscall.IP_TOS, "IP_TTL": syscall.IP_TTL, "IP_MTU_DISCOVER": syscall.IP_MTU_DISCOVER,
	"IP_PMTUDISC_DONT": syscall.IP_PMTUDISC_DONT, "IP_PMTUDISC_DO": syscall.IP_PMTUDISC_DO,
	"IP_FREEBIND": syscall.IP_FREEBIND,
	"O_RDONLY":    syscall.O_RDONLY, "O_WRONLY": syscall.O_WRONLY, "O_RDWR": syscall.O_RDWR,
	"O_NONBLOCK": syscall.O_NONBLOCK,
	"F_GETFL":    syscall.F_GETFL, "F_SETFL": syscall.F_SETFL,
	"SHUT_RD": syscall.SHUT_RD, "SHUT_WR": syscall.SHUT_WR, "SHUT_RDWR": syscall.SHUT_RDWR,
	"MSG_PEEK": syscall.MSG_PEEK, "MSG_DONTWAIT": syscall.MSG_DONTWAIT, "MSG_WAITALL": syscall.MSG_WAITALL,
	"MSG_MORE": syscall.MSG_MORE, "MSG_TRUNC": syscall.MSG_TRUNC, "MSG_ERRQUEUE": syscall.MSG_ERRQUEUE,
	"MSG_EOR": syscall.MSG_EOR, "MSG_FASTOPEN": 0x20000000, "MSG_ZEROCOPY": 0x4000000,
	"POLLIN": 0x1, "POLLPRI": 0x2, "POLLOUT": 0x4, "POLLERR": 0x8, "POLLHUP": 0x10, "POLLRDHUP": 0x2000,
	"NULL": 0,
}

// errnos resolves errno names.
var errnos = map[string]syscall.Errno{
	"EPERM": syscall.EPERM, "ENOENT": syscall.ENOENT, "EINTR": syscall.EINTR, "EBADF": syscall.EBADF,
	"EAGAIN": syscall.EAGAIN, "EWOULDBLOCK": syscall.EWOULDBLOCK, "ENOMEM": syscall.ENOMEM,
	"EFAULT": syscall.EFAULT, "EINVAL": syscall.EINVAL, "EPIPE": syscall.EPIPE, "ENOMSG": syscall.ENOMSG,
	"ENOTSOCK": syscall.ENOTSOCK, "EDESTADDRREQ": syscall.EDESTADDRREQ, "EMSGSIZE": syscall.EMSGSIZE,
	"EPROTOTYPE": syscall.EPROTOTYPE, "ENOPROTOOPT": syscall.ENOPROTOOPT, "EOPNOTSUPP": syscall.EOPNOTSUPP,
	"EAFNOSUPPORT": syscall.EAFNOSUPPORT, "EADDRINUSE": syscall.EADDRINUSE, "EADDRNOTAVAIL": syscall.EADDRNOTAVAIL,
	"ENETUNREACH": syscall.ENETUNREACH, "ECONNABORTED": syscall.ECONNABORTED, "ECONNRESET": syscall.ECONNRESET,
	"ENOBUFS": syscall.ENOBUFS, "EISCONN": syscall.EISCONN, "ENOTCONN": syscall.ENOTCONN,
	"ESHUTDOWN": syscall.ESHUTDOWN, "ETIMEDOUT": syscall.ETIMEDOUT, "ECONNREFUSED": syscall.ECONNREFUSED,
	"EHOSTUNREACH": syscall.EHOSTUNREACH, "EALREADY": syscall.EALREADY, "EINPROGRESS": syscall.EINPROGRESS,
	"EHOSTDOWN": syscall.EHOSTDOWN, "ENONET": syscall.ENONET, "EACCES": syscall.EACCES, "EEXIST": syscall.EEXIST,
}
