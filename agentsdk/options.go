package agentsdk

import "syscall"

// sockopts maps the protocol's option names to Linux's levels and option
// numbers, which targets.Sockets takes.
var sockopts = map[string]struct{ level, name int }{
	"reuseaddr":    {syscall.SOL_SOCKET, syscall.SO_REUSEADDR},
	"reuseport":    {syscall.SOL_SOCKET, 15},
	"oobinline":    {syscall.SOL_SOCKET, syscall.SO_OOBINLINE},
	"keepalive":    {syscall.SOL_SOCKET, syscall.SO_KEEPALIVE},
	"sndbuf":       {syscall.SOL_SOCKET, syscall.SO_SNDBUF},
	"rcvbuf":       {syscall.SOL_SOCKET, syscall.SO_RCVBUF},
	"error":        {syscall.SOL_SOCKET, syscall.SO_ERROR},
	"linger":       {syscall.SOL_SOCKET, syscall.SO_LINGER},
	"nodelay":      {syscall.IPPROTO_TCP, syscall.TCP_NODELAY},
	"maxseg":       {syscall.IPPROTO_TCP, syscall.TCP_MAXSEG},
	"cork":         {syscall.IPPROTO_TCP, syscall.TCP_CORK},
	"keepidle":     {syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE},
	"keepintvl":    {syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL},
	"keepcnt":      {syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT},
	"syncnt":       {syscall.IPPROTO_TCP, syscall.TCP_SYNCNT},
	"linger2":      {syscall.IPPROTO_TCP, syscall.TCP_LINGER2},
	"user_timeout": {syscall.IPPROTO_TCP, 18},
	"tos":          {syscall.IPPROTO_IP, syscall.IP_TOS},
	"tclass":       {syscall.IPPROTO_IPV6, syscall.IPV6_TCLASS},
	"v6only":       {syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY},
}
