package linuxabi

// Sockopt is a socket option: its name in scripts (Linux's symbol), its
// level and number in Linux's numbering, and, for the options an agent is
// asked to set by name, its name in the agent protocol
// (docs/agent-protocol.md: "reuseaddr"), else "".
type Sockopt struct {
	Symbol string
	Level  int
	Number int
	Proto  string
}

// Socket option levels, Linux's numbers.
const (
	levelIP     = 0  // IPPROTO_IP
	levelSocket = 1  // SOL_SOCKET
	levelTCP    = 6  // IPPROTO_TCP
	levelIPv6   = 41 // IPPROTO_IPV6
)

// sockopts is the one table of socket options in tcpconform: scripts name
// options by Symbol, the harness's agent client and agents name them by
// Proto. A test checks it against golang.org/x/sys/unix.
var sockopts = []Sockopt{
	{"SO_ACCEPTCONN", levelSocket, 30, ""},
	{"SO_ATTACH_FILTER", levelSocket, 26, ""},
	{"SO_BINDTODEVICE", levelSocket, 25, ""},
	{"SO_BROADCAST", levelSocket, 6, ""},
	{"SO_BSDCOMPAT", levelSocket, 14, ""},
	{"SO_DEBUG", levelSocket, 1, ""},
	{"SO_DETACH_FILTER", levelSocket, 27, ""},
	{"SO_DONTROUTE", levelSocket, 5, ""},
	{"SO_ERROR", levelSocket, 4, "error"},
	{"SO_KEEPALIVE", levelSocket, 9, "keepalive"},
	{"SO_LINGER", levelSocket, 13, "linger"},
	{"SO_MARK", levelSocket, 36, ""},
	{"SO_NO_CHECK", levelSocket, 11, ""},
	{"SO_OOBINLINE", levelSocket, 10, "oobinline"},
	{"SO_PASSCRED", levelSocket, 16, ""},
	{"SO_PEERCRED", levelSocket, 17, ""},
	{"SO_PEERNAME", levelSocket, 28, ""},
	{"SO_PEERSEC", levelSocket, 31, ""},
	{"SO_PRIORITY", levelSocket, 12, ""},
	{"SO_RCVBUF", levelSocket, 8, "rcvbuf"},
	{"SO_RCVLOWAT", levelSocket, 18, ""},
	{"SO_RCVTIMEO", levelSocket, 20, ""},
	{"SO_REUSEADDR", levelSocket, 2, "reuseaddr"},
	{"SO_REUSEPORT", levelSocket, 15, "reuseport"},
	{"SO_SECURITY_AUTHENTICATION", levelSocket, 22, ""},
	{"SO_SECURITY_ENCRYPTION_NETWORK", levelSocket, 24, ""},
	{"SO_SECURITY_ENCRYPTION_TRANSPORT", levelSocket, 23, ""},
	{"SO_SNDBUF", levelSocket, 7, "sndbuf"},
	{"SO_SNDLOWAT", levelSocket, 19, ""},
	{"SO_SNDTIMEO", levelSocket, 21, ""},
	{"SO_TIMESTAMP", levelSocket, 29, ""},
	{"SO_TIMESTAMPING", levelSocket, 37, ""},
	{"SO_TYPE", levelSocket, 3, ""},
	{"SO_MAX_PACING_RATE", levelSocket, 47, ""},
	{"SO_ZEROCOPY", levelSocket, 60, ""},
	{"TCP_NODELAY", levelTCP, 1, "nodelay"},
	{"TCP_MAXSEG", levelTCP, 2, "maxseg"},
	{"TCP_CORK", levelTCP, 3, "cork"},
	{"TCP_KEEPIDLE", levelTCP, 4, "keepidle"},
	{"TCP_KEEPINTVL", levelTCP, 5, "keepintvl"},
	{"TCP_KEEPCNT", levelTCP, 6, "keepcnt"},
	{"TCP_SYNCNT", levelTCP, 7, "syncnt"},
	{"TCP_LINGER2", levelTCP, 8, "linger2"},
	{"TCP_DEFER_ACCEPT", levelTCP, 9, ""},
	{"TCP_INFO", levelTCP, 11, ""},
	{"TCP_QUICKACK", levelTCP, 12, ""},
	{"TCP_CONGESTION", levelTCP, 13, ""},
	{"TCP_MD5SIG", levelTCP, 14, ""},
	{"TCP_COOKIE_TRANSACTIONS", levelTCP, 15, ""},
	{"TCP_THIN_LINEAR_TIMEOUTS", levelTCP, 16, ""},
	{"TCP_THIN_DUPACK", levelTCP, 17, ""},
	{"TCP_USER_TIMEOUT", levelTCP, 18, "user_timeout"},
	{"TCP_FASTOPEN", levelTCP, 23, ""},
	{"TCP_FASTOPEN_CONNECT", levelTCP, 30, ""},
	{"TCP_FASTOPEN_KEY", levelTCP, 33, ""},
	{"TCP_FASTOPEN_NO_COOKIE", levelTCP, 34, ""},
	{"TCP_TIMESTAMP", levelTCP, 24, ""},
	{"TCP_NOTSENT_LOWAT", levelTCP, 25, ""},
	{"TCP_CM_INQ", levelTCP, 36, ""},
	{"TCP_TX_DELAY", levelTCP, 37, ""},
	{"TCP_WINDOW_CLAMP", levelTCP, 10, ""},
	{"TCP_ZEROCOPY_RECEIVE", levelTCP, 35, ""},
	{"TCP_REPAIR", levelTCP, 19, ""},
	{"TCP_ULP", levelTCP, 31, ""},
	{"IP_TOS", levelIP, 1, "tos"},
	{"IP_MTU_DISCOVER", levelIP, 10, ""},
	{"IP_RECVERR", levelIP, 11, ""},
	{"IP_FREEBIND", levelIP, 15, ""},
	{"IP_TTL", levelIP, 2, ""},
	{"IP_MTU", levelIP, 14, ""},
	{"IPV6_MTU_DISCOVER", levelIPv6, 23, ""},
	{"IPV6_RECVERR", levelIPv6, 25, ""},
	{"IPV6_MTU", levelIPv6, 24, ""},
	{"IPV6_TCLASS", levelIPv6, 67, "tclass"},
	{"IPV6_HOPLIMIT", levelIPv6, 52, ""},
	{"IPV6_V6ONLY", levelIPv6, 26, "v6only"},
}

// Sockopts returns the option table.
func Sockopts() []Sockopt { return sockopts }

// SockoptByProto finds an option by its protocol name ("nodelay").
func SockoptByProto(name string) (Sockopt, bool) {
	for _, o := range sockopts {
		if o.Proto != "" && o.Proto == name {
			return o, true
		}
	}
	return Sockopt{}, false
}

// SockoptByNumber finds an option by level and number.
func SockoptByNumber(level, number int) (Sockopt, bool) {
	for _, o := range sockopts {
		if o.Level == level && o.Number == number {
			return o, true
		}
	}
	return Sockopt{}, false
}
