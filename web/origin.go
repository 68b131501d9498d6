package web

import (
	"net/http"
	"net/url"
)

// site is where a request says it came from.
type site int

const (
	// siteUnknown: no Sec-Fetch-Site, Origin or Referer. curl, a browser
	// that sends none of them, or one whose user turned the Referer off;
	// such requests keep working as ever, since refusing them would break
	// clients that cannot be a cross-site page.
	siteUnknown site = iota
	// siteFirstParty: this server's own origin, a configured first-party
	// origin, or the user's own action (Sec-Fetch-Site: none).
	siteFirstParty
	// siteForeign: a page of any other origin, same-site ones included.
	siteForeign
)

// origins decides where a request came from, once, for every check that
// needs to know: the origin check of state changes, and whether a GET may
// set cookies.
type origins struct {
	cop     *http.CrossOriginProtection // Sec-Fetch-Site and Origin, as Go decides them
	trusted map[string]bool             // the StatefulOrigins, for Referer
}

func newOrigins(trusted []string) (*origins, error) {
	o := &origins{cop: http.NewCrossOriginProtection(), trusted: map[string]bool{}}
	for _, t := range trusted {
		if err := o.cop.AddTrustedOrigin(t); err != nil {
			return nil, err
		}
		o.trusted[t] = true
	}
	return o, nil
}

// site classifies r, whatever its method. Sec-Fetch-Site and Origin decide
// when either is present, by http.CrossOriginProtection's rules. Browsers
// too old for Fetch Metadata send no Origin on a GET either, so without
// both the Referer decides: a page of another origin names itself there
// (the default referrer policy keeps the origin on cross-origin requests).
// A Referer that does not parse as an absolute URL is foreign: no browser
// sends one.
func (o *origins) site(r *http.Request) site {
	if r.Header.Get("Sec-Fetch-Site") != "" || r.Header.Get("Origin") != "" {
		probe := r
		if safeMethod(r.Method) {
			// CrossOriginProtection passes safe methods unexamined; the
			// question here is the origin, not the method.
			probe = r.WithContext(r.Context())
			probe.Method = http.MethodPost
		}
		if o.cop.Check(probe) != nil {
			return siteForeign
		}
		return siteFirstParty
	}
	ref := r.Header.Get("Referer")
	if ref == "" {
		return siteUnknown
	}
	u, err := url.Parse(ref)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return siteForeign
	}
	// The host alone is compared, as CrossOriginProtection does with
	// Origin: behind a TLS-terminating proxy the request's scheme is not
	// the page's.
	if u.Host == r.Host || o.trusted[u.Scheme+"://"+u.Host] {
		return siteFirstParty
	}
	return siteForeign
}

// topLevelNavigation reports whether r is a browser loading a page in its
// own window, as opposed to an image, a script's fetch or a frame. Only
// such a request may turn a token from its URL or body into the browser's
// cookies: an image or a frame on a page that shows user content could
// otherwise sign every viewer into someone else's session. A request
// without Fetch Metadata (an old browser, curl) cannot say, and counts as
// one unless its Referer is foreign.
func (o *origins) topLevelNavigation(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "" {
		return o.site(r) != siteForeign
	}
	return r.Header.Get("Sec-Fetch-Site") == "same-origin" &&
		r.Header.Get("Sec-Fetch-Mode") == "navigate" &&
		r.Header.Get("Sec-Fetch-Dest") == "document"
}
