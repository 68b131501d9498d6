package web

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/propusk/propusk/auth"
)

// TestAppendPairMatchesJSON: the hand-written pair answer is byte for byte
// what encoding/json writes for pairBody, whatever the token prefix puts
// into an api-token.
func TestAppendPairMatchesJSON(t *testing.T) {
	exp := time.Unix(1_900_000_000, 0)
	cases := []struct {
		name string
		p    auth.Pair
	}{
		{"ok/anonymous", auth.Pair{AccessToken: "eyJh.eyJl.sig-_", RefreshToken: "eyJh.eyJm.sig", AccessExpiresAt: exp}},
		{"ok/with-api-token", auth.Pair{AccessToken: "a", RefreshToken: "r", AccessExpiresAt: exp, APIToken: "12|abcDEF123"}},
		{"ok/prefix-needing-escapes", auth.Pair{AccessToken: "a", RefreshToken: "r", AccessExpiresAt: exp, APIToken: `7|<pfx&"\` + "\u2028\xff"}},
		{"ok/zero-time", auth.Pair{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want bytes.Buffer
			json.NewEncoder(&want).Encode(pairBody{AccessToken: c.p.AccessToken, RefreshToken: c.p.RefreshToken,
				Expires: c.p.AccessExpiresAt.Unix(), APIToken: c.p.APIToken})
			if got := appendPair(nil, &c.p); string(got) != want.String() {
				t.Errorf("got  %s\nwant %s", got, want.String())
			}
		})
	}
}
