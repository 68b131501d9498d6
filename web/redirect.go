package web

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SafeRedirect returns target when it is a path on this origin, and "/"
// otherwise. Accepted: it starts with one "/", the next character is neither
// "/" nor "\" (browsers read both "//x" and "/\x" as another host), and it has
// no control characters, spaces or backslashes anywhere (some browsers drop
// tabs and newlines, turning "/\t/x" into "//x"). The check runs on the
// decoded value and again on a second decoding, so "%2F%2Fevil" cannot
// become "//evil" in a browser that decodes once more.
func SafeRedirect(target string) string {
	if !safePath(target) {
		return "/"
	}
	if dec, err := url.PathUnescape(target); err != nil || !safePath(dec) {
		return "/"
	}
	return target
}

func safePath(p string) bool {
	if len(p) == 0 || len(p) > 2048 || p[0] != '/' {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < 0x21 || c == 0x7f || c == '\\' {
			return false
		}
	}
	if !utf8.ValidString(p) {
		return false
	}
	// Invisible and separator characters (U+2028, U+200B, NBSP…) have no
	// business in a path and have fooled URL parsers before.
	return !strings.ContainsFunc(p, func(r rune) bool {
		return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Zs)
	})
}
