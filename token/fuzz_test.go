package token_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/propusk/propusk"
)

// FuzzVerify feeds arbitrary strings, seeded with the hostile fixtures, to
// both verifiers: they must never panic, never accept anything but the
// genuine fixtures, and always fail with a token error a client can read.
func FuzzVerify(f *testing.F) {
	b, err := os.ReadFile("testdata/hostile.json")
	if err != nil {
		f.Fatal(err)
	}
	var cases []hostile
	if err := json.Unmarshal(b, &cases); err != nil {
		f.Fatal(err)
	}
	genuine, genuineRefresh := "", ""
	for _, c := range cases {
		f.Add(c.Token)
		switch c.Name {
		case "ok/genuine":
			genuine = c.Token
		case "fail/refresh-as-access":
			genuineRefresh = c.Token
		}
	}
	tk, _ := fixtureTokens(f)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := tk.VerifyAccess(s)
		if err == nil {
			if s != genuine || c.SessionID == "" {
				t.Fatalf("accepted %q", s)
			}
		} else if code := propusk.ErrorCode(err); code != propusk.ETOKENINVALID && code != propusk.ETOKENEXPIRED {
			t.Fatalf("VerifyAccess(%q): code %q", s, code)
		}
		if _, err := tk.VerifyRefresh(s); err == nil {
			if s == genuineRefresh {
				return
			}
			t.Fatalf("VerifyRefresh accepted %q", s)
		} else if propusk.ErrorCode(err) != propusk.ETOKENINVALID {
			t.Fatalf("VerifyRefresh(%q): %v", s, err)
		}
	})
}
