package wire

import (
	"encoding/binary"
	"errors"
)

// CompleteTCPChecksum writes the TCP checksum (RFC 9293 section 3.1) of a raw
// IP datagram that carries TCP directly, in place, whatever the field held:
// what a device with checksum offload does to a segment the stack left the
// sum to it for.
func CompleteTCPChecksum(b []byte) error {
	var tcp []byte
	var pseudo uint16
	switch {
	case len(b) >= 20 && b[0]>>4 == 4 && b[9] == 6:
		hl := int(b[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(b[2:]))
		if hl < 20 || total < hl+20 || total > len(b) {
			return errors.New("wire: IPv4 lengths do not hold a TCP header")
		}
		tcp = b[hl:total]
		pseudo = onesSum(onesSum(0, b[12:20]), []byte{0, 6, byte(len(tcp) >> 8), byte(len(tcp))})
	case len(b) >= 40 && b[0]>>4 == 6 && b[6] == 6:
		n := int(binary.BigEndian.Uint16(b[4:]))
		if n < 20 || 40+n > len(b) {
			return errors.New("wire: IPv6 payload length does not hold a TCP header")
		}
		tcp = b[40 : 40+n]
		pseudo = onesSum(onesSum(0, b[8:40]), []byte{0, 0, byte(n >> 8), byte(n), 0, 0, 0, 6})
	default:
		return errors.New("wire: not an IP datagram carrying TCP")
	}
	tcp[16], tcp[17] = 0, 0
	binary.BigEndian.PutUint16(tcp[16:], ^onesSum(pseudo, tcp))
	return nil
}
