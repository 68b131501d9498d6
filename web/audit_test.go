package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/web"
)

// auditPage is GET /api/v1/admin/audit's or /api/v1/user.audit's answer.
type auditPage struct {
	Entries []map[string]any `json:"entries"`
	Next    string           `json:"next"`
}

// auditAll reads every page of path (with its query) as tok, 7 entries a
// page, and returns the entries newest first with the raw bodies.
func (e *env) auditAll(path, tok string) ([]map[string]any, string) {
	e.t.Helper()
	var (
		all []map[string]any
		raw strings.Builder
	)
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for cursor := ""; ; {
		p := path + sep + "limit=7"
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		r := e.do(req{method: "GET", path: p, header: xhrBearer(tok)})
		if r.StatusCode != 200 {
			e.t.Fatalf("GET %s: %d %s", p, r.StatusCode, r.body)
		}
		raw.Write(r.body)
		var page auditPage
		if err := json.Unmarshal(r.body, &page); err != nil {
			e.t.Fatal(err)
		}
		all = append(all, page.Entries...)
		if page.Next == "" {
			return all, raw.String()
		}
		cursor = page.Next
	}
}

func kindCounts(es []map[string]any) map[string]int {
	n := map[string]int{}
	for _, e := range es {
		n[e["kind"].(string)]++
	}
	return n
}

