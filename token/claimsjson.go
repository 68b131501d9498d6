package token

import "encoding/json"

// decodeClaims decodes the JSON claims b into c (an *AccessClaims or a
// *RefreshClaims, fresh) as json.Unmarshal would, and reports whether it
// could fail. Claims as propusk spells them (appendAccessClaims,
// appendRefreshClaims) are read by hand: every renewal verifies a refresh
// token, and every new access token is verified once, and reflection cost
// each several microseconds. Anything else (an unknown, repeated or
// differently cased key, an escape, a number spelled otherwise) goes to
// json.Unmarshal, which decides.
func decodeClaims(b []byte, c any) error {
	var ok bool
	switch c := c.(type) {
	case *AccessClaims:
		ok = readAccessClaims(b, c)
	case *RefreshClaims:
		ok = readRefreshClaims(b, c)
	}
	if ok {
		return nil
	}
	// The fast path may have set some fields: start again from zero, as
	// json.Unmarshal into a fresh value would.
	switch c := c.(type) {
	case *AccessClaims:
		*c = AccessClaims{}
	case *RefreshClaims:
		*c = RefreshClaims{}
	}
	return json.Unmarshal(b, c)
}

func readAccessClaims(b []byte, c *AccessClaims) bool {
	return readObject(b, func(r *claimReader, key string) bool {
		if known, ok := r.shared(key, &c.ExpiresAt, &c.IssuedAt, &c.NotBefore, &c.ID, &c.SessionID, &c.UserID); known {
			return ok
		}
		switch key {
		case "iss":
			return r.str(&c.Issuer)
		case "sub":
			return r.str(&c.Subject)
		case "level":
			var n int64
			if !r.int(&n) || int64(int(n)) != n {
				return false
			}
			c.Level = int(n)
			return true
		case "boards":
			return r.list(&c.Boards)
		}
		return false
	})
}

func readRefreshClaims(b []byte, c *RefreshClaims) bool {
	return readObject(b, func(r *claimReader, key string) bool {
		if known, ok := r.shared(key, &c.ExpiresAt, &c.IssuedAt, &c.NotBefore, &c.ID, &c.SessionID, &c.UserID); known {
			return ok
		}
		switch key {
		case "typ":
			return r.str(&c.Type)
		case "fork":
			return r.str(&c.Fork)
		case "gen":
			return r.int(&c.Generation)
		}
		return false
	})
}

// shared reads the value of key when it is one of the claims both kinds of
// token have, and reports whether it was (known) and could be read (ok).
func (r *claimReader) shared(key string, exp, iat, nbf **NumericDate, id, sid *string, uid *int64) (known, ok bool) {
	switch key {
	case "exp":
		return true, r.date(exp)
	case "iat":
		return true, r.date(iat)
	case "nbf":
		return true, r.date(nbf)
	case "jti":
		return true, r.str(id)
	case "sid":
		return true, r.str(sid)
	case "_id":
		return true, r.int(uid)
	}
	return false, false
}

// claimReader reads propusk's spelling of JSON: no whitespace, strings of
// printable ASCII without escapes, integers without signs of their own
// but '-', lists of such strings.
type claimReader struct {
	b []byte
	i int
}

// readObject reads b as one object, calling field for each key, which
// must read its value and report whether it could. A key may come once.
func readObject(b []byte, field func(r *claimReader, key string) bool) bool {
	r := &claimReader{b: b}
	if !r.byte('{') {
		return false
	}
	var seen [8]string
	keys := seen[:0]
	if r.byte('}') {
		return r.i == len(b)
	}
	for {
		var key string
		if !r.str(&key) || !r.byte(':') {
			return false
		}
		for _, k := range keys {
			if k == key {
				return false
			}
		}
		keys = append(keys, key)
		if !field(r, key) {
			return false
		}
		if r.byte('}') {
			return r.i == len(b)
		}
		if !r.byte(',') {
			return false
		}
	}
}

func (r *claimReader) byte(c byte) bool {
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// str reads a string that json.Unmarshal would copy as it is.
func (r *claimReader) str(s *string) bool {
	if !r.byte('"') {
		return false
	}
	for j := r.i; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			*s = string(r.b[r.i:j])
			r.i = j + 1
			return true
		case c < 0x20 || c > 0x7e || c == '\\':
			return false
		}
	}
	return false
}

// int reads an integer spelled as strconv.AppendInt spells it.
func (r *claimReader) int(n *int64) bool {
	j, neg := r.i, false
	if j < len(r.b) && r.b[j] == '-' {
		neg = true
		j++
	}
	start := j
	var v int64
	for ; j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9'; j++ {
		if j-start == 18 {
			return false // past what surely fits: json.Unmarshal decides
		}
		v = v*10 + int64(r.b[j]-'0')
	}
	if j == start || r.b[start] == '0' && (j-start > 1 || neg) {
		return false
	}
	if j < len(r.b) && (r.b[j] == '.' || r.b[j] == 'e' || r.b[j] == 'E') {
		return false
	}
	if neg {
		v = -v
	}
	*n, r.i = v, j
	return true
}

// date reads a NumericDate by its own UnmarshalJSON.
func (r *claimReader) date(d **NumericDate) bool {
	j := r.i
	for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
		j++
	}
	if j == r.i || r.b[r.i] == '0' && j-r.i > 1 || j < len(r.b) && (r.b[j] == '.' || r.b[j] == 'e' || r.b[j] == 'E') {
		return false
	}
	nd := new(NumericDate)
	if nd.UnmarshalJSON(r.b[r.i:j]) != nil {
		return false
	}
	*d, r.i = nd, j
	return true
}

// list reads a list of strings, or null.
func (r *claimReader) list(l *[]string) bool {
	if len(r.b)-r.i >= 4 && string(r.b[r.i:r.i+4]) == "null" {
		*l, r.i = nil, r.i+4
		return true
	}
	if !r.byte('[') {
		return false
	}
	out := []string{}
	if r.byte(']') {
		*l = out
		return true
	}
	for {
		var s string
		if !r.str(&s) {
			return false
		}
		out = append(out, s)
		if r.byte(']') {
			*l = out
			return true
		}
		if !r.byte(',') {
			return false
		}
	}
}
