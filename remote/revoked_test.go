package remote

import (
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/token"
)

// TestRevocationsForget: a revoked session is remembered for the retention,
// then forgotten, and the horizon moves past it, so a token of that session
// that somehow outlived the retention is renewed, never accepted.
func TestRevocationsForget(t *testing.T) {
	const now = 1_000_000
	r := newRevocations(time.Hour)
	at := func(s int64) *token.NumericDate { return token.NewNumericDate(time.Unix(s, 0)) }
	r.revoke("old", now-2*3600, now-2*3600) // revoked two hours ago, seen then
	r.revoke("new", now-10, now)            // prunes "old"
	for _, tc := range []struct {
		name string
		sid  string
		iat  int64
		code string
	}{
		{"fail/old-session-long-lived-token", "old", now - 3*3600, propusk.ETOKENEXPIRED},
		{"fail/recent-revocation", "new", now - 20, propusk.ETOKENINVALID},
		{"ok/other-session-after-horizon", "other", now - 20, ""},
		{"fail/other-session-before-horizon", "other", now - 3*3600, propusk.ETOKENEXPIRED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := propusk.ErrorCode(r.check(tc.sid, at(tc.iat))); got != tc.code {
				t.Fatalf("check = %q, want %q", got, tc.code)
			}
		})
	}
	if _, ok := r.sessions["old"]; ok {
		t.Fatal("a session past the retention is still held")
	}
	r.reset(now)
	if got := propusk.ErrorCode(r.check("other", at(now-1))); got != propusk.ETOKENEXPIRED {
		t.Fatalf("after a reset, a token issued before it: %q", got)
	}
	if got := propusk.ErrorCode(r.check("other", at(now))); got != "" {
		t.Fatalf("after a reset, a token issued in its second: %q", got)
	}
}
