//go:build linux

package guestinit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// rtnetlink numbers (linux/if_link.h, linux/netlink.h) the syscall package
// does not name.
const (
	iflaNetNSFD      = 28 // IFLA_NET_NS_FD
	iflaInfoKind     = 1  // IFLA_INFO_KIND
	iflaInfoData     = 2  // IFLA_INFO_DATA
	iflaMacvlanMode  = 1  // IFLA_MACVLAN_MODE
	macvlanPassthru  = 8  // MACVLAN_MODE_PASSTHRU
	nlaFNested       = 0x8000
	solNetlink       = 270 // SOL_NETLINK
	netlinkCapAck    = 10  // NETLINK_CAP_ACK
	netlinkExtAck    = 11  // NETLINK_EXT_ACK
	nlmFCapped       = 0x100
	nlmFAckTLVs      = 0x200
	nlmsgerrAttrMsg  = 1 // NLMSGERR_ATTR_MSG
	nlmsgerrAttrOffs = 2 // NLMSGERR_ATTR_OFFS
	ifaFlags         = 8 // IFA_FLAGS
	ifaFNodad        = 0x2
)

func nlAlign(n int) int { return (n + 3) &^ 3 }

// nlAttr is one attribute (struct nlattr and its payload, padded).
func nlAttr(typ uint16, payload []byte) []byte {
	b := make([]byte, nlAlign(4+len(payload)))
	binary.NativeEndian.PutUint16(b[0:], uint16(4+len(payload)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[4:], payload)
	return b
}

func nlAttrU32(typ uint16, v uint32) []byte {
	var p [4]byte
	binary.NativeEndian.PutUint32(p[:], v)
	return nlAttr(typ, p[:])
}

// nlAttrString is a NUL-terminated string attribute.
func nlAttrString(typ uint16, s string) []byte { return nlAttr(typ, append([]byte(s), 0)) }

func nlNested(typ uint16, attrs ...[]byte) []byte {
	return nlAttr(typ|nlaFNested, concat(attrs))
}

func concat(parts [][]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// nlMessage is a netlink message: struct nlmsghdr (the port id 0, the
// kernel's to fill in) and the body.
func nlMessage(typ, flags uint16, seq uint32, body ...[]byte) []byte {
	p := concat(body)
	b := make([]byte, syscall.SizeofNlMsghdr, syscall.SizeofNlMsghdr+len(p))
	binary.NativeEndian.PutUint32(b[0:], uint32(syscall.SizeofNlMsghdr+len(p)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], seq)
	return append(b, p...)
}

// ifInfomsg is struct ifinfomsg for AF_UNSPEC.
func ifInfomsg(index int32) []byte {
	b := make([]byte, syscall.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	return b
}

// newMacvlanRequest asks for a passthru macvlan device called name on the
// device lower (an ifindex in the requesting socket's namespace), created
// straight in the network namespace nsFD refers to. A passthru macvlan
// takes the lower device's MAC address and every frame it receives; there
// can be only one on a device.
func newMacvlanRequest(seq uint32, name string, lower int32, nsFD int) []byte {
	return nlMessage(syscall.RTM_NEWLINK,
		syscall.NLM_F_REQUEST|syscall.NLM_F_ACK|syscall.NLM_F_CREATE|syscall.NLM_F_EXCL, seq,
		ifInfomsg(0),
		nlAttrString(syscall.IFLA_IFNAME, name),
		nlAttrU32(syscall.IFLA_LINK, uint32(lower)),
		nlAttrU32(iflaNetNSFD, uint32(nsFD)),
		nlNested(syscall.IFLA_LINKINFO,
			nlAttrString(iflaInfoKind, "macvlan"),
			nlNested(iflaInfoData, nlAttrU32(iflaMacvlanMode, macvlanPassthru))))
}

// newAddr6Request asks for the IPv6 address and prefix length of pfx on
// the device with that ifindex, without duplicate address detection.
func newAddr6Request(seq uint32, index int32, pfx netip.Prefix) []byte {
	// struct ifaddrmsg: family, prefixlen, flags, scope, index.
	ifa := make([]byte, syscall.SizeofIfAddrmsg)
	ifa[0] = syscall.AF_INET6
	ifa[1] = byte(pfx.Bits())
	ifa[2] = ifaFNodad
	binary.NativeEndian.PutUint32(ifa[4:], uint32(index))
	a := pfx.Addr().As16()
	return nlMessage(syscall.RTM_NEWADDR,
		syscall.NLM_F_REQUEST|syscall.NLM_F_ACK|syscall.NLM_F_CREATE|syscall.NLM_F_EXCL, seq,
		ifa,
		nlAttr(syscall.IFA_LOCAL, a[:]),
		nlAttrU32(ifaFlags, ifaFNodad))
}

// moveLinkRequest asks for the device with that ifindex to move to the
// network namespace nsFD refers to, keeping its name.
func moveLinkRequest(seq uint32, index int32, nsFD int) []byte {
	return nlMessage(syscall.RTM_SETLINK, syscall.NLM_F_REQUEST|syscall.NLM_F_ACK, seq,
		ifInfomsg(index),
		nlAttrU32(iflaNetNSFD, uint32(nsFD)))
}

// delLinkRequest asks for the device with that ifindex to be deleted.
func delLinkRequest(seq uint32, index int32) []byte {
	return nlMessage(syscall.RTM_DELLINK, syscall.NLM_F_REQUEST|syscall.NLM_F_ACK, seq, ifInfomsg(index))
}

// nlError is a request the kernel refused, with its extended ack message if
// it gave one.
type nlError struct {
	errno syscall.Errno
	msg   string
}

func (e *nlError) Error() string {
	if e.msg != "" {
		return e.errno.Error() + " (" + e.msg + ")"
	}
	return e.errno.Error()
}

func (e *nlError) Unwrap() error { return e.errno }

var errNlMalformed = errors.New("malformed netlink reply")

// parseAck looks for the acknowledgement (an NLMSG_ERROR message) of request
// seq among the messages in b. It reports whether it found it and, if so,
// the error it carries: nil for success, an *nlError for a refusal.
func parseAck(b []byte, seq uint32) (bool, error) {
	for len(b) > 0 {
		if len(b) < syscall.SizeofNlMsghdr {
			return false, errNlMalformed
		}
		l := int(binary.NativeEndian.Uint32(b[0:]))
		typ := binary.NativeEndian.Uint16(b[4:])
		flags := binary.NativeEndian.Uint16(b[6:])
		s := binary.NativeEndian.Uint32(b[8:])
		if l < syscall.SizeofNlMsghdr || l > len(b) {
			return false, errNlMalformed
		}
		body := b[syscall.SizeofNlMsghdr:l]
		if typ == syscall.NLMSG_ERROR && s == seq {
			// struct nlmsgerr: int error, then the request's header (or
			// all of the request, without NLM_F_CAPPED), then TLVs.
			if len(body) < 4+syscall.SizeofNlMsghdr {
				return true, errNlMalformed
			}
			code := int32(binary.NativeEndian.Uint32(body[0:]))
			if code == 0 {
				return true, nil
			}
			e := &nlError{errno: syscall.Errno(-code)}
			if code > 0 {
				e.errno = syscall.EIO
			}
			if flags&nlmFAckTLVs != 0 {
				off := 4 + syscall.SizeofNlMsghdr
				if flags&nlmFCapped == 0 {
					off = 4 + nlAlign(int(binary.NativeEndian.Uint32(body[4:])))
				}
				if off <= len(body) {
					e.msg = ackMessage(body[off:])
				}
			}
			return true, e
		}
		if nlAlign(l) >= len(b) {
			break
		}
		b = b[nlAlign(l):]
	}
	return false, nil
}

// ackMessage is the NLMSGERR_ATTR_MSG text among extended ack attributes.
func ackMessage(b []byte) string {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		typ := binary.NativeEndian.Uint16(b[2:]) &^ nlaFNested
		if l < 4 || l > len(b) {
			return ""
		}
		if typ == nlmsgerrAttrMsg {
			return strings.TrimRight(string(b[4:l]), "\x00")
		}
		if nlAlign(l) >= len(b) {
			break
		}
		b = b[nlAlign(l):]
	}
	return ""
}

// rtnl is a NETLINK_ROUTE socket. It belongs to the network namespace of
// the thread that opened it, for good: its requests act there.
type rtnl struct {
	fd  int
	seq uint32
	buf []byte
}

// openRtnl opens a NETLINK_ROUTE socket in the calling thread's network
// namespace.
func openRtnl() (*rtnl, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	// Short acks with the kernel's reason in them; best effort.
	syscall.SetsockoptInt(fd, solNetlink, netlinkCapAck, 1)
	syscall.SetsockoptInt(fd, solNetlink, netlinkExtAck, 1)
	tv := syscall.NsecToTimeval(int64(5 * time.Second))
	syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	return &rtnl{fd: fd, seq: uint32(time.Now().UnixNano()), buf: make([]byte, 16<<10)}, nil
}

func (c *rtnl) close() { syscall.Close(c.fd) }

// nextSeq is the sequence number for the next request.
func (c *rtnl) nextSeq() uint32 {
	c.seq++
	return c.seq
}

// request sends a request built by mk (given its sequence number) and
// waits for its acknowledgement.
func (c *rtnl) request(mk func(seq uint32) []byte) error {
	seq := c.nextSeq()
	if err := syscall.Sendto(c.fd, mk(seq), 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	for {
		n, _, err := syscall.Recvfrom(c.fd, c.buf, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		if found, err := parseAck(c.buf[:n], seq); found || err != nil {
			return err
		}
	}
}