// TestAuditLog: every audited event, made through the API on every store,
// is recorded exactly once, with its actor, subject and client; no entry
// holds a token, a password or a hash; the admin and user routes filter,
// page and refuse bad input.
func TestAuditLog(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		var master []byte
		e := newEnv(t, open, func(a *auth.Config, _ *web.Config) { master = a.MasterKey })
		ctx := context.Background()
		secrets := []string{"correct horse", "battery staple", "wrong horse", "root password 1", "new horse pw", "nobody password"}
		track := func(p pair) pair { secrets = append(secrets, p.access, p.refresh, p.api); return p }
		want := map[string]int{}

		a := track(e.register("alice", "correct horse"))
		want[propusk.AuditRegister]++
		root, err := e.svc.CreateUser(ctx, "root", "root password 1", propusk.LevelAdmin, nil)
		if err != nil {
			t.Fatal(err)
		}
		want[propusk.AuditUserCreated]++ // by the operator
		r0 := track(e.login("root", "root password 1"))
		want[propusk.AuditLogin]++
		want[propusk.AuditTokenReissued]++

		if r, _ := e.tryLogin("alice", "wrong horse"); r.StatusCode != 401 {
			t.Fatalf("wrong password: %d", r.StatusCode)
		}
		want[propusk.AuditLoginFailed]++

		_, b := e.tryLogin("alice", "correct horse")
		track(b)
		want[propusk.AuditLogin]++
		want[propusk.AuditTokenReissued]++

		r := e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"ci"}`, header: xhrBearer(a.access)})
		if r.StatusCode != 201 {
			t.Fatalf("create token: %d %s", r.StatusCode, r.body)
		}
		tok := r.json(t)
		secrets = append(secrets, tok["token"].(string))
		want[propusk.AuditTokenCreated]++
		if r := e.do(req{method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%v", tok["id"]), header: xhrBearer(a.access)}); r.StatusCode/100 != 2 {
			t.Fatalf("delete token: %d %s", r.StatusCode, r.body)
		}
		want[propusk.AuditTokenDeleted]++

		r = e.do(req{method: "GET", path: "/api/v1/sessions", header: xhrBearer(a.access)})
		var other string
		for _, s := range r.jsonList(t) {
			if m := s.(map[string]any); m["current"] == false {
				other = m["id"].(string)
			}
		}
		if r := e.do(req{method: "DELETE", path: "/api/v1/sessions/" + other, header: xhrBearer(a.access)}); r.StatusCode/100 != 2 {
			t.Fatalf("end session: %d %s", r.StatusCode, r.body)
		}
		want[propusk.AuditSessionEnded]++

		if r := e.do(req{method: "POST", path: "/api/v1/user.password", body: `{"current":"correct horse","new":"battery staple"}`, header: xhrBearer(a.access)}); r.StatusCode != 200 {
			t.Fatalf("change password: %d %s", r.StatusCode, r.body)
		}
		want[propusk.AuditPasswordChanged]++

		// A rotation records nothing; spending the old refresh token again, past the grace, is a reuse.
		_, a2 := e.renew(a.refresh)
		track(a2)
		e.clock.Advance(auth.DefaultRenewGrace + time.Second)
		if r, _ := e.renew(a.refresh); r.StatusCode == 200 {
			t.Fatal("a reused refresh token renewed")
		}
		want[propusk.AuditReuse]++

		_, d := e.tryLogin("alice", "battery staple")
		track(d)
		want[propusk.AuditLogin]++
		want[propusk.AuditTokenReissued]++
		if r := e.do(req{method: "POST", path: "/api/v1/user.logoff", header: xhrBearer(d.access)}); r.StatusCode/100 != 2 {
			t.Fatalf("logoff: %d %s", r.StatusCode, r.body)
		}
		want[propusk.AuditLogoff]++

		aliceID := strconv.FormatInt(mustUserID(t, e, "alice"), 10)
		adminCalls := []struct{ method, path, body, kind string }{
			{"PATCH", "/api/v1/admin/users/" + aliceID, `{"level":20}`, propusk.AuditUserUpdated},
			{"POST", "/api/v1/admin/users/" + aliceID + "/password", `{"password":"new horse pw"}`, propusk.AuditPasswordReset},
			{"DELETE", "/api/v1/admin/users/" + aliceID + "/sessions", ``, propusk.AuditSessionsEnded},
		}
		for _, c := range adminCalls {
			if r := e.do(req{method: c.method, path: c.path, body: c.body, header: xhrBearer(r0.access)}); r.StatusCode/100 != 2 {
				t.Fatalf("%s %s: %d %s", c.method, c.path, r.StatusCode, r.body)
			}
			want[c.kind]++
		}
		track(e.register("bob", "correct horse"))
		want[propusk.AuditRegister]++
		bobID := mustUserID(t, e, "bob")
		if r := e.do(req{method: "DELETE", path: fmt.Sprintf("/api/v1/admin/users/%d", bobID), header: xhrBearer(r0.access)}); r.StatusCode/100 != 2 {
			t.Fatalf("delete bob: %d %s", r.StatusCode, r.body)
		}
		want[propusk.AuditUserDeleted]++

		// Failures of one login until the limit refuses it.
		for i := 0; ; i++ {
			r, _ := e.tryLogin("nobody", "nobody password")
			if r.StatusCode == 429 {
				want[propusk.AuditRateLimited]++
				break
			}
			want[propusk.AuditLoginFailed]++
			if i > 20 {
				t.Fatal("the login limit never refused")
			}
		}

		if _, err := auth.RotateKeys(ctx, e.store, master, e.clock.Now(), rand.Reader); err != nil {
			t.Fatal(err)
		}
		want[propusk.AuditKeysRotated]++
		e.clock.Advance(time.Hour)
		if err := e.svc.SyncFeed(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.PruneKeys(ctx); err != nil {
			t.Fatal(err)
		}
		want[propusk.AuditKeysPruned]++
		r1 := track(e.login("root", "root password 1"))
		want[propusk.AuditLogin]++
		want[propusk.AuditTokenReissued]++

		all, raw := e.auditAll("/api/v1/admin/audit", r1.access)
		if got := kindCounts(all); !maps.Equal(got, want) {
			t.Errorf("kinds recorded = %v\nwant             %v", got, want)
		}
		for _, u := range []int64{root.ID, mustUserID(t, e, "alice")} {
			if h := userHash(t, e, u); h != "" {
				secrets = append(secrets, h)
			}
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(raw, s) {
				t.Errorf("the audit log holds the secret %q", s)
			}
			for _, part := range strings.Split(s, "|") {
				if len(part) > 20 && strings.Contains(raw, part) {
					t.Errorf("the audit log holds the secret part %q", part)
				}
			}
		}
		for _, en := range all {
			actor := en["actor"].(map[string]any)
			switch en["kind"] {
			case propusk.AuditUserUpdated, propusk.AuditPasswordReset, propusk.AuditSessionsEnded, propusk.AuditUserDeleted:
				if actor["id"] != float64(root.ID) || actor["auth"] != propusk.AuthAccess || en["ip"] == "" {
					t.Errorf("admin entry's actor = %v, ip %q: want root by access token", actor, en["ip"])
				}
			case propusk.AuditReuse:
				if en["session"] == "" || en["ip"] == "" {
					t.Errorf("reuse entry = %v: want its session and address", en)
				}
			case propusk.AuditLogoff:
				if actor["auth"] != propusk.AuthToken || en["session"] == "" {
					t.Errorf("logoff entry = %v: want the token's holder and the session", en)
				}
			case propusk.AuditLogin:
				if actor["auth"] != propusk.AuthPassword || actor["id"] == float64(0) || en["session"] == "" {
					t.Errorf("login entry = %v: want the user by password and the session", en)
				}
			case propusk.AuditTokenReissued:
				if en["detail"] != "login" {
					t.Errorf("reissue entry's reason = %v", en["detail"])
				}
			}
		}

		// Filters.
		logins, _ := e.auditAll("/api/v1/admin/audit?kind=login", r1.access)
		if len(logins) != want[propusk.AuditLogin] {
			t.Errorf("kind=login: %d entries, want %d", len(logins), want[propusk.AuditLogin])
		}
		bobs, _ := e.auditAll(fmt.Sprintf("/api/v1/admin/audit?user=%d", bobID), r1.access)
		if got := kindCounts(bobs); !maps.Equal(got, map[string]int{propusk.AuditRegister: 1, propusk.AuditUserDeleted: 1}) {
			t.Errorf("user=bob: %v", got)
		}
		since := e.clock.Now().Add(-30 * time.Minute).UTC().Format(time.RFC3339Nano)
		late, _ := e.auditAll("/api/v1/admin/audit?since="+since, r1.access)
		if got := kindCounts(late); !maps.Equal(got, map[string]int{propusk.AuditKeysPruned: 1, propusk.AuditLogin: 1, propusk.AuditTokenReissued: 1}) {
			t.Errorf("since: %v", got)
		}
		early, _ := e.auditAll("/api/v1/admin/audit?until="+since, r1.access)
		if len(early)+len(late) != len(all) {
			t.Errorf("until and since split %d entries into %d and %d", len(all), len(early), len(late))
		}

		// A user reads their own account's events, without an administrator's address.
		_, a3 := e.tryLogin("alice", "new horse pw")
		mine, _ := e.auditAll("/api/v1/user.audit", a3.access)
		aliceN := mustUserID(t, e, "alice")
		for _, en := range mine {
			actor := en["actor"].(map[string]any)
			if en["user"] != float64(aliceN) && actor["id"] != float64(aliceN) {
				t.Errorf("alice sees another's entry %v", en)
			}
			if actor["id"] == float64(root.ID) && (en["ip"] != "" || en["userAgent"] != "") {
				t.Errorf("alice sees the administrator's client: %v", en)
			}
		}
		if len(mine) < 10 {
			t.Errorf("alice sees %d entries of her account", len(mine))
		}

		// Bad input is 400; the wrong caller 403.
		pat := e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"reader","abilities":["audit:read"]}`, header: xhrBearer(r1.access)}).json(t)["token"].(string)
		noPat := e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"other","abilities":["users:manage"]}`, header: xhrBearer(r1.access)}).json(t)["token"].(string)
		calls := []struct {
			name, path, tok string
			status          int
			code            string
		}{
			{"ok/pat-audit-read", "/api/v1/admin/audit", pat, 200, ""},
			{"fail/pat-without-audit-read", "/api/v1/admin/audit", noPat, 403, propusk.EFORBIDDEN},
			{"fail/not-admin", "/api/v1/admin/audit", a3.access, 403, propusk.EFORBIDDEN},
			{"fail/bad-since", "/api/v1/admin/audit?since=yesterday", r1.access, 400, propusk.EINVALID},
			{"fail/bad-until", "/api/v1/user.audit?until=1", a3.access, 400, propusk.EINVALID},
			{"fail/bad-limit", "/api/v1/admin/audit?limit=0", r1.access, 400, propusk.EINVALID},
			{"fail/big-limit", "/api/v1/admin/audit?limit=501", r1.access, 400, propusk.EINVALID},
			{"fail/bad-cursor", "/api/v1/admin/audit?cursor=x", r1.access, 400, propusk.EINVALID},
			{"fail/bad-user", "/api/v1/admin/audit?user=-1", r1.access, 400, propusk.EINVALID},
			{"fail/long-kind", "/api/v1/admin/audit?kind=" + strings.Repeat("k", 65), r1.access, 400, propusk.EINVALID},
		}
		for _, c := range calls {
			r := e.do(req{method: "GET", path: c.path, header: xhrBearer(c.tok)})
			if c.code == "" {
				if r.StatusCode != c.status {
					t.Errorf("%s: %d %s", c.name, r.StatusCode, r.body)
				}
				continue
			}
			if r.StatusCode != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, r.StatusCode, r.body, c.status)
				continue
			}
			wantError(t, r, c.status, c.code)
		}
	})
}

func mustUserID(t *testing.T, e *env, login string) int64 {
	t.Helper()
	u, err := e.store.UserByLogin(context.Background(), login)
	if err != nil {
		t.Fatalf("user %s: %v", login, err)
	}
	return u.ID
}

func userHash(t *testing.T, e *env, id int64) string {
	t.Helper()
	u, err := e.store.UserByID(context.Background(), id)
	if err != nil {
		return ""
	}
	return u.PasswordHash
}

// TestAuditAtomic: an audit entry is written in the transaction of its
// change. When the change fails the log gains nothing, and when the
// entry's insert fails the change is not made.
func TestAuditAtomic(t *testing.T) {
	cases := []struct {
		name, table, when string
		method, path      string
		body              string
		// tables must keep their row counts through the failed request.
		tables []string
	}{
		{"fail/register-audit-insert", "audit_log", "BEFORE INSERT", "POST", "/api/v1/user.register", `{"login":"bob","password":"correct horse"}`, []string{"users", "sessions", "personal_access_tokens", "audit_log"}},
		{"fail/register-session-insert", "sessions", "BEFORE INSERT", "POST", "/api/v1/user.register", `{"login":"bob","password":"correct horse"}`, []string{"users", "sessions", "audit_log"}},
		{"fail/token-audit-insert", "audit_log", "BEFORE INSERT", "POST", "/api/v1/tokens", `{"name":"ci"}`, []string{"personal_access_tokens", "audit_log"}},
		{"fail/token-insert", "personal_access_tokens", "BEFORE INSERT", "POST", "/api/v1/tokens", `{"name":"ci"}`, []string{"personal_access_tokens", "audit_log"}},
		{"fail/password-audit-insert", "audit_log", "BEFORE INSERT", "POST", "/api/v1/user.password", `{"current":"correct horse","new":"battery staple"}`, []string{"audit_log"}},
		{"fail/password-update", "users", "BEFORE UPDATE", "POST", "/api/v1/user.password", `{"current":"correct horse","new":"battery staple"}`, []string{"audit_log"}},
		{"fail/logoff-audit-insert", "audit_log", "BEFORE INSERT", "POST", "/api/v1/user.logoff", ``, []string{"events", "audit_log"}},
	}
	for _, fs := range faultStores {
		t.Run(fs.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					var db rawSQL
					e := newEnv(t, func(t *testing.T) propusk.Store {
						var s propusk.Store
						s, db = fs.open(t)
						return s
					})
					a := e.register("alice", "correct horse")
					before := map[string]int{}
					for _, table := range c.tables {
						before[table] = db(t, "SELECT count(*) FROM "+table)
					}
					db(t, fs.fault(c.table, c.when))
					r := e.do(req{method: c.method, path: c.path, body: c.body, header: xhrBearer(a.access)})
					if r.StatusCode < 500 {
						t.Fatalf("%s %s with failing writes to %s: %d %s, want 5xx", c.method, c.path, c.table, r.StatusCode, r.body)
					}
					db(t, fs.clear(c.table, c.when))
					for _, table := range c.tables {
						if n := db(t, "SELECT count(*) FROM "+table); n != before[table] {
							t.Errorf("after the failure %s has %d rows, want %d as before", table, n, before[table])
						}
					}
					if c.path == "/api/v1/user.password" {
						if r, _ := e.tryLogin("alice", "correct horse"); r.StatusCode != 200 {
							t.Errorf("the old password no longer works: %d", r.StatusCode)
						}
					}
					if c.path == "/api/v1/user.logoff" && e.me(a.access).StatusCode != 200 {
						t.Error("the failed logoff ended the session")
					}
				})
			}
		})
	}
}
