package web

import (
	"reflect"
	"testing"
	"unicode/utf8"
)

func newInput() input {
	return input{vals: map[string]string{}, lists: map[string][]string{}, has: map[string]bool{}}
}

// checkPlainJSON: whenever fromPlainJSON reads a body, it reads what
// fromJSON reads from it.
func checkPlainJSON(t *testing.T, body string) bool {
	t.Helper()
	fast, ok := fromPlainJSON(newInput(), []byte(body))
	if !ok {
		return false
	}
	slow, err := fromJSON(newInput(), []byte(body))
	if err != nil {
		t.Errorf("%q: the fast path read %+v, fromJSON refused it: %v", body, fast, err)
		return true
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Errorf("%q: fast path %+v, fromJSON %+v", body, fast, slow)
	}
	return true
}

func TestPlainJSONIsFromJSON(t *testing.T) {
	for _, c := range []struct {
		body string
		fast bool
	}{
		{`{"refreshToken":"eyJh.eyJl.sig"}`, true},
		{" \t\r\n{ \"login\" : \"алиса\" ,\n\"password\":\"p w\" } \n", true},
		{`{}`, true},
		{`{ }`, true},
		{`{"a":null}`, true},
		{`{"a":"x","a":null}`, true},
		{`{"a":null,"a":"x"}`, true},
		{`{"a":"x","a":"y"}`, true},
		{`{"":""}`, true},
		{"{\"a\":\"\x7f\"}", true},
		{`{"a":"x\"y"}`, false},
		{`{"a\u0062":"x"}`, false},
		{`{"a":1}`, false},
		{`{"a":true}`, false},
		{`{"a":["x"]}`, false},
		{`{"a":{"b":"c"}}`, false},
		{`{"a":"x",}`, false},
		{`{"a":"x"} x`, false},
		{`{"a":"x"}{}`, false},
		{`{"a" "x"}`, false},
		{`{"a":"x"`, false},
		{`{"a":nul}`, false},
		{`{"a":nullx}`, false},
		{"{\"a\":\"x\ty\"}", false},
		{`null`, false},
		{`[]`, false},
		{`"x"`, false},
		{``, false},
	} {
		if fast := checkPlainJSON(t, c.body); fast != c.fast {
			t.Errorf("%q: fast path %v, want %v", c.body, fast, c.fast)
		}
	}
}

func FuzzPlainJSON(f *testing.F) {
	for _, s := range []string{`{"refreshToken":"x"}`, `{"a":null,"a":"b"}`, `{ "a" : "b" , "c" : "d" }`, `{"a":"\u00e9"}`, `{"a":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if !utf8.ValidString(body) {
			return // readInput refuses it before either reads it
		}
		checkPlainJSON(t, body)
	})
}
