package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// TestTwoProcessesUserChanges: process B serves user.me from its cache of
// users, and a change made through process A shows there within a second,
// with the times observed: a new level or boards through the api-token
// (an access token keeps the ones it was issued with until it is
// renewed), and a password reset ends the access token while the
// api-token goes on. TestTwoProcessesUserAdmin shows the same for a
// disabled or deleted user.
func TestTwoProcessesUserChanges(t *testing.T) {
	c := startCluster(t)
	a, b := c.a, c.b
	ctx := context.Background()
	registerUser(t, a, "root")
	store, err := openStore(ctx, c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	root, err := store.UserByLogin(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	lvl := propusk.LevelAdmin
	if _, err := store.UpdateUser(ctx, root.ID, propusk.UserChange{Level: &lvl}, `App\Models\User`, time.Now()); err != nil {
		t.Fatal(err)
	}
	admin := accessHeader(loginUser(t, a, "root").AccessToken)

	type me struct {
		Login  string   `json:"login"`
		Level  int      `json:"level"`
		Boards []string `json:"boards"`
	}
	read := func(r reply) me {
		var m me
		json.Unmarshal(r.body, &m)
		return m
	}
	for _, step := range []struct {
		name, path, body string
		pat              func(me) bool // what B's user.me by api-token must come to show
		access           int           // and its status by access token, at once and after
	}{
		{"level", "", `{"level":20}`, func(m me) bool { return m.Level == 20 }, 200},
		{"boards", "", `{"boards":["b","pr"]}`, func(m me) bool { return slices.Equal(m.Boards, []string{"b", "pr"}) }, 200},
		{"password", "/password", `{"password":"password-2"}`, func(m me) bool { return m.Login == "vera-password" }, 403},
	} {
		t.Run(step.name, func(t *testing.T) {
			login := "vera-" + step.name
			p := registerUser(t, a, login)
			vera, err := store.UserByLogin(ctx, login)
			if err != nil {
				t.Fatal(err)
			}
			pat := map[string]string{"Authorization": "Bearer " + p.APIToken}
			for range 2 { // the second is served from B's caches
				for _, h := range []map[string]string{pat, accessHeader(p.AccessToken)} {
					if r := userMe(b, h); r.status != 200 || read(r).Login != login {
						t.Fatalf("B before the change: %s", r)
					}
				}
			}
			start := time.Now()
			path := fmt.Sprintf("/api/v1/admin/users/%d%s", vera.ID, step.path)
			method := "PATCH"
			if step.path != "" {
				method = "POST"
			}
			if r := send(http.DefaultClient, a.URL, method, path, admin, step.body); r.status != 200 {
				t.Fatalf("%s on A: %s", step.name, r)
			}
			for deadline := start.Add(revocationBound); ; time.Sleep(10 * time.Millisecond) {
				r := userMe(b, pat)
				if r.status == 200 && step.pat(read(r)) {
					t.Logf("%s on A shows on B after %v (bound %v)", step.name, time.Since(start).Round(100*time.Microsecond), revocationBound)
					break
				}
				if r.status != 200 || time.Now().After(deadline) {
					t.Fatalf("%s on A, api-token on B after %v: %s", step.name, time.Since(start), r)
				}
			}
			if step.access == 403 {
				waitRefused(t, step.name+" on A, access token on B", start, revocationBound, func() reply { return userMe(b, accessHeader(p.AccessToken)) })
			} else if r := userMe(b, accessHeader(p.AccessToken)); r.status != 200 || read(r).Login != login || read(r).Level != propusk.LevelUser {
				t.Fatalf("%s on A, access token on B: %s; want the level it was issued with", step.name, r)
			}
		})
	}
}
