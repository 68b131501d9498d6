package web

import (
	"net/http/httptest"
	"testing"
)

// TestOriginSite is the origin decision, table by table: Sec-Fetch-Site
// present or absent, times Origin, times Referer.
func TestOriginSite(t *testing.T) {
	o, err := newOrigins([]string{"https://app.example"})
	if err != nil {
		t.Fatal(err)
	}
	const self = "http://example.com" // httptest's Host
	cases := []struct {
		name                  string
		fetchSite, orig, refr string
		want                  site
	}{
		// Sec-Fetch-Site present: it and Origin decide; Referer is ignored.
		{"metadata/same-origin", "same-origin", "", "", siteFirstParty},
		{"metadata/same-origin-foreign-referer", "same-origin", "", "http://evil.example/", siteFirstParty},
		{"metadata/none", "none", "", "", siteFirstParty},
		{"metadata/none-foreign-referer", "none", "", "http://evil.example/", siteFirstParty},
		{"metadata/cross-site", "cross-site", "", "", siteForeign},
		{"metadata/cross-site-same-referer", "cross-site", "", self + "/x", siteForeign},
		{"metadata/cross-site-foreign-origin", "cross-site", "http://evil.example", "", siteForeign},
		{"metadata/same-site", "same-site", "", "", siteForeign},
		{"metadata/same-site-trusted-origin", "same-site", "https://app.example", "", siteFirstParty},
		{"metadata/cross-site-trusted-origin", "cross-site", "https://app.example", "", siteFirstParty},
		{"metadata/unknown-value", "bogus", "", "", siteForeign},
		// No Sec-Fetch-Site, Origin present: Origin decides.
		{"origin/same", "", self, "", siteFirstParty},
		{"origin/same-foreign-referer", "", self, "http://evil.example/", siteFirstParty},
		{"origin/foreign", "", "http://evil.example", "", siteForeign},
		{"origin/foreign-same-referer", "", "http://evil.example", self + "/x", siteForeign},
		{"origin/null", "", "null", "", siteForeign},
		{"origin/trusted", "", "https://app.example", "", siteFirstParty},
		// Neither: Referer decides.
		{"referer/same", "", "", self + "/board?page=2", siteFirstParty},
		{"referer/same-host-other-scheme", "", "", "https://example.com/x", siteFirstParty},
		{"referer/foreign", "", "", "http://evil.example/", siteForeign},
		{"referer/foreign-port", "", "", "http://example.com:8080/", siteForeign},
		{"referer/trusted", "", "", "https://app.example/page", siteFirstParty},
		{"referer/unparsable", "", "", "::", siteForeign},
		{"referer/relative", "", "", "/x", siteForeign},
		{"none/curl", "", "", "", siteUnknown},
	}
	for _, c := range cases {
		for _, method := range []string{"GET", "POST"} {
			t.Run(c.name+"/"+method, func(t *testing.T) {
				r := httptest.NewRequest(method, "/api/v1/token.renew", nil)
				for k, v := range map[string]string{"Sec-Fetch-Site": c.fetchSite, "Origin": c.orig, "Referer": c.refr} {
					if v != "" {
						r.Header.Set(k, v)
					}
				}
				if got := o.site(r); got != c.want {
					t.Fatalf("site %d, want %d", got, c.want)
				}
			})
		}
	}
}
