package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/web"
)

// bearerXHR is the header set of a script calling with a bearer token.
func bearerXHR(tok string) map[string]string {
	return withXHR(map[string]string{"Authorization": "Bearer " + tok})
}

// patToken matches "<id>|<secret>" as docs/API.md defines it, without prefix.
var patToken = regexp.MustCompile(`^[1-9][0-9]*\|[A-Za-z0-9]{40}[0-9a-f]{8}$`)

// patEnv is an env with a route that needs an ability, as a library user
// would mount one, and a helper for creating tokens.
type patEnv struct {
	*env
	app *httptest.Server // e.srv plus GET /api/courses needing "courses:read"
}

func newPATEnv(t *testing.T, open func(t *testing.T) propusk.Store) *patEnv {
	e := newEnv(t, open)
	mux := http.NewServeMux()
	mux.Handle("/", e.srv)
	mux.Handle("GET /api/courses", e.srv.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"user":%d}`, propusk.FromContext(r.Context()).UserID)
	}), web.RequireUser(), web.RequireAbility("courses:read")))
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)
	return &patEnv{env: e, app: app}
}

// createToken posts to /api/v1/tokens with auth, wanting 201.
func (e *patEnv) createToken(auth map[string]string, body string) map[string]any {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/tokens", body: body, header: auth})
	if r.StatusCode != http.StatusCreated {
		e.t.Fatalf("create token %s: %d %s", body, r.StatusCode, r.body)
	}
	return r.json(e.t)
}

// courses calls the app's ability-guarded route.
func (e *patEnv) courses(tok string) int {
	e.t.Helper()
	r, err := http.NewRequest("GET", e.app.URL+"/api/courses", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("X-Requested-With", "XMLHttpRequest")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func userID(t *testing.T, e *env, tok string) int64 {
	t.Helper()
	r := e.do(req{method: "GET", path: "/api/v1/user.me", header: bearerXHR(tok)})
	if r.StatusCode != 200 {
		t.Fatalf("user.me: %d %s", r.StatusCode, r.body)
	}
	return int64(r.json(t)["_id"].(float64))
}

func secretPart(tok string) string {
	_, s, _ := strings.Cut(tok, "|")
	return s
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// patFixture is what each case of TestPersonalAccessTokensAPI starts from:
// a server of its own with alice and bob registered, so that a case runs
// the same alone as after the others.
type patFixture struct {
	e          *patEnv
	alice, bob pair
	jwt        map[string]string // alice's access token, sent by a script
}

func newPATFixture(t *testing.T, open func(t *testing.T) propusk.Store) *patFixture {
	t.Helper()
	e := newPATEnv(t, open)
	f := &patFixture{e: e, alice: e.register("alice", "correct horse"), bob: e.register("bob", "correct horse")}
	if !patToken.MatchString(f.alice.api) {
		t.Fatalf("apiToken %q is not <id>|<40 alnum><crc32>", f.alice.api)
	}
	f.jwt = withXHR(map[string]string{"X-Access-Token": f.alice.access})
	return f
}

// createCI creates alice's second token, "ci", with every ability.
func (f *patFixture) createCI() map[string]any {
	return f.e.createToken(f.jwt, `{"name":"ci"}`)
}

func TestPersonalAccessTokensAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		tests := []struct {
			name string
			run  func(t *testing.T, f *patFixture)
		}{
			{"ok/api-token-authenticates", func(t *testing.T, f *patFixture) {
				r := f.e.do(req{method: "GET", path: "/api/v1/user.me", header: bearerXHR(f.alice.api)})
				if r.StatusCode != 200 || r.json(t)["via"] != propusk.ViaAPIToken || r.json(t)["login"] != "alice" {
					t.Fatalf("user.me: %d %s", r.StatusCode, r.body)
				}
			}},
			{"ok/bare-secret", func(t *testing.T, f *patFixture) {
				r := f.e.do(req{method: "GET", path: "/api/v1/user.me", header: bearerXHR(secretPart(f.alice.api))})
				if r.StatusCode != 200 {
					t.Fatalf("bare secret: %d %s", r.StatusCode, r.body)
				}
			}},
			{"ok/create-shows-secret-once", func(t *testing.T, f *patFixture) {
				ci := f.createCI()
				tok, _ := ci["token"].(string)
				if !patToken.MatchString(tok) || !strings.HasPrefix(tok, fmt.Sprintf("%v|", ci["id"])) {
					t.Fatalf("created %v: token %q is not <id>|<secret>", ci, tok)
				}
				if ci["name"] != "ci" || fmt.Sprint(ci["abilities"]) != "[*]" || ci["expires_at"] != nil {
					t.Fatalf("created %v: want name ci, abilities [*], no expiry", ci)
				}
				if userID(t, f.e.env, tok) != userID(t, f.e.env, f.alice.api) {
					t.Fatal("the new token is not alice's")
				}
			}},
			{"ok/list-never-shows-secret", func(t *testing.T, f *patFixture) {
				ci := f.createCI()
				r := f.e.do(req{method: "GET", path: "/api/v1/tokens", header: f.jwt})
				if r.StatusCode != 200 {
					t.Fatalf("list: %d %s", r.StatusCode, r.body)
				}
				list := r.jsonList(t)
				if len(list) != 2 {
					t.Fatalf("list %s: want alice's api-token and ci", r.body)
				}
				for _, tok := range []string{f.alice.api, ci["token"].(string)} {
					for _, leak := range []string{secretPart(tok), sha256Hex(secretPart(tok))} {
						if strings.Contains(string(r.body), leak) {
							t.Fatalf("the list shows a secret or hash: %s", r.body)
						}
					}
				}
				for _, it := range list {
					m := it.(map[string]any)
					for _, k := range []string{"id", "name", "abilities", "last_used_at", "expires_at", "created_at"} {
						if _, ok := m[k]; !ok {
							t.Fatalf("list entry %v lacks %q", m, k)
						}
					}
					if _, ok := m["token"]; ok {
						t.Fatalf("list entry %v has a token field", m)
					}
				}
				if names := fmt.Sprint(list[0].(map[string]any)["name"], " ", list[1].(map[string]any)["name"]); names != "api-token ci" {
					t.Fatalf("names %s", names)
				}
			}},
			{"ok/list-by-api-token", func(t *testing.T, f *patFixture) {
				f.createCI()
				r := f.e.do(req{method: "GET", path: "/api/v1/tokens", header: bearerXHR(f.alice.api)})
				if r.StatusCode != 200 || len(r.jsonList(t)) != 2 {
					t.Fatalf("list: %d %s", r.StatusCode, r.body)
				}
			}},
			{"ok/abilities-and-expiry", func(t *testing.T, f *patFixture) {
				exp := f.e.clock.Now().Add(48 * 3600e9).UTC().Format("2006-01-02T15:04:05Z")
				m := f.e.createToken(f.jwt, `{"name":"reader","abilities":["read"],"expires_at":"`+exp+`"}`)
				if fmt.Sprint(m["abilities"]) != "[read]" || m["expires_at"] != exp {
					t.Fatalf("created %v, want abilities [read], expires_at %s", m, exp)
				}
			}},
			{"fail/no-name", func(t *testing.T, f *patFixture) {
				wantError(t, f.e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":""}`, header: f.jwt}), 400, propusk.EINVALID)
			}},
			{"fail/bad-expiry", func(t *testing.T, f *patFixture) {
				wantError(t, f.e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"x","expires_at":"tomorrow"}`, header: f.jwt}), 400, propusk.EINVALID)
			}},
			{"fail/anonymous", func(t *testing.T, f *patFixture) {
				anon := f.e.obtain()
				wantError(t, f.e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"x"}`, header: withXHR(map[string]string{"X-Access-Token": anon.access})}), 403, propusk.EFORBIDDEN)
				wantError(t, f.e.do(req{method: "GET", path: "/api/v1/tokens", header: xhr}), 403, propusk.ETOKENREQUIRED)
			}},
			{"fail/abilities-never-widen", func(t *testing.T, f *patFixture) {
				reader := f.e.createToken(f.jwt, `{"name":"reader2","abilities":["read","tokens:manage"]}`)["token"].(string)
				for _, body := range []string{`{"name":"x"}`, `{"name":"x","abilities":["*"]}`, `{"name":"x","abilities":["write"]}`} {
					wantError(t, f.e.do(req{method: "POST", path: "/api/v1/tokens", body: body, header: bearerXHR(reader)}), 403, propusk.EFORBIDDEN)
				}
				if m := f.e.createToken(bearerXHR(reader), `{"name":"x","abilities":["read"]}`); fmt.Sprint(m["abilities"]) != "[read]" {
					t.Fatalf("narrowed copy: %v", m)
				}
			}},
			{"fail/account-management-needs-its-ability", func(t *testing.T, f *patFixture) {
				// A token made for an app's API cannot manage the account:
				// not mint tokens, not delete them, not end sessions.
				reader := f.e.createToken(f.jwt, `{"name":"reader3","abilities":["read"]}`)
				tok, id := reader["token"].(string), fmt.Sprint(reader["id"])
				wantError(t, f.e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"x","abilities":["read"]}`, header: bearerXHR(tok)}), 403, propusk.EFORBIDDEN)
				wantError(t, f.e.do(req{method: "DELETE", path: "/api/v1/tokens/" + id, header: bearerXHR(tok)}), 403, propusk.EFORBIDDEN)
				wantError(t, f.e.do(req{method: "DELETE", path: "/api/v1/sessions/" + claims(t, f.alice.access)["sid"].(string), header: bearerXHR(tok)}), 403, propusk.EFORBIDDEN)
				if r := f.e.do(req{method: "GET", path: "/api/v1/tokens", header: bearerXHR(tok)}); r.StatusCode != 200 {
					t.Fatalf("listing needs no extra ability: %d", r.StatusCode)
				}
			}},
			{"fail/lifetime-never-widens", func(t *testing.T, f *patFixture) {
				exp := f.e.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
				short := f.e.createToken(f.jwt, `{"name":"short","abilities":["*"],"expires_at":"`+exp+`"}`)["token"].(string)
				later := f.e.clock.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
				for _, body := range []string{`{"name":"forever"}`, `{"name":"later","expires_at":"` + later + `"}`} {
					wantError(t, f.e.do(req{method: "POST", path: "/api/v1/tokens", body: body, header: bearerXHR(short)}), 403, propusk.EFORBIDDEN)
				}
				sooner := f.e.clock.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339)
				f.e.createToken(bearerXHR(short), `{"name":"sooner","expires_at":"`+sooner+`"}`)
				wantError(t, f.e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"y10k","expires_at":"9999-12-31T23:59:59-23:59"}`, header: f.jwt}), 400, propusk.EINVALID)
			}},
			{"ok/ability-guard", func(t *testing.T, f *patFixture) {
				reader := f.e.createToken(f.jwt, `{"name":"r","abilities":["read"]}`)["token"].(string)
				courses := f.e.createToken(f.jwt, `{"name":"c","abilities":["courses:read"]}`)["token"].(string)
				for _, c := range []struct {
					tok  string
					want int
				}{{reader, 403}, {courses, 200}, {f.alice.api, 200}, {f.alice.access, 200}} {
					if got := f.e.courses(c.tok); got != c.want {
						t.Fatalf("GET /api/courses with %.8s…: %d, want %d", c.tok, got, c.want)
					}
				}
			}},
			{"fail/wrong-checksum", func(t *testing.T, f *patFixture) {
				ci := f.createCI()
				tok := ci["token"].(string)
				last := tok[len(tok)-1]
				bad := tok[:len(tok)-1] + map[bool]string{true: "1", false: "0"}[last == '0']
				wantError(t, f.e.do(req{method: "GET", path: "/api/v1/user.me", header: bearerXHR(bad)}), 403, propusk.ETOKENINVALID)
			}},
			{"fail/pat-in-cookie", func(t *testing.T, f *patFixture) {
				// Cookie authentication needs CSRF checks a bearer token
				// skips, so a token in the cookie is refused outright.
				r := f.e.do(req{method: "GET", path: "/api/v1/user.me", header: xhr, cookies: []*http.Cookie{{Name: "accessToken", Value: f.alice.api}}})
				wantError(t, r, 403, propusk.ETOKENINVALID)
			}},
			{"ok/delete", func(t *testing.T, f *patFixture) {
				ci := f.createCI()
				tok := ci["token"].(string)
				id := fmt.Sprint(ci["id"])
				if r := f.e.do(req{method: "DELETE", path: "/api/v1/tokens/" + id, header: bearerXHR(tok)}); r.StatusCode != 204 {
					t.Fatalf("delete: %d %s", r.StatusCode, r.body)
				}
				wantError(t, f.e.do(req{method: "GET", path: "/api/v1/user.me", header: bearerXHR(tok)}), 403, propusk.ETOKENINVALID)
				wantError(t, f.e.do(req{method: "DELETE", path: "/api/v1/tokens/" + id, header: f.jwt}), 404, propusk.ENOTFOUND)
			}},
			{"fail/delete-others", func(t *testing.T, f *patFixture) {
				bobID := strings.Split(f.bob.api, "|")[0]
				wantError(t, f.e.do(req{method: "DELETE", path: "/api/v1/tokens/" + bobID, header: f.jwt}), 404, propusk.ENOTFOUND)
				wantError(t, f.e.do(req{method: "DELETE", path: "/api/v1/tokens/nope", header: f.jwt}), 404, propusk.ENOTFOUND)
				if r := f.e.do(req{method: "GET", path: "/api/v1/user.me", header: bearerXHR(f.bob.api)}); r.StatusCode != 200 {
					t.Fatalf("bob's token after alice's delete attempt: %d", r.StatusCode)
				}
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { tt.run(t, newPATFixture(t, open)) })
		}
	})
}

