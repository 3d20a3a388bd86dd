package kernelagent

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// OpenSerial opens a serial line (or any character device) read-write for
// the control channel and, if it is a terminal, makes it raw (cfmakeraw,
// plus CLOCAL so that no modem line matters). logf hears about a device
// that is not a terminal.
func OpenSerial(path string, logf func(string, ...any)) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		logf("%s is not a terminal (%v); using it as it is", path, err)
		return os.NewFile(uintptr(fd), path), nil
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8 | unix.CLOCAL | unix.CREAD
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		logf("raw mode on %s: %v", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// Conn is one control connection: requests in, replies out.
type Conn struct {
	io.Reader
	io.Writer
}
