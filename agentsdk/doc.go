// Package agentsdk serves the stack-agent protocol (docs/agent-protocol.md)
// for a TCP/IP stack written in Go, so that tcpconform can test it as it
// tests its built-in targets.
//
// A stack implements targets.Sockets (socket, bind, listen, accept,
// connect, read, write, shutdown, close, options, names) and hands itself to
// Serve, which reads the harness's requests, calls the stack, and writes the
// replies. Everything else is optional, found by type assertion, and
// announced in the hello line only when present:
//
//   - targets.Link (Inject, Poll, Next): the stack's packets, for a
//     userspace stack; Serve carries them on Options.Packets (the harness's
//     fd 3) and answers "settle". A Settle() method, if any, runs before a
//     settle is answered.
//   - State(targets.Tuple) (state.State, bool): "state" requests.
//   - targets.TCPInfo: "tcpinfo", as Linux's struct tcp_info.
//   - targets.Sysctls: "sysctl".
//   - targets.FlaggedIO: "sendto" and "recvfrom" with MSG_ flags.
//   - targets.RawSockopts and targets.RawGetsockopts: the linger option.
//   - targets.Shell: "shell" (give it only to a harness you trust).
//   - Reset() error: called by "reset", to give the next case a fresh
//     stack.
//
// Blocking calls run on goroutines of their own, with a context that
// "cancel" and "reset" end, so one waiting accept never stops the agent
// from answering. Errors that are a syscall.Errno go back by name (EAGAIN);
// others as EIO with their text.
package agentsdk
