//go:build linux

package guestinit

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"
)

// The expected messages are written out for a little-endian machine, as
// the guest (amd64) is.
func littleEndian(t *testing.T) {
	t.Helper()
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("expected bytes are little-endian")
	}
}

// unhex reads hex with spaces and line breaks for readability.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %x\nwant %x", what, got, want)
	}
}

func TestNewMacvlanRequest(t *testing.T) {
	littleEndian(t)
	got := newMacvlanRequest(7, "tcstack0", 2, 9)
	// Header, ifinfomsg (all zero), IFLA_IFNAME "tcstack0" (padded),
	// IFLA_LINK 2, IFLA_NET_NS_FD 9, and IFLA_LINKINFO (nested) holding
	// IFLA_INFO_KIND "macvlan" and IFLA_INFO_DATA (nested) holding
	// IFLA_MACVLAN_MODE passthru (8).
	want := unhex(t, `
		5c000000 1000 0506 07000000 00000000
		00 00 0000 00000000 00000000 00000000
		0d00 0300 7463737461636b30 00 000000
		0800 0500 02000000
		0800 1c00 09000000
		1c00 1280
		  0c00 0100 6d6163766c616e00
		  0c00 0280
		    0800 0100 08000000
	`)
	checkBytes(t, "RTM_NEWLINK macvlan", got, want)
	if l := binary.NativeEndian.Uint32(got); int(l) != len(got) {
		t.Errorf("nlmsg_len %d, message %d bytes", l, len(got))
	}
}

func TestMoveLinkRequest(t *testing.T) {
	littleEndian(t)
	checkBytes(t, "RTM_SETLINK netns", moveLinkRequest(3, 5, 12), unhex(t, `
		28000000 1300 0500 03000000 00000000
		00 00 0000 05000000 00000000 00000000
		0800 1c00 0c000000
	`))
}

func TestDelLinkRequest(t *testing.T) {
	littleEndian(t)
	checkBytes(t, "RTM_DELLINK", delLinkRequest(4, 6), unhex(t, `
		20000000 1100 0500 04000000 00000000
		00 00 0000 06000000 00000000 00000000
	`))
}

func TestNewAddr6Request(t *testing.T) {
	littleEndian(t)
	got := newAddr6Request(8, 3, netip.MustParsePrefix("2001:db8::1/64"))
	checkBytes(t, "RTM_NEWADDR", got, unhex(t, `
		34000000 1400 0506 08000000 00000000
		0a 40 02 00 03000000
		1400 0200 20010db8000000000000000000000001
		0800 0800 02000000
	`))
}

// ack builds an NLMSG_ERROR message for request seq: the error, the
// request's header (capped) or all of it, and extended ack attributes.
func ack(seq uint32, code int32, request []byte, capped bool, tlvs ...[]byte) []byte {
	var body []byte
	body = binary.NativeEndian.AppendUint32(body, uint32(code))
	var flags uint16
	if capped {
		body = append(body, request[:syscall.SizeofNlMsghdr]...)
		flags |= nlmFCapped
	} else {
		body = append(body, request...)
	}
	if len(tlvs) > 0 {
		flags |= nlmFAckTLVs
		body = append(body, concat(tlvs)...)
	}
	return nlMessage(syscall.NLMSG_ERROR, flags, seq, body)
}

func TestParseAck(t *testing.T) {
	req := delLinkRequest(42, 6)
	other := nlMessage(syscall.RTM_NEWLINK, 0, 41, ifInfomsg(1))
	msg := nlAttrString(nlmsgerrAttrMsg, "Unknown device type")
	offs := nlAttrU32(nlmsgerrAttrOffs, 20)
	for _, c := range []struct {
		name  string
		b     []byte
		found bool
		errno syscall.Errno // 0: success
		msg   string
	}{
		{"success", ack(42, 0, req, true), true, 0, ""},
		{"success after another message", append(other, ack(42, 0, req, true)...), true, 0, ""},
		{"another request's ack", ack(41, 0, req, true), false, 0, ""},
		{"refused", ack(42, -int32(syscall.ENODEV), req, true), true, syscall.ENODEV, ""},
		{"refused, capped, with a message", ack(42, -int32(syscall.EOPNOTSUPP), req, true, offs, msg), true, syscall.EOPNOTSUPP, "Unknown device type"},
		{"refused, uncapped, with a message", ack(42, -int32(syscall.EBUSY), req, false, msg), true, syscall.EBUSY, "Unknown device type"},
		{"refused, TLVs without a message", ack(42, -int32(syscall.EEXIST), req, true, offs), true, syscall.EEXIST, ""},
	} {
		found, err := parseAck(c.b, 42)
		if found != c.found {
			t.Errorf("%s: found %v, want %v", c.name, found, c.found)
			continue
		}
		if c.errno == 0 {
			if err != nil {
				t.Errorf("%s: %v, want success", c.name, err)
			}
			continue
		}
		var ne *nlError
		if !errors.As(err, &ne) || ne.errno != c.errno || ne.msg != c.msg {
			t.Errorf("%s: %#v, want errno %v, message %q", c.name, err, c.errno, c.msg)
		}
		if !errors.Is(err, c.errno) {
			t.Errorf("%s: %v does not unwrap to %v", c.name, err, c.errno)
		}
	}
}

func TestParseAckMalformed(t *testing.T) {
	good := ack(1, 0, delLinkRequest(1, 2), true)
	for _, b := range [][]byte{
		good[:10],               // shorter than a header
		good[:len(good)-4],      // nlmsg_len beyond the buffer
		nlMessage(2, 0, 1, nil), // an NLMSG_ERROR without its nlmsgerr
	} {
		if _, err := parseAck(b, 1); err == nil {
			t.Errorf("parseAck(%x) took a malformed reply", b)
		}
	}
	// nlmsg_len below the header size.
	bad := append([]byte(nil), good...)
	binary.NativeEndian.PutUint32(bad, 8)
	if _, err := parseAck(bad, 1); err == nil {
		t.Errorf("parseAck took nlmsg_len 8")
	}
}

func TestNlErrorMessage(t *testing.T) {
	e := &nlError{errno: syscall.EOPNOTSUPP, msg: "Unknown device type"}
	if s := e.Error(); !strings.Contains(s, "not supported") || !strings.Contains(s, "Unknown device type") {
		t.Errorf("%q", s)
	}
}
