package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/propusk/propusk/web"
)

var redirectSeeds = []string{
	"/", "/account", "/b/res/1.html?x=1#p2", "//evil.example", "/\\evil.example", "\\\\evil.example",
	"https://evil.example", "HTTPS://evil.example", "javascript:alert(1)", "data:text/html,x", "evil.example",
	"/%2F%2Fevil.example", "/%5Cevil.example", "/%252F%252Fevil", "/\t/evil.example", "/\r\n/evil.example",
	"/%09/evil.example", "/%0d%0aSet-Cookie:x=y", " /x", "/x y", "/\x00", "/\u2028", "/%E2%80%A8", "%2F%2Fevil", "",
	"/" + strings.Repeat("a", 3000), "/\xff",
}

func TestSafeRedirect(t *testing.T) {
	// "/%252F%252Fevil" decodes once to "/%2F%2Fevil": still a path here.
	ok := map[string]bool{"/": true, "/account": true, "/b/res/1.html?x=1#p2": true, "/%252F%252Fevil": true}
	for _, s := range redirectSeeds {
		got := web.SafeRedirect(s)
		want := "/"
		if ok[s] {
			want = s
		}
		if got != want {
			t.Errorf("SafeRedirect(%q) = %q, want %q", s, got, want)
		}
	}
}

// FuzzSafeRedirect checks the invariant that matters: whatever goes in,
// what comes out is the input or "/", and a browser resolving it against
// this origin stays on this origin, even after one more decoding.
func FuzzSafeRedirect(f *testing.F) {
	for _, s := range redirectSeeds {
		f.Add(s)
	}
	base, _ := url.Parse("https://propusk.example/start")
	f.Fuzz(func(t *testing.T, s string) {
		got := web.SafeRedirect(s)
		if got != "/" && got != s {
			t.Fatalf("SafeRedirect(%q) = %q: neither the input nor /", s, got)
		}
		for _, v := range []string{got, mustUnescape(got)} {
			if v == "" {
				continue
			}
			if strings.HasPrefix(v, "//") || strings.HasPrefix(v, "/\\") || strings.ContainsAny(v, "\\\t\r\n\x00") {
				t.Fatalf("SafeRedirect(%q) = %q: a browser could leave the origin", s, got)
			}
			u, err := base.Parse(v)
			if err == nil && u.Host != base.Host {
				t.Fatalf("SafeRedirect(%q) = %q resolves to host %q", s, got, u.Host)
			}
		}
	})
}

func mustUnescape(s string) string {
	v, err := url.PathUnescape(s)
	if err != nil {
		return ""
	}
	return v
}
