package script

import (
	"bytes"
	"net/netip"
	"strings"
)

// maxIPv6Text bounds the text scanned for an IPv6 address.
const maxIPv6Text = 64

// scanIPv6 returns the end of the longest IPv6 address at i, or 0. To keep
// a sequence range such as 1:1001 from being taken for an address, an
// address needs 8 groups or a "::".
func scanIPv6(b []byte, i int) int {
	j := i
	for j < len(b) && j-i < maxIPv6Text && (isHex(b[j]) || b[j] == ':' || b[j] == '.') {
		j++
	}
	run := b[i:j]
	colons := bytes.Count(run, []byte{':'})
	if colons < 7 && !bytes.Contains(run, []byte("::")) {
		return 0
	}
	for e := len(run); e > 1; e-- {
		s := string(run[:e])
		if strings.Count(s, ":") < 7 && !strings.Contains(s, "::") {
			break
		}
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() {
			return i + e
		}
	}
	return 0
}

// unescape resolves the backslash escapes of a string literal: \n \t \r
// \0 \\ \" \xHH and octal \NNN; any other escaped character stands for
// itself.
func unescape(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 == len(b) {
			out = append(out, c)
			continue
		}
		i++
		switch c = b[i]; c {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'x':
			v, n := 0, 0
			for n < 2 && i+1 < len(b) && isHex(b[i+1]) {
				v = v<<4 | hexVal(b[i+1])
				i++
				n++
			}
			if n == 0 {
				out = append(out, 'x')
				continue
			}
			out = append(out, byte(v))
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for n := 1; n < 3 && i+1 < len(b) && '0' <= b[i+1] && b[i+1] <= '7'; n++ {
				v = v<<3 | int(b[i+1]-'0')
				i++
			}
			out = append(out, byte(v))
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func hexVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// decodeHex decodes an even number of hex digits.
func decodeHex(s string) ([]byte, bool) {
	if len(s)%2 != 0 {
		return nil, false
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		if !isHex(s[2*i]) || !isHex(s[2*i+1]) {
			return nil, false
		}
		out[i] = byte(hexVal(s[2*i])<<4 | hexVal(s[2*i+1]))
	}
	return out, true
}
