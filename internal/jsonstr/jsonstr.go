// Package jsonstr appends JSON strings exactly as encoding/json spells
// them, without reflection, for the answers and tokens written on every
// request (see docs/DESIGN.md, "Hot paths").
package jsonstr

import "encoding/json"

// Append appends s to b as a JSON string, byte for byte as json.Marshal
// writes it. The strings of the hot paths (tokens, ids, board names) are
// nearly always printable ASCII that needs no escaping and are copied as
// they are; any other goes through encoding/json, whose rules (HTML
// characters, invalid UTF-8, U+2028 and U+2029) are then followed exactly.
func Append(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plain[s[i]] {
			q, _ := json.Marshal(s) // a string: cannot fail
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plain holds the bytes encoding/json copies into a string as they are:
// printable ASCII but for '"', '\\' and the HTML characters. One lookup a
// byte, where a pair's tokens are about 900 bytes.
var plain = func() (t [256]bool) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

// AppendList appends l as a JSON array of strings, or null when l is nil,
// as json.Marshal writes a []string.
func AppendList(b []byte, l []string) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = Append(b, s)
	}
	return append(b, ']')
}
