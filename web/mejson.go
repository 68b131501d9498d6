package web

import (
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"
)

// user.me is the route scripts call most, and encoding/json's reflection
// was an eighth of propusk's own work on it (BenchmarkUserMe's profile):
// its answer is written by hand here, the same bytes as writeJSON would
// write (FuzzMeJSON compares them).

// meBuffers holds the buffers user.me answers are written in.
var meBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// writeMe answers m with status 200, as writeJSON(w, http.StatusOK, m) does.
func writeMe(w http.ResponseWriter, m *meBody) {
	bp := meBuffers.Get().(*[]byte)
	b := m.appendJSON((*bp)[:0])
	w.Header()["Content-Type"] = jsonContentValue
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b) // the client went away; nothing to do
	if cap(b) <= 4096 {
		*bp = b
		meBuffers.Put(bp)
	}
}

// appendJSON appends m as encoding/json's Encoder writes it, newline included.
func (m *meBody) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if m.ID != nil {
		b = append(b, `"_id":`...)
		b = strconv.AppendInt(b, *m.ID, 10)
		b = append(b, ',')
	}
	if m.Login != "" {
		b = append(b, `"login":`...)
		b = appendJSONString(b, m.Login)
		b = append(b, ',')
	}
	b = append(b, `"level":`...)
	b = strconv.AppendInt(b, int64(m.Level), 10)
	b = append(b, `,"boards":`...)
	if m.Boards == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, s := range m.Boards {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		b = append(b, ']')
	}
	b = append(b, `,"via":`...)
	b = appendJSONString(b, m.Via)
	return append(b, "}\n"...)
}

// appendJSONString appends s as a JSON string escaped as encoding/json
// escapes it by default: quotes, backslashes and control characters; <, >
// and & (a page may embed the answer); U+2028 and U+2029 (JavaScript reads
// them as line ends); and each byte of invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\b':
				b = append(b, `\b`...)
			case c == '\f':
				b = append(b, `\f`...)
			case c == '\n':
				b = append(b, `\n`...)
			case c == '\r':
				b = append(b, `\r`...)
			case c == '\t':
				b = append(b, `\t`...)
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
