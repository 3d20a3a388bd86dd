package agentsdk_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"syscall"

	"github.com/tcpconform/tcpconform/agentsdk"
)

// tinyStack is a stack with one socket, that connects anywhere but to
// port 1. A real backend calls its stack in each method.
type tinyStack struct{}

func (tinyStack) Socket(domain, typ, proto int) (int, error) { return 3, nil }
func (tinyStack) Bind(int, netip.AddrPort) error             { return nil }
func (tinyStack) Listen(int, int) error                      { return syscall.EOPNOTSUPP }
func (tinyStack) Accept(context.Context, int) (int, netip.AddrPort, error) {
	return -1, netip.AddrPort{}, syscall.EINVAL
}
func (tinyStack) Connect(_ context.Context, _ int, to netip.AddrPort) error {
	if to.Port() == 1 {
		return syscall.ECONNREFUSED
	}
	return nil
}
func (tinyStack) Read(context.Context, int, int) ([]byte, error)        { return nil, nil }
func (tinyStack) Write(_ context.Context, _ int, b []byte) (int, error) { return len(b), nil }
func (tinyStack) Shutdown(int, int) error                               { return nil }
func (tinyStack) Close(int) error                                       { return nil }
func (tinyStack) SetNonblock(int, bool) error                           { return nil }
func (tinyStack) SetsockoptInt(int, int, int, int) error                { return nil }
func (tinyStack) GetsockoptInt(int, int, int) (int, error)              { return 0, nil }
func (tinyStack) LocalAddr(int) (netip.AddrPort, error) {
	return netip.MustParseAddrPort("192.0.2.1:40000"), nil
}
func (tinyStack) RemoteAddr(int) (netip.AddrPort, error) {
	return netip.MustParseAddrPort("192.0.2.2:80"), nil
}

// Serve a stack over a pipe, as the harness would over stdin and stdout.
func Example() {
	reqR, reqW := io.Pipe()
	repR, repW := io.Pipe()
	go agentsdk.Serve(reqR, repW, tinyStack{}, agentsdk.Options{Stack: "tiny", Version: "0.1", IPv4: true})
	replies := bufio.NewScanner(repR)
	for _, req := range []string{"", "1 socket inet", "2 connect 3 192.0.2.2 1", "3 connect 3 192.0.2.2 80", "4 send 3 6869", "5 sockname 3", "6 quit"} {
		if req != "" {
			fmt.Fprintln(reqW, req)
		}
		replies.Scan()
		fmt.Println(replies.Text())
	}
	// Output:
	// hello tcpconform-agent 1 tiny 0.1 ipv4 put
	// 1 ok 3
	// 2 err ECONNREFUSED
	// 3 ok
	// 4 ok 2
	// 5 ok 192.0.2.1 40000
	// 6 ok
}
