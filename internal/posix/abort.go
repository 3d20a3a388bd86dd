package posix

import "golang.org/x/sys/unix"

// ResetAbortively is Reset with every socket closed abortively (SO_LINGER
// with a zero time: an RST, and nothing left behind in FIN-WAIT or
// TIME-WAIT), for a stack that stays on the same wire from case to case,
// as an agent on a device does: what one case leaves must not answer the
// next one's packets.
func (k *Stack) ResetAbortively() {
	k.mu.Lock()
	for fd := range k.fds {
		unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
	}
	k.mu.Unlock()
	k.Reset()
}
