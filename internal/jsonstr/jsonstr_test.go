package jsonstr_test

import (
	"encoding/json"
	"testing"

	"github.com/propusk/propusk/internal/jsonstr"
)

// TestAppendMatchesMarshal: every string and list is spelled as
// json.Marshal spells it, escapes and invalid UTF-8 included.
func TestAppendMatchesMarshal(t *testing.T) {
	strs := []string{"", "plain", "eyJhbGciOi.x-y_z", `quote"d`, `back\slash`, "<script>&amp;", "line\nbreak",
		"tab\t", "\x00nul", "\x7fdel", "\x1f", "кириллица", "emoji 🙂", "\u2028sep\u2029", "bad \xff\xfe utf-8", "~ !#$%'()*+,-./:;=?@[]^`{|}"}
	for _, s := range strs {
		want, _ := json.Marshal(s)
		if got := jsonstr.Append([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("Append(%q) = %s, want %s", s, got[1:], want)
		}
	}
	for _, l := range [][]string{nil, {}, {"*"}, strs} {
		want, _ := json.Marshal(l)
		if got := jsonstr.AppendList(nil, l); string(got) != string(want) {
			t.Errorf("AppendList(%q) = %s, want %s", l, got, want)
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("a\"b<\xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := jsonstr.Append(nil, s); string(got) != string(want) {
			t.Fatalf("Append(%q) = %s, want %s", s, got, want)
		}
	})
}
