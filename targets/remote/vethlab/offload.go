package vethlab

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// noOffloads turns off the interface's checksum, scatter-gather,
// segmentation and receive offloads (what `ethtool -K IFACE tx off sg off
// tso off gso off gro off` does), in the calling thread's namespace: a veth
// would otherwise hand the other end segments of up to 64 KB with their
// checksums left to a NIC that is not there.
func noOffloads(iface string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, cmd := range []struct {
		num  uint32
		name string
	}{{unix.ETHTOOL_STXCSUM, "tx"}, {unix.ETHTOOL_SSG, "sg"}, {unix.ETHTOOL_STSO, "tso"}, {unix.ETHTOOL_SGSO, "gso"}, {unix.ETHTOOL_SGRO, "gro"}} {
		// struct ethtool_value (linux/ethtool.h) behind an ifreq's data
		// pointer.
		val := struct{ cmd, data uint32 }{cmd.num, 0}
		var ifr struct {
			name [unix.IFNAMSIZ]byte
			data unsafe.Pointer
			_    [16]byte
		}
		copy(ifr.name[:], iface)
		ifr.data = unsafe.Pointer(&val)
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
			return fmt.Errorf("%s: turn off %s offload: %w", iface, cmd.name, errno)
		}
	}
	return nil
}
