package web

// fromPlainJSON reads body into in as fromJSON would, for the bodies of
// the hot paths: a flat object whose keys and values are strings without
// escapes, or null values ({"refreshToken":"eyJ…"}). It reports false,
// having changed nothing, for any other body (escapes, numbers, lists,
// nesting, anything malformed), which fromJSON then reads or refuses.
// encoding/json's map and RawMessage decoding cost token.renew about a
// twentieth of its server CPU.
func fromPlainJSON(in input, body []byte) (input, bool) {
	type field struct {
		key, val string
		null     bool
	}
	var buf [4]field
	fields := buf[:0]
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return in, false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		i++
	} else {
		for {
			key, j, ok := plainString(body, i)
			if !ok {
				return in, false
			}
			i = skipSpace(body, j)
			if i == len(body) || body[i] != ':' {
				return in, false
			}
			i = skipSpace(body, i+1)
			f := field{key: key}
			if len(body)-i >= 4 && string(body[i:i+4]) == "null" {
				f.null, i = true, i+4
			} else if f.val, i, ok = plainString(body, i); !ok {
				return in, false
			}
			fields = append(fields, f)
			i = skipSpace(body, i)
			if i == len(body) {
				return in, false
			}
			if body[i] == '}' {
				i++
				break
			}
			if body[i] != ',' {
				return in, false
			}
			i = skipSpace(body, i+1)
		}
	}
	if skipSpace(body, i) != len(body) {
		return in, false
	}
	// As a map decodes, the last of repeated keys wins.
	for _, f := range fields {
		in.has[f.key] = true
		if f.null {
			delete(in.vals, f.key)
		} else {
			in.vals[f.key] = f.val
		}
	}
	return in, true
}

// plainString returns the JSON string at body[i:], which must hold no
// escape and no control character, and the index after it.
func plainString(body []byte, i int) (string, int, bool) {
	if i == len(body) || body[i] != '"' {
		return "", i, false
	}
	for j := i + 1; j < len(body); j++ {
		switch c := body[j]; {
		case c == '"':
			return string(body[i+1 : j]), j + 1, true
		case c == '\\' || c < 0x20:
			return "", i, false
		}
	}
	return "", i, false
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(body []byte, i int) int {
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r') {
		i++
	}
	return i
}
