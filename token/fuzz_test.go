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
	// The fixtures that must verify: "ok/" ones, and the refresh token that
	// fails only as an access token.
	genuine, genuineRefresh := map[string]bool{}, map[string]bool{}
	for _, c := range cases {
		f.Add(c.Token)
		switch {
		case c.Name == "fail/refresh-as-access", c.Refresh && c.Want == "":
			genuineRefresh[c.Token] = true
		case !c.Refresh && c.Want == "":
			genuine[c.Token] = true
		}
	}
	tk, _ := fixtureTokens(f)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := tk.VerifyAccess(s)
		if err == nil {
			if !genuine[s] || c.SessionID == "" {
				t.Fatalf("accepted %q", s)
			}
		} else if code := propusk.ErrorCode(err); code != propusk.ETOKENINVALID && code != propusk.ETOKENEXPIRED {
			t.Fatalf("VerifyAccess(%q): code %q", s, code)
		}
		if _, err := tk.VerifyRefresh(s); err == nil {
			if genuineRefresh[s] {
				return
			}
			t.Fatalf("VerifyRefresh accepted %q", s)
		} else if propusk.ErrorCode(err) != propusk.ETOKENINVALID {
			t.Fatalf("VerifyRefresh(%q): %v", s, err)
		}
	})
}
