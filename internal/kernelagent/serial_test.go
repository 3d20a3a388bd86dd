package kernelagent

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// A terminal opened as the control line is raw: no echo, no line editing,
// no CR-LF translation.
func TestOpenSerialMakesATerminalRaw(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	line, err := OpenSerial("/dev/pts/"+strconv.Itoa(n), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer line.Close()
	tio, err := unix.IoctlGetTermios(int(line.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&(unix.ECHO|unix.ICANON) != 0 || tio.Iflag&unix.ICRNL != 0 || tio.Oflag&unix.OPOST != 0 {
		t.Errorf("not raw: lflag %#x iflag %#x oflag %#x", tio.Lflag, tio.Iflag, tio.Oflag)
	}
	if _, err := line.WriteString("1 ok\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	got, err := ptmx.Read(buf)
	if err != nil || string(buf[:got]) != "1 ok\n" {
		t.Errorf("the other end read %q, %v; want %q (no CR added)", buf[:got], err, "1 ok\n")
	}
}
