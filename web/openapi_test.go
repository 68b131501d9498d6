package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/missing"
	"github.com/propusk/propusk/internal/testenv"
)

// concrete puts a value in each parameter of an OpenAPI path.
var concrete = strings.NewReplacer("{id}", "1", "{sid}", "s1", "{name}", "propusk.js", "{original}", "app/x")

// TestOpenAPIRoutes holds the description and the route table together,
// both ways: every route of the table is described, under each method it
// serves, and every path and method the document names is served by the
// route it is described under.
func TestOpenAPIRoutes(t *testing.T) {
	s := newTestServer(t, slog.New(slog.DiscardHandler))
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, rt := range s.routeTable() {
		served[rt.pattern] = true
		o, ok := ops[rt.pattern]
		if !ok {
			t.Errorf("route %q is not described in the OpenAPI document (web/openapi.go)", rt.pattern)
			continue
		}
		for _, m := range o.methods {
			if _, ok := doc.Paths[o.path][m]; !ok {
				t.Errorf("route %q: %s %s missing from the document", rt.pattern, m, o.path)
			}
		}
		if method, _, ok := strings.Cut(rt.pattern, " "); ok && (len(o.methods) != 1 || !strings.EqualFold(o.methods[0], method)) {
			t.Errorf("route %q described with methods %v", rt.pattern, o.methods)
		}
	}
	for pattern := range ops {
		if !served[pattern] {
			t.Errorf("%q is described, but no route serves it", pattern)
		}
	}
	for path, item := range doc.Paths {
		for method := range item {
			r := httptest.NewRequest(strings.ToUpper(method), concrete.Replace(path), nil)
			_, pattern := s.mux.Handler(r)
			if pattern == "" {
				t.Errorf("%s %s is described, but nothing serves it", method, path)
				continue
			}
			if o := ops[pattern]; o.path != path {
				t.Errorf("%s %s is served by %q, described at %s", method, path, pattern, o.path)
			}
		}
	}
}

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	// Not doc.Validate: kin-openapi validates documents as OpenAPI 3.0,
	// which has no "null" type, and refuses 3.1's nullable fields
	// (type: [integer, null]). Its response validation understands them;
	// the document itself is validated by TestOpenAPILint.
	return doc
}

// TestOpenAPIServed: GET /api/v1/openapi.json serves the document, and
// kin-openapi reads it.
func TestOpenAPIServed(t *testing.T) {
	loadOpenAPI(t)
	s := newTestServer(t, slog.New(slog.DiscardHandler))
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), OpenAPI()) || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
}

// TestOpenAPIContract sends real requests, a script's, to a server on each
// store and validates every answer (status, content type, body) against
// the document with kin-openapi.
func TestOpenAPIContract(t *testing.T) {
	for _, sk := range []struct {
		name string
		open func(t *testing.T) propusk.Store
	}{
		{"sqlite", func(t *testing.T) propusk.Store { s, _ := testenv.SQLite(t); return s }},
		{"postgres", func(t *testing.T) propusk.Store { s, _ := testenv.Postgres(t); return s }},
		{"mysql", func(t *testing.T) propusk.Store { s, _ := testenv.MySQL(t); return s }},
	} {
		t.Run(sk.name, func(t *testing.T) { contract(t, sk.open(t)) })
	}
}

