package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/propusk/propusk"
)

// input is a request's fields, from a JSON object or a urlencoded form,
// whichever the Content-Type names.
type input struct {
	vals  map[string]string
	lists map[string][]string
	has   map[string]bool // the field was present, even as null or an empty list
}

func (in input) str(name string) string { return in.vals[name] }

// list returns a JSON array of strings, or every value of a repeated form field.
func (in input) list(name string) ([]string, bool) {
	if l, ok := in.lists[name]; ok {
		return l, true
	}
	if v, ok := in.vals[name]; ok {
		return []string{v}, true
	}
	return nil, in.has[name]
}

var (
	errBodyTooLarge = propusk.Errorf(propusk.ETOOLARGE, "the request body is too large")
	errMediaType    = propusk.Errorf(propusk.EMEDIATYPE, "send application/json or application/x-www-form-urlencoded")
	errBadJSON      = propusk.Errorf(propusk.EINVALID, "the body is not a JSON object")
	errBadUTF8      = propusk.Errorf(propusk.EINVALID, "the body is not valid UTF-8")
)

// readInput reads at most max bytes of body. An empty body is an empty input
// whatever its type; a non-empty one must be JSON or a urlencoded form.
func readInput(w http.ResponseWriter, r *http.Request, max int64) (input, error) {
	in := input{vals: map[string]string{}, lists: map[string][]string{}, has: map[string]bool{}}
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return in, nil
	}
	if r.PostForm != nil { // parsed already, by the method override
		return fromForm(in, r.PostForm)
	}
	body, err := readAll(w, r, max)
	if err != nil {
		return in, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return in, nil
	}
	if !utf8.Valid(body) {
		return in, errBadUTF8
	}
	mt := r.Header.Get("Content-Type")
	if mt != "application/json" { // the common case needs no parsing
		mt, _, _ = mime.ParseMediaType(mt)
	}
	switch mt {
	case "application/json":
		if in, ok := fromPlainJSON(in, body); ok {
			return in, nil
		}
		return fromJSON(in, body)
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return in, propusk.Errorf(propusk.EINVALID, "the form is malformed")
		}
		return fromForm(in, form)
	default:
		return in, errMediaType
	}
}

func readAll(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errBodyTooLarge
	}
	if err != nil {
		return nil, propusk.Errorf(propusk.EINVALID, "the body could not be read")
	}
	return buf.Bytes(), nil
}

func fromForm(in input, form url.Values) (input, error) {
	for k, vs := range form {
		if !utf8.ValidString(k) {
			return in, errBadUTF8
		}
		in.has[k] = true
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return in, errBadUTF8
			}
		}
		if len(vs) > 0 {
			in.vals[k] = vs[0]
		}
		if len(vs) > 1 {
			in.lists[k] = vs
		}
	}
	return in, nil
}

func fromJSON(in input, body []byte) (input, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return in, errBadJSON
	}
	for k, raw := range obj {
		in.has[k] = true
		switch raw[0] {
		case 'n': // null: present, no value
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return in, errBadJSON
			}
			in.vals[k] = s
		case '[':
			var l []string
			if err := json.Unmarshal(raw, &l); err != nil {
				return in, propusk.Errorf(propusk.EINVALID, "field %q must be a list of strings", k)
			}
			in.lists[k] = l
		default:
			// A number, a boolean or an object: no field propusk reads is
			// one, so it is left out, and a client's extra fields
			// ("remember": true) do no harm. A field propusk needs, sent
			// so, is then missing and answered as such.
		}
	}
	return in, nil
}
