package web

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/propusk/propusk"
)

// FuzzMeJSON: user.me's hand-written answer is, byte for byte, what
// encoding/json writes for the same body, whatever the login, boards and
// via hold (quotes, control characters, HTML, U+2028, invalid UTF-8).
func FuzzMeJSON(f *testing.F) {
	for _, s := range []string{"alice", `"quoted" \ back`, "<script>&amp;</script>", "tab\tnew\nline\r\b\f\x00\x1f\x7f",
		"\u2028\u2029", "\xff\xfe invalid", "Ωmega ✓ 😀", "\ufffd", ""} {
		f.Add(int64(42), s, propusk.LevelUser, s, "access-token", true)
	}
	f.Add(int64(-1), "", 0, "*", "cookie", false)
	f.Fuzz(func(t *testing.T, id int64, login string, level int, board, via string, user bool) {
		m := meBody{Login: login, Level: level, Boards: []string{board, "*"}, Via: via}
		if user {
			m.ID = &id
		}
		if board == "" {
			m.Boards = nil
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(m); err != nil {
			t.Fatal(err)
		}
		if got := m.appendJSON(nil); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendJSON:\n%q\nencoding/json:\n%q", got, want.Bytes())
		}
	})
}
