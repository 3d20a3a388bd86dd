package linuxabi

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The option table agrees with x/sys/unix, and protocol names are unique.
func TestSockoptTableIsLinuxs(t *testing.T) {
	want := map[string][2]int{
		"SO_ACCEPTCONN":                    {unix.SOL_SOCKET, unix.SO_ACCEPTCONN},
		"SO_ATTACH_FILTER":                 {unix.SOL_SOCKET, unix.SO_ATTACH_FILTER},
		"SO_BINDTODEVICE":                  {unix.SOL_SOCKET, unix.SO_BINDTODEVICE},
		"SO_BROADCAST":                     {unix.SOL_SOCKET, unix.SO_BROADCAST},
		"SO_BSDCOMPAT":                     {unix.SOL_SOCKET, unix.SO_BSDCOMPAT},
		"SO_DEBUG":                         {unix.SOL_SOCKET, unix.SO_DEBUG},
		"SO_DETACH_FILTER":                 {unix.SOL_SOCKET, unix.SO_DETACH_FILTER},
		"SO_DONTROUTE":                     {unix.SOL_SOCKET, unix.SO_DONTROUTE},
		"SO_ERROR":                         {unix.SOL_SOCKET, unix.SO_ERROR},
		"SO_KEEPALIVE":                     {unix.SOL_SOCKET, unix.SO_KEEPALIVE},
		"SO_LINGER":                        {unix.SOL_SOCKET, unix.SO_LINGER},
		"SO_MARK":                          {unix.SOL_SOCKET, unix.SO_MARK},
		"SO_NO_CHECK":                      {unix.SOL_SOCKET, unix.SO_NO_CHECK},
		"SO_OOBINLINE":                     {unix.SOL_SOCKET, unix.SO_OOBINLINE},
		"SO_PASSCRED":                      {unix.SOL_SOCKET, unix.SO_PASSCRED},
		"SO_PEERCRED":                      {unix.SOL_SOCKET, unix.SO_PEERCRED},
		"SO_PEERNAME":                      {unix.SOL_SOCKET, unix.SO_PEERNAME},
		"SO_PEERSEC":                       {unix.SOL_SOCKET, unix.SO_PEERSEC},
		"SO_PRIORITY":                      {unix.SOL_SOCKET, unix.SO_PRIORITY},
		"SO_RCVBUF":                        {unix.SOL_SOCKET, unix.SO_RCVBUF},
		"SO_RCVLOWAT":                      {unix.SOL_SOCKET, unix.SO_RCVLOWAT},
		"SO_RCVTIMEO":                      {unix.SOL_SOCKET, unix.SO_RCVTIMEO},
		"SO_REUSEADDR":                     {unix.SOL_SOCKET, unix.SO_REUSEADDR},
		"SO_REUSEPORT":                     {unix.SOL_SOCKET, unix.SO_REUSEPORT},
		"SO_SECURITY_AUTHENTICATION":       {unix.SOL_SOCKET, unix.SO_SECURITY_AUTHENTICATION},
		"SO_SECURITY_ENCRYPTION_NETWORK":   {unix.SOL_SOCKET, unix.SO_SECURITY_ENCRYPTION_NETWORK},
		"SO_SECURITY_ENCRYPTION_TRANSPORT": {unix.SOL_SOCKET, unix.SO_SECURITY_ENCRYPTION_TRANSPORT},
		"SO_SNDBUF":                        {unix.SOL_SOCKET, unix.SO_SNDBUF},
		"SO_SNDLOWAT":                      {unix.SOL_SOCKET, unix.SO_SNDLOWAT},
		"SO_SNDTIMEO":                      {unix.SOL_SOCKET, unix.SO_SNDTIMEO},
		"SO_TIMESTAMP":                     {unix.SOL_SOCKET, unix.SO_TIMESTAMP},
		"SO_TIMESTAMPING":                  {unix.SOL_SOCKET, unix.SO_TIMESTAMPING},
		"SO_TYPE":                          {unix.SOL_SOCKET, unix.SO_TYPE},
		"SO_MAX_PACING_RATE":               {unix.SOL_SOCKET, unix.SO_MAX_PACING_RATE},
		"SO_ZEROCOPY":                      {unix.SOL_SOCKET, unix.SO_ZEROCOPY},
		"TCP_NODELAY":                      {unix.IPPROTO_TCP, unix.TCP_NODELAY},
		"TCP_MAXSEG":                       {unix.IPPROTO_TCP, unix.TCP_MAXSEG},
		"TCP_CORK":                         {unix.IPPROTO_TCP, unix.TCP_CORK},
		"TCP_KEEPIDLE":                     {unix.IPPROTO_TCP, unix.TCP_KEEPIDLE},
		"TCP_KEEPINTVL":                    {unix.IPPROTO_TCP, unix.TCP_KEEPINTVL},
		"TCP_KEEPCNT":                      {unix.IPPROTO_TCP, unix.TCP_KEEPCNT},
		"TCP_SYNCNT":                       {unix.IPPROTO_TCP, unix.TCP_SYNCNT},
		"TCP_LINGER2":                      {unix.IPPROTO_TCP, unix.TCP_LINGER2},
		"TCP_DEFER_ACCEPT":                 {unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT},
		"TCP_INFO":                         {unix.IPPROTO_TCP, unix.TCP_INFO},
		"TCP_QUICKACK":                     {unix.IPPROTO_TCP, unix.TCP_QUICKACK},
		"TCP_CONGESTION":                   {unix.IPPROTO_TCP, unix.TCP_CONGESTION},
		"TCP_MD5SIG":                       {unix.IPPROTO_TCP, unix.TCP_MD5SIG},
		"TCP_COOKIE_TRANSACTIONS":          {unix.IPPROTO_TCP, unix.TCP_COOKIE_TRANSACTIONS},
		"TCP_THIN_LINEAR_TIMEOUTS":         {unix.IPPROTO_TCP, unix.TCP_THIN_LINEAR_TIMEOUTS},
		"TCP_THIN_DUPACK":                  {unix.IPPROTO_TCP, unix.TCP_THIN_DUPACK},
		"TCP_USER_TIMEOUT":                 {unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT},
		"TCP_FASTOPEN":                     {unix.IPPROTO_TCP, unix.TCP_FASTOPEN},
		"TCP_FASTOPEN_CONNECT":             {unix.IPPROTO_TCP, unix.TCP_FASTOPEN_CONNECT},
		"TCP_FASTOPEN_KEY":                 {unix.IPPROTO_TCP, unix.TCP_FASTOPEN_KEY},
		"TCP_FASTOPEN_NO_COOKIE":           {unix.IPPROTO_TCP, unix.TCP_FASTOPEN_NO_COOKIE},
		"TCP_TIMESTAMP":                    {unix.IPPROTO_TCP, unix.TCP_TIMESTAMP},
		"TCP_NOTSENT_LOWAT":                {unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT},
		"TCP_CM_INQ":                       {unix.IPPROTO_TCP, unix.TCP_CM_INQ},
		"TCP_TX_DELAY":                     {unix.IPPROTO_TCP, unix.TCP_TX_DELAY},
		"TCP_WINDOW_CLAMP":                 {unix.IPPROTO_TCP, unix.TCP_WINDOW_CLAMP},
		"TCP_ZEROCOPY_RECEIVE":             {unix.IPPROTO_TCP, unix.TCP_ZEROCOPY_RECEIVE},
		"TCP_REPAIR":                       {unix.IPPROTO_TCP, unix.TCP_REPAIR},
		"TCP_ULP":                          {unix.IPPROTO_TCP, unix.TCP_ULP},
		"IP_TOS":                           {unix.IPPROTO_IP, unix.IP_TOS},
		"IP_MTU_DISCOVER":                  {unix.IPPROTO_IP, unix.IP_MTU_DISCOVER},
		"IP_RECVERR":                       {unix.IPPROTO_IP, unix.IP_RECVERR},
		"IP_FREEBIND":                      {unix.IPPROTO_IP, unix.IP_FREEBIND},
		"IP_TTL":                           {unix.IPPROTO_IP, unix.IP_TTL},
		"IP_MTU":                           {unix.IPPROTO_IP, unix.IP_MTU},
		"IPV6_MTU_DISCOVER":                {unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER},
		"IPV6_RECVERR":                     {unix.IPPROTO_IPV6, unix.IPV6_RECVERR},
		"IPV6_MTU":                         {unix.IPPROTO_IPV6, unix.IPV6_MTU},
		"IPV6_TCLASS":                      {unix.IPPROTO_IPV6, unix.IPV6_TCLASS},
		"IPV6_HOPLIMIT":                    {unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT},
		"IPV6_V6ONLY":                      {unix.IPPROTO_IPV6, unix.IPV6_V6ONLY},
	}
	if len(want) != len(sockopts) {
		t.Errorf("%d options in the table, %d checked", len(sockopts), len(want))
	}
	protos := map[string]bool{}
	for _, o := range sockopts {
		w, ok := want[o.Symbol]
		if !ok || w != [2]int{o.Level, o.Number} {
			t.Errorf("%s: level %d number %d, unix says %v", o.Symbol, o.Level, o.Number, w)
		}
		if o.Proto != "" {
			if protos[o.Proto] {
				t.Errorf("protocol name %s twice", o.Proto)
			}
			protos[o.Proto] = true
		}
	}
	if o, ok := SockoptByProto("nodelay"); !ok || o.Level != unix.IPPROTO_TCP || o.Number != unix.TCP_NODELAY {
		t.Errorf("nodelay: %+v %v", o, ok)
	}
	if o, ok := SockoptByNumber(unix.SOL_SOCKET, unix.SO_REUSEADDR); !ok || o.Proto != "reuseaddr" {
		t.Errorf("SO_REUSEADDR: %+v %v", o, ok)
	}
	if _, ok := SockoptByProto(""); ok {
		t.Error("the empty protocol name found an option")
	}
}
