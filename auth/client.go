package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/propusk/propusk"
)

// maxUserAgent bounds the User-Agent kept for a session's row, in bytes.
const maxUserAgent = 256

// clean bounds what a client says about itself before it is stored.
func clean(c propusk.Client) propusk.Client {
	return propusk.Client{UserAgent: printable(c.UserAgent, maxUserAgent), IP: printable(c.IP, 64)}
}

// printable returns s as valid UTF-8 without control characters, cut to at
// most n bytes on a character boundary.
func printable(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) > n {
		s = s[:n]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}