func TestAdminReissue(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newPATEnv(t, open)
		if _, err := e.svc.CreateUser(context.Background(), "root", "correct horse", propusk.LevelAdmin, nil); err != nil {
			t.Fatal(err)
		}
		admin := e.login("root", "correct horse")
		alice := e.register("alice", "correct horse")
		uid := userID(t, e.env, alice.api)
		path := fmt.Sprintf("/api/v1/admin/users/%d/api-token", uid)
		adminJWT := withXHR(map[string]string{"X-Access-Token": admin.access})
		reissuer := e.createToken(adminJWT, `{"name":"shop","abilities":["tokens:reissue"]}`)["token"].(string)
		reader := e.createToken(adminJWT, `{"name":"r","abilities":["read"]}`)["token"].(string)

		reissue := func(t *testing.T, h map[string]string, reason string) string {
			t.Helper()
			r := e.do(req{method: "POST", path: path, body: `{"reason":"` + reason + `"}`, header: h})
			if r.StatusCode != 201 {
				t.Fatalf("reissue: %d %s", r.StatusCode, r.body)
			}
			tok, _ := r.json(t)["apiToken"].(string)
			if !patToken.MatchString(tok) {
				t.Fatalf("apiToken %q", tok)
			}
			return tok
		}
		current := alice.api
		tests := []struct {
			name string
			run  func(t *testing.T)
		}{
			{"ok/admin-jwt", func(t *testing.T) {
				next := reissue(t, adminJWT, "course_purchase")
				wantError(t, e.do(req{method: "GET", path: "/api/v1/user.me", header: bearerXHR(current)}), 403, propusk.ETOKENINVALID)
				if userID(t, e.env, next) != uid {
					t.Fatal("the new api-token is not alice's")
				}
				current = next
			}},
			{"ok/pat-with-tokens-reissue", func(t *testing.T) {
				next := reissue(t, bearerXHR(reissuer), "tariff_payment")
				wantError(t, e.do(req{method: "GET", path: "/api/v1/user.me", header: bearerXHR(current)}), 403, propusk.ETOKENINVALID)
				current = next
			}},
			{"ok/admin-api-token-star", func(t *testing.T) {
				current = reissue(t, bearerXHR(admin.api), "course_purchase")
			}},
			{"ok/account-meta-carries-current", func(t *testing.T) {
				r := e.do(req{method: "GET", path: "/account", header: map[string]string{"X-Access-Token": alice.access}})
				if r.StatusCode != 200 {
					t.Fatalf("/account: %d %s", r.StatusCode, r.body)
				}
				if !strings.Contains(string(r.body), `<meta name="api-token" content="`+current+`">`) {
					t.Fatalf("/account lacks the current api-token %q:\n%s", current, r.body)
				}
				if !regexp.MustCompile(`<meta name="csrf-token" content="[^"]+">`).Match(r.body) {
					t.Fatalf("/account lacks the csrf-token meta tag:\n%s", r.body)
				}
			}},
			{"ok/old-hand-named-kept", func(t *testing.T) {
				r := e.do(req{method: "GET", path: "/api/v1/tokens", header: bearerXHR(current)})
				if n := len(r.jsonList(t)); n != 1 {
					t.Fatalf("alice has %d tokens after reissues, want 1: %s", n, r.body)
				}
			}},
			{"fail/pat-without-ability", func(t *testing.T) {
				wantError(t, e.do(req{method: "POST", path: path, body: `{"reason":"course_purchase"}`, header: bearerXHR(reader)}), 403, propusk.EFORBIDDEN)
			}},
			{"fail/level-10", func(t *testing.T) {
				wantError(t, e.do(req{method: "POST", path: path, body: `{"reason":"course_purchase"}`, header: bearerXHR(current)}), 403, propusk.EFORBIDDEN)
				wantError(t, e.do(req{method: "POST", path: path, body: `{"reason":"course_purchase"}`, header: withXHR(map[string]string{"X-Access-Token": alice.access})}), 403, propusk.EFORBIDDEN)
			}},
			{"fail/no-token", func(t *testing.T) {
				wantError(t, e.do(req{method: "POST", path: path, body: `{"reason":"course_purchase"}`, header: xhr}), 403, propusk.ETOKENREQUIRED)
			}},
			{"fail/unknown-user", func(t *testing.T) {
				wantError(t, e.do(req{method: "POST", path: "/api/v1/admin/users/999999/api-token", body: `{"reason":"course_purchase"}`, header: adminJWT}), 404, propusk.ENOTFOUND)
				wantError(t, e.do(req{method: "POST", path: "/api/v1/admin/users/x/api-token", body: `{"reason":"course_purchase"}`, header: adminJWT}), 404, propusk.ENOTFOUND)
			}},
			{"fail/bad-reason", func(t *testing.T) {
				wantError(t, e.do(req{method: "POST", path: path, body: `{"reason":"a b"}`, header: adminJWT}), 400, propusk.EINVALID)
			}},
			{"ok/current-still-works", func(t *testing.T) {
				if userID(t, e.env, current) != uid {
					t.Fatal("current api-token broken by refused requests")
				}
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, tt.run)
		}
	})
}

