package web

import (
	"bytes"
	"encoding/json"
	"net/http"
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

// TestCookieLineMatchesNetHTTP: the hand-written Set-Cookie line is the
// one net/http writes for the same cookie, and every cookie the fast
// spelling does not cover is left to net/http.
func TestCookieLineMatchesNetHTTP(t *testing.T) {
	exp := time.Date(2031, 2, 3, 4, 5, 6, 0, time.FixedZone("x", 3600))
	cases := []http.Cookie{
		{Name: "accessToken", Value: "eyJh.eyJl.sig-_", Path: "/", Expires: exp, MaxAge: 900, HttpOnly: true, SameSite: http.SameSiteLaxMode},
		{Name: "__Host-refreshToken", Value: "a.b.c", Path: "/", Expires: exp, MaxAge: 1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode},
		{Name: "XSRF-TOKEN", Value: "abc~def!#$%&'()*+-./:<=>?@[]^_`{|}", Path: "/", Expires: exp, MaxAge: 86400, SameSite: http.SameSiteLaxMode},
		{Name: "accessToken", Value: "with space", Path: "/", Expires: exp, MaxAge: 5, SameSite: http.SameSiteLaxMode},
		{Name: "accessToken", Value: "comma,value", Path: "/", Expires: exp, MaxAge: 5, SameSite: http.SameSiteLaxMode},
		{Name: "accessToken", Value: "bad\"quote;semi\\\x7f\xff", Path: "/", Expires: exp, MaxAge: 5, SameSite: http.SameSiteLaxMode},
		{Name: "accessToken", Value: "", Path: "/", MaxAge: -1, SameSite: http.SameSiteLaxMode},
		{Name: "accessToken", Value: "v", Path: "/", Expires: time.Time{}, MaxAge: 5, SameSite: http.SameSiteLaxMode},
		{Name: "accessToken", Value: "v", Path: "/sub", Expires: exp, MaxAge: 5, SameSite: http.SameSiteStrictMode},
	}
	for _, c := range cases {
		if got, want := cookieLine(&c), c.String(); got != want {
			t.Errorf("cookieLine(%+v)\n = %s\nwant %s", c, got, want)
		}
	}
	// Expiries spelled from the cache of recent seconds, and past it:
	// every second of a day and of the next month, each twice, with
	// fractions, in a zone other than UTC.
	c := cases[0]
	for _, start := range []time.Time{exp, exp.AddDate(0, 1, 0).Add(-15 * time.Minute)} {
		for i := range 2 * 86400 {
			c.Expires = start.Add(time.Duration(i/2)*time.Second + time.Duration(i%2)*999*time.Millisecond)
			if got, want := cookieLine(&c), c.String(); got != want {
				t.Fatalf("cookieLine for Expires %v\n = %s\nwant %s", c.Expires, got, want)
			}
		}
	}
}