func contract(t *testing.T, store propusk.Store) {
	doc := loadOpenAPI(t)
	key := make([]byte, 32)
	rand.Read(key)
	svc, err := auth.New(context.Background(), auth.Config{Store: store, MasterKey: key,
		Logger: slog.New(slog.DiscardHandler), Argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Service: svc, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	openapi3filter.RegisterBodyDecoder("application/jwk-set+json", openapi3filter.JSONBodyDecoder)
	var pair struct{ AccessToken, RefreshToken, APIToken string }
	var created struct{ ID int64 }
	checked := 0
	send := func(method, path, token, body string, want int) []byte {
		t.Helper()
		var rb io.Reader
		if body != "" {
			rb = strings.NewReader(body)
		}
		r := httptest.NewRequest(method, path, rb)
		r.Header.Set("X-Requested-With", "contract")
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, w.Code, want, w.Body)
		}
		// The route that served it names the document's path: kin-openapi's
		// routers validate the document as 3.0 first (see loadOpenAPI).
		_, pattern := s.mux.Handler(r)
		item := doc.Paths.Value(ops[pattern].path)
		if item == nil || item.GetOperation(method) == nil {
			t.Fatalf("%s %s: no operation in the document", method, path)
		}
		route := &routers.Route{Spec: doc, Path: ops[pattern].path, PathItem: item, Method: method, Operation: item.GetOperation(method)}
		var params map[string]string
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: true}}
		err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: w.Code, Header: w.Header(), Body: io.NopCloser(bytes.NewReader(w.Body.Bytes())),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		})
		if err != nil {
			t.Errorf("%s %s: the answer %d does not match the document: %v\n%s", method, path, w.Code, err, w.Body)
		}
		checked++
		return w.Body.Bytes()
	}
	decode := func(b []byte, v any) {
		t.Helper()
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	send("GET", "/healthz", "", "", 200)
	send("GET", "/.well-known/jwks.json", "", "", 200)
	send("GET", "/api/v1/openapi.json", "", "", 200)
	send("GET", "/api/v1/token.obtain", "", "", 200)
	send("GET", "/api/v1/token.check", "", "", 200)
	decode(send("POST", "/api/v1/user.register", "", `{"login":"alice","password":"correct horse"}`, 201), &pair)
	send("POST", "/api/v1/user.register", "", `{"login":"alice","password":"correct horse"}`, 409)
	send("POST", "/api/v1/user.register", "", `{"login":"alice"}`, 400)
	send("POST", "/api/v1/user.login", "", `{"login":"alice","password":"wrong horse"}`, 401)
	decode(send("POST", "/api/v1/user.login", "", `{"login":"alice","password":"correct horse"}`, 200), &pair)
	send("GET", "/api/v1/token.check", pair.AccessToken, "", 200)
	send("GET", "/api/v1/user.me", pair.AccessToken, "", 200)
	send("GET", "/api/v1/user.me", pair.APIToken, "", 200)
	send("GET", "/api/v1/user.me", "", "", 403)
	send("GET", "/api/user", pair.AccessToken, "", 200)
	send("GET", "/api/v1/sessions", pair.AccessToken, "", 200)
	send("DELETE", "/api/v1/sessions/nosuchsession", pair.AccessToken, "", 404)
	decode(send("POST", "/api/v1/tokens", pair.AccessToken, `{"name":"ci","abilities":["tokens:introspect"]}`, 201), &created)
	send("GET", "/api/v1/tokens", pair.AccessToken, "", 200)
	send("DELETE", "/api/v1/tokens/999999", pair.AccessToken, "", 404)
	send("POST", "/api/v1/token.introspect", pair.AccessToken, `{"token":"`+pair.APIToken+`"}`, 401)
	send("POST", "/api/v1/token.revoke", "", `{"token":"nothing"}`, 200)
	send("POST", "/api/v1/admin/users/1/api-token", pair.AccessToken, `{"reason":"x"}`, 403)
	send("GET", "/api/v1/revocations", "", "", 401)
	send("GET", "/api/v1/auth.verify", pair.AccessToken, "", 200)
	send("GET", "/api/v1/auth.verify?level=30", pair.AccessToken, "", 403)
	send("GET", "/api/v1/auth.verify", "", "", 401)
	var renewed struct{ RefreshToken string }
	decode(send("GET", "/api/v1/token.renew?refreshToken="+pair.RefreshToken, "", "", 200), &renewed)
	send("GET", "/api/v1/token.renew?refreshToken=nonsense", "", "", 403)
	send("DELETE", "/api/v1/tokens/"+jsonInt(created.ID), pair.AccessToken, "", 204)
	send("POST", "/api/v1/user.logoff", pair.AccessToken, "", 200)
	send("GET", "/sanctum/csrf-cookie", "", "", 204)

	// Self-service: the password change and "sign out other devices" need
	// the current password.
	var bob, bob2 struct{ AccessToken, APIToken string }
	decode(send("POST", "/api/v1/user.register", "", `{"login":"bob","password":"bob's horse"}`, 201), &bob)
	decode(send("POST", "/api/v1/user.login", "", `{"login":"bob","password":"bob's horse"}`, 200), &bob2)
	send("POST", "/api/v1/user.password", bob.AccessToken, `{"current":"wrong horse","new":"bob's new horse"}`, 403)
	send("POST", "/api/v1/user.password", bob.AccessToken, `{"current":"bob's horse","new":"short"}`, 400)
	send("POST", "/api/v1/user.password", bob.AccessToken, `{"new":"bob's new horse"}`, 400)
	send("POST", "/api/v1/user.password", "", `{"current":"bob's horse","new":"bob's new horse"}`, 403)
	send("POST", "/api/v1/user.password", bob.AccessToken, `{"current":"bob's horse","new":"bob's new horse"}`, 200)
	send("GET", "/api/v1/user.me", bob2.AccessToken, "", 403) // the other session ended
	decode(send("POST", "/api/v1/user.login", "", `{"login":"bob","password":"bob's new horse"}`, 200), &bob2)
	send("DELETE", "/api/v1/sessions", bob.AccessToken, `{"password":"wrong horse"}`, 403)
	send("DELETE", "/api/v1/sessions", bob.AccessToken, "", 400)
	var ended struct{ Ended int }
	decode(send("DELETE", "/api/v1/sessions", bob.AccessToken, `{"password":"bob's new horse"}`, 200), &ended)
	if ended.Ended != 1 {
		t.Errorf("DELETE /api/v1/sessions ended %d sessions, want 1", ended.Ended)
	}

	// Administration: level 30, and through a PAT the ability users:manage.
	var root, carol struct{ AccessToken, APIToken string }
	var rootMe, carolMe struct {
		ID int64 `json:"_id"`
	}
	decode(send("POST", "/api/v1/user.register", "", `{"login":"root","password":"root's horse"}`, 201), &root)
	decode(send("GET", "/api/v1/user.me", root.AccessToken, "", 200), &rootMe)
	level := propusk.LevelAdmin
	if _, err := svc.UpdateUser(context.Background(), nil, rootMe.ID, propusk.UserChange{Level: &level}); err != nil {
		t.Fatal(err)
	}
	decode(send("POST", "/api/v1/user.login", "", `{"login":"root","password":"root's horse"}`, 200), &root)
	decode(send("POST", "/api/v1/user.register", "", `{"login":"carol","password":"carol's horse"}`, 201), &carol)
	decode(send("GET", "/api/v1/user.me", carol.AccessToken, "", 200), &carolMe)
	carolURL := "/api/v1/admin/users/" + jsonInt(carolMe.ID)
	var manager, other struct{ Token string }
	decode(send("POST", "/api/v1/tokens", root.AccessToken, `{"name":"admin","abilities":["users:manage"]}`, 201), &manager)
	decode(send("POST", "/api/v1/tokens", root.AccessToken, `{"name":"other","abilities":["tokens:manage"]}`, 201), &other)
	send("GET", "/api/v1/admin/users", carol.AccessToken, "", 403)
	send("GET", "/api/v1/admin/users", other.Token, "", 403)
	send("GET", "/api/v1/admin/users", "", "", 403)
	var page struct{ Next string }
	decode(send("GET", "/api/v1/admin/users?limit=2", root.AccessToken, "", 200), &page)
	send("GET", "/api/v1/admin/users?cursor="+page.Next, manager.Token, "", 200)
	send("GET", "/api/v1/admin/users?login=CAR", root.APIToken, "", 200)
	send("GET", "/api/v1/admin/users?limit=0", root.AccessToken, "", 400)
	send("GET", carolURL, root.AccessToken, "", 200)
	send("GET", "/api/v1/admin/users/999999", root.AccessToken, "", 404)
	send("PATCH", carolURL, root.AccessToken, `{"level":10,"boards":["b","c"]}`, 200)
	send("PATCH", carolURL, root.AccessToken, `{"disabled":true}`, 200)
	send("POST", "/api/v1/user.login", "", `{"login":"carol","password":"carol's horse"}`, 403)
	send("PATCH", carolURL, root.AccessToken, `{"disabled":false}`, 200)
	send("PATCH", carolURL, root.AccessToken, `{"level":31}`, 403)
	send("PATCH", carolURL, root.AccessToken, `{"nickname":"c"}`, 400)
	send("PATCH", "/api/v1/admin/users/"+jsonInt(rootMe.ID), root.AccessToken, `{"level":0}`, 409)
	send("PATCH", "/api/v1/admin/users/999999", root.AccessToken, `{"level":1}`, 404)
	decode(send("POST", "/api/v1/user.login", "", `{"login":"carol","password":"carol's horse"}`, 200), &carol)
	send("GET", carolURL+"/sessions", root.AccessToken, "", 200)
	send("GET", "/api/v1/admin/users/999999/sessions", root.AccessToken, "", 404)
	send("DELETE", carolURL+"/sessions/nosuchsession", root.AccessToken, "", 404)
	send("DELETE", carolURL+"/sessions", manager.Token, "", 200)
	send("POST", carolURL+"/password", root.AccessToken, `{"password":"short"}`, 400)
	send("POST", carolURL+"/password", root.AccessToken, `{"password":"carol's new horse"}`, 200)
	send("DELETE", "/api/v1/admin/users/"+jsonInt(rootMe.ID), root.AccessToken, "", 409)
	send("DELETE", carolURL, root.AccessToken, "", 200)
	send("DELETE", carolURL, root.AccessToken, "", 404)
	if checked < 78 {
		t.Errorf("only %d answers checked", checked)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestOpenAPILint runs Redocly's linter (npm @redocly/cli, pinned in
// package.json) on the document: a third party's reading of OpenAPI 3.1.
func TestOpenAPILint(t *testing.T) {
	bin, err := filepath.Abs("../node_modules/.bin/redocly")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		missing.Skip(t, "Redocly CLI not installed (npm ci in the repository root)")
	}
	path := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(path, OpenAPI(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "lint", "--config", "../redocly.yaml", "--format", "stylish", path)
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.CombinedOutput()
	// A problem is a line "LINE:COL  warning|error  rule  message".
	if err != nil || regexp.MustCompile(`(?m)^\s*\d+:\d+\s+(warning|error)\s`).Match(out) {
		t.Errorf("redocly lint: %v\n%s", err, out)
	}
}