func TestBootstrapJS(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newEnv(t, open)
		r := e.do(req{method: "GET", path: "/assets/bootstrap.js"})
		if r.StatusCode != 200 {
			t.Fatalf("bootstrap.js: %d", r.StatusCode)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Fatalf("Content-Type %q, want text/javascript", ct)
		}
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
			t.Fatalf("Cache-Control %q, want a max-age", cc)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatal("bootstrap.js without nosniff")
		}
		for _, want := range []string{`meta[name="api-token"]`, `axios.defaults.headers.common['Authorization']`, `'Bearer '`} {
			if !strings.Contains(string(r.body), want) {
				t.Fatalf("bootstrap.js lacks %s", want)
			}
		}
		wantError(t, e.do(req{method: "GET", path: "/assets/nope.js"}), 404, propusk.ENOTFOUND)
	})
}

// TestReissueNarrows: the admin hook only ever narrows. Through a personal
// access token holding only tokens:reissue it reaches accounts below the
// caller's level, never the caller's own nor an equal or higher one, and
// the token it mints never outlives the caller's.
func TestReissueNarrows(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newPATEnv(t, open)
		ctx := context.Background()
		for _, u := range []struct {
			login string
			level int
		}{{"root", propusk.LevelAdmin}, {"peer", propusk.LevelAdmin}, {"owner", 50}} {
			if _, err := e.svc.CreateUser(ctx, u.login, "correct horse", u.level, nil); err != nil {
				t.Fatal(err)
			}
		}
		root := e.login("root", "correct horse")
		peer := e.login("peer", "correct horse")
		owner := e.login("owner", "correct horse")
		alice := e.register("alice", "correct horse")
		rootJWT := withXHR(map[string]string{"X-Access-Token": root.access})
		hour := e.clock.Now().Add(time.Hour).UTC().Truncate(time.Second)
		shortPAT := e.createToken(rootJWT, `{"name":"shop","abilities":["tokens:reissue"],"expires_at":"`+hour.Format(time.RFC3339)+`"}`)["token"].(string)
		forever := e.createToken(rootJWT, `{"name":"shop2","abilities":["tokens:reissue"]}`)["token"].(string)

		ids := map[string]int64{}
		for _, tok := range []string{root.api, peer.api, owner.api, alice.api} {
			ids[tok] = userID(t, e.env, tok)
		}
		path := func(tok string) string { return fmt.Sprintf("/api/v1/admin/users/%d/api-token", ids[tok]) }
		body := `{"reason":"course_purchase"}`
		for _, c := range []struct {
			name   string
			caller map[string]string
			target string
		}{
			{"self-through-pat", bearerXHR(shortPAT), root.api},
			{"self-through-jwt", rootJWT, root.api},
			{"equal-level-through-pat", bearerXHR(shortPAT), peer.api},
			{"equal-level-through-jwt", rootJWT, peer.api},
			{"higher-level-through-pat", bearerXHR(shortPAT), owner.api},
			{"higher-level-through-star-api-token", bearerXHR(root.api), owner.api},
		} {
			t.Run("fail/"+c.name, func(t *testing.T) {
				before := e.do(req{method: "GET", path: "/api/v1/tokens", header: bearerXHR(c.target)}).body
				wantError(t, e.do(req{method: "POST", path: path(c.target), body: body, header: c.caller}), 403, propusk.EFORBIDDEN)
				after := e.do(req{method: "GET", path: "/api/v1/tokens", header: bearerXHR(c.target)}).body
				if string(before) != string(after) {
					t.Fatalf("a refused reissue changed the target's tokens:\n%s\n%s", before, after)
				}
			})
		}
		expiry := func(t *testing.T, tok string) any {
			t.Helper()
			for _, x := range e.do(req{method: "GET", path: "/api/v1/tokens", header: bearerXHR(tok)}).jsonList(t) {
				if m := x.(map[string]any); m["name"] == "api-token" {
					return m["expires_at"]
				}
			}
			t.Fatalf("no api-token listed")
			return nil
		}
		t.Run("ok/short-pat-caps-lifetime", func(t *testing.T) {
			r := e.do(req{method: "POST", path: path(alice.api), body: body, header: bearerXHR(shortPAT)})
			if r.StatusCode != 201 {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
			tok := r.json(t)["apiToken"].(string)
			got, _ := expiry(t, tok).(string)
			at, err := time.Parse(time.RFC3339, got)
			if err != nil || at.After(hour) {
				t.Fatalf("minted api-token expires %q, after the caller's %s", got, hour)
			}
			ids[tok] = ids[alice.api]
			alice.api = tok
		})
		t.Run("ok/permanent-pat-keeps-default", func(t *testing.T) {
			r := e.do(req{method: "POST", path: path(alice.api), body: body, header: bearerXHR(forever)})
			if r.StatusCode != 201 {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
			tok := r.json(t)["apiToken"].(string)
			if got := expiry(t, tok); got != nil {
				t.Fatalf("api-token expires %v, want never (the default)", got)
			}
		})
	})
}
