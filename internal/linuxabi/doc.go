// Package linuxabi holds Linux's numbering of errnos and socket options:
// the one errno table and the one socket-option table of tcpconform.
// Scripts name errors and options by them, the harness's agent client and
// agents (agentsdk, the kernel agent) name them on the wire by them, and
// messages print errnos with them. The tables are plain numbers, so the
// package builds anywhere; its tests check them against
// golang.org/x/sys/unix on Linux.
package linuxabi
