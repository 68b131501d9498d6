package laraveltest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/propusk/propusk"
)

// The checks below hold every store in Laravel mode to the same behaviour,
// on the databases real Laravel wrote. Each takes a store opened with
// OpenLaravel on the fixture's database and migrated.

// Layout is how Laravel writes a timestamp: the app's wall clock.
const Layout = "2006-01-02 15:04:05"

// Location is the fixture's app.timezone.
func (f *Fixture) Location(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Laravel is the setting that reads f's database.
func (f *Fixture) Laravel(t testing.TB) propusk.Laravel {
	t.Helper()
	return propusk.Laravel{Location: f.Location(t), TokenableType: f.TokenableType}
}

// Generated is when f was written: its tokens' states hold then.
func (f *Fixture) Generated(t testing.TB) time.Time {
	t.Helper()
	at, err := time.ParseInLocation(Layout, f.GeneratedAt, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// CheckFixture checks that s, on f's database with its rows, finds every
// user by login in any letter case with the right hash and times, and reads
// every token row with its owner, abilities, expiry and last use; the
// tokens Sanctum deleted are not found.
func CheckFixture(t *testing.T, s propusk.Store, f *Fixture) {
	t.Helper()
	ctx := t.Context()
	loc, now := f.Location(t), f.Generated(t)
	for _, u := range f.Users {
		var first *propusk.User
		for _, login := range []string{u.Email, strings.ToLower(u.Email), strings.ToUpper(u.Email), swapCase(u.Email)} {
			got, err := s.UserByLogin(ctx, login)
			if err != nil {
				t.Errorf("user %d: UserByLogin(%q): %v", u.ID, login, err)
				continue
			}
			if got.ID != u.ID || got.Login != u.Email {
				t.Errorf("UserByLogin(%q) = id %d %q, want id %d %q", login, got.ID, got.Login, u.ID, u.Email)
			}
			first = got
		}
		if first == nil {
			continue
		}
		if ok := strings.TrimSpace(Script(t, "hash.php", u.Password, "check", first.PasswordHash, "-")); ok != "1" {
			t.Errorf("user %d: the hash read back does not check with the fixture's password", u.ID)
		}
		want := time.Time{}
		if u.CreatedAtLocal != nil {
			want = parseIn(t, *u.CreatedAtLocal, loc)
		}
		if !first.CreatedAt.Equal(want) {
			t.Errorf("user %d: CreatedAt = %v, want %v (stored %v in %s)", u.ID, first.CreatedAt, want, u.CreatedAtLocal, loc)
		}
		if first.Level != propusk.LevelUser || !slices.Equal(first.Boards, []string{propusk.AllBoards}) || first.Disabled() {
			t.Errorf("user %d: a Laravel user without propusk's row: level %d, boards %v, disabled %v; want the defaults", u.ID, first.Level, first.Boards, first.Disabled())
		}
	}
	for _, want := range f.Tokens {
		got, err := s.Token(ctx, want.ID)
		switch want.State {
		case "deleted", "replaced":
			if propusk.ErrorCode(err) != propusk.ENOTFOUND {
				t.Errorf("token %d (%s): %v, %v; want ENOTFOUND", want.ID, want.State, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("token %d: %v", want.ID, err)
			continue
		}
		if byHash, err := s.TokenByHash(ctx, want.SHA256); err != nil || byHash.ID != want.ID {
			t.Errorf("TokenByHash of token %d: %v, %v", want.ID, byHash, err)
		}
		if got.TokenableType != f.TokenableType || got.TokenableID != want.OwnerUserID || got.Name != want.Name ||
			got.Hash != want.SHA256 || !slices.Equal(got.Abilities, want.Abilities) {
			t.Errorf("token %d = %+v, want owner %s %d, name %q, abilities %q", want.ID, got, f.TokenableType, want.OwnerUserID, want.Name, want.Abilities)
		}
		expires := time.Time{}
		if want.ExpiresAt != nil {
			expires = parseIn(t, *want.ExpiresAt, time.UTC)
		}
		if !got.ExpiresAt.Equal(expires) {
			t.Errorf("token %d: ExpiresAt = %v, want %v", want.ID, got.ExpiresAt, expires)
		}
		if got.Expired(now) != (want.State == "expired") {
			t.Errorf("token %d (%s): Expired at %v = %v", want.ID, want.State, now, got.Expired(now))
		}
		used := time.Time{}
		if want.LastUsedAtLocal != nil {
			used = parseIn(t, *want.LastUsedAtLocal, loc)
		}
		if !got.LastUsedAt.Equal(used) {
			t.Errorf("token %d: LastUsedAt = %v, want %v", want.ID, got.LastUsedAt, used)
		}
	}
}

// CheckAppWrites checks that what the app changes through Illuminate
// reaches s's feed within a second, as the triggers Migrate installed
// record it: a deleted token (EventPAT), a changed password (EventUser),
// and a deleted user (EventUser, and EventSession for each live session,
// which RevokedSince then reports). A token propusk deletes itself is in
// the feed once.
func CheckAppWrites(t *testing.T, s propusk.Store, c Connection) {
	t.Helper()
	ctx := t.Context()
	app := StartApp(t, c)
	u := &propusk.User{Login: "app-writes@example.com", PasswordHash: "$2y$10$x"}
	must(t, s.CreateUser(ctx, u))
	id := strconv.FormatInt(u.ID, 10)
	now := time.Now()
	for _, sid := range []string{"live", "ended"} {
		must(t, s.CreateSession(ctx, &propusk.Session{ID: sid + id, UserID: u.ID, ExpiresAt: now.Add(time.Hour)}))
	}
	must(t, s.RevokeSession(ctx, "ended"+id, 0, now))
	toks := make([]*propusk.PersonalAccessToken, 2)
	for i := range toks {
		toks[i] = &propusk.PersonalAccessToken{TokenableType: c.tokenableType(), TokenableID: u.ID, Name: "t", Hash: fmt.Sprintf("%064x", u.ID*10+int64(i))}
		must(t, s.CreateToken(ctx, toks[i]))
	}
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"propusk deletes a token", func() error { return s.DeleteToken(ctx, toks[0].TokenableType, u.ID, toks[0].ID) },
			[]string{"pat:" + strconv.FormatInt(toks[0].ID, 10)}},
		{"the app deletes a token", func() error { return do(app, "delete-token", strconv.FormatInt(toks[1].ID, 10)) },
			[]string{"pat:" + strconv.FormatInt(toks[1].ID, 10)}},
		{"the app changes the password", func() error { return do(app, "update-user", id, "password", "$2y$10$changed") },
			[]string{"user:" + id}},
		{"the app changes the name only", func() error { return do(app, "update-user", id, "name", "Someone") }, nil},
		{"the app deletes the user", func() error { return do(app, "delete-user", id) },
			[]string{"session:live" + id, "user:" + id}},
	}
	for _, step := range steps {
		last, err := s.LastEvent(ctx)
		must(t, err)
		must(t, step.do())
		got := feedAfter(t, s, last, len(step.want), time.Second)
		if !slices.Equal(got, step.want) {
			t.Errorf("%s: feed %q within a second, want %q", step.name, got, step.want)
		}
	}
	if _, err := s.UserByID(ctx, u.ID); propusk.ErrorCode(err) != propusk.ENOTFOUND {
		t.Errorf("the user the app deleted: %v", err)
	}
	ids, err := s.RevokedSince(ctx, now.Add(-time.Minute))
	must(t, err)
	if !slices.Contains(ids, "live"+id) {
		t.Errorf("RevokedSince = %v: the sessions of a user the app deleted must stay revoked for starting processes", ids)
	}
}

// CheckReadByApp checks that a user propusk creates and one it registers
// are read back by Illuminate as the app writes users: every NOT NULL
// column filled, name the login (or the Name given), the hash as given,
// and the times as the wall clock of the app's zone; and that the
// registration's token is found as Sanctum's findToken finds it.
func CheckReadByApp(t *testing.T, s propusk.Store, c Connection, loc *time.Location) {
	t.Helper()
	ctx := t.Context()
	at := time.Date(2026, 7, 1, 21, 30, 5, 0, time.UTC)
	created := &propusk.User{Login: "Created.Here@Example.com", PasswordHash: "$2y$10$created", CreatedAt: at}
	must(t, s.CreateUser(ctx, created))
	named := &propusk.User{Login: "named@example.com", Name: "Named Person", PasswordHash: "$2y$10$named", CreatedAt: at}
	must(t, s.CreateUser(ctx, named))
	reg := &propusk.Registration{
		User:         &propusk.User{Login: "registered@example.com", PasswordHash: "$2y$10$registered", CreatedAt: at},
		Session:      &propusk.Session{ID: "registered-session", ExpiresAt: at.Add(time.Hour)},
		Token:        &propusk.PersonalAccessToken{TokenableType: c.tokenableType(), Name: "api-token", Hash: strings.Repeat("ab", 32), CreatedAt: at},
		SealAPIToken: func(int64) (string, error) { return "sealed", nil },
	}
	must(t, s.Register(ctx, reg))
	for _, u := range []struct {
		*propusk.User
		name string
	}{{created, created.Login}, {named, "Named Person"}, {reg.User, reg.User.Login}} {
		var row map[string]any
		if err := json.Unmarshal([]byte(DB(t, c, "user", strconv.FormatInt(u.ID, 10))), &row); err != nil || row == nil {
			t.Fatalf("user %d through Illuminate: %v %v", u.ID, row, err)
		}
		want := map[string]string{"name": u.name, "email": u.Login, "password": u.PasswordHash,
			"created_at": at.In(loc).Format(Layout), "updated_at": at.In(loc).Format(Layout)}
		for col, v := range want {
			if got := fmt.Sprint(row[col]); got != v {
				t.Errorf("user %d: %s = %q through Illuminate, want %q", u.ID, col, got, v)
			}
		}
		if _, ok := row["api_token"]; ok && row["api_token"] != nil {
			t.Errorf("user %d: propusk wrote the app's own api_token column: %v", u.ID, row["api_token"])
		}
	}
	var tok map[string]any
	if err := json.Unmarshal([]byte(DB(t, c, "token-by-hash", reg.Token.Hash)), &tok); err != nil || tok == nil {
		t.Fatalf("the registration's token through Illuminate: %v %v", tok, err)
	}
	for col, v := range map[string]string{"id": strconv.FormatInt(reg.Token.ID, 10), "tokenable_type": c.tokenableType(),
		"tokenable_id": strconv.FormatInt(reg.User.ID, 10), "created_at": at.In(loc).Format(Layout)} {
		if got := fmt.Sprint(tok[col]); got != v {
			t.Errorf("token %s = %q through Illuminate, want %q", col, got, v)
		}
	}
}

// MeasureDeleteLatency logs how long a token the app deletes through
// Illuminate takes to reach s's feed, median and worst of n: from the
// command's start to the entry's arrival, read as a serving process reads
// it (Notifier.Wait where the store pushes, else Events every 5 ms). Beside
// it, the baseline of the same run: a command that does nothing, which is
// the part of each figure that is the test's pipe to PHP.
func MeasureDeleteLatency(t *testing.T, s propusk.Store, c Connection, n int) {
	t.Helper()
	ctx := t.Context()
	app := StartApp(t, c)
	u := &propusk.User{Login: "latency@example.com", PasswordHash: "$2y$10$x"}
	must(t, s.CreateUser(ctx, u))
	toks := make([]*propusk.PersonalAccessToken, n)
	for i := range toks {
		toks[i] = &propusk.PersonalAccessToken{TokenableType: c.tokenableType(), TokenableID: u.ID, Name: "t", Hash: fmt.Sprintf("%063x%d", i, 9)}
		must(t, s.CreateToken(ctx, toks[i]))
	}
	lat, base := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	for _, tok := range toks {
		start := time.Now()
		if err := do(app, "noop"); err != nil {
			t.Fatal(err)
		}
		base = append(base, time.Since(start))
		last, err := s.LastEvent(ctx)
		must(t, err)
		start = time.Now()
		if _, err := app.Do("delete-token", strconv.FormatInt(tok.ID, 10)); err != nil {
			t.Fatal(err)
		}
		if got := feedAfter(t, s, last, 1, 5*time.Second); len(got) != 1 || got[0] != "pat:"+strconv.FormatInt(tok.ID, 10) {
			t.Fatalf("delete of token %d: feed %q", tok.ID, got)
		}
		lat = append(lat, time.Since(start))
	}
	for _, d := range [][]time.Duration{lat, base} {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	}
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	t.Logf("Laravel-side delete → feed, %d deletes: median %v, worst %v; an empty command's round trip: median %v, worst %v",
		n, r(lat[n/2]), r(lat[n-1]), r(base[n/2]), r(base[n-1]))
}

// feedAfter waits up to d for n feed entries after seq, then returns them
// as "kind:ref", and any that came with them.
func feedAfter(t *testing.T, s propusk.Store, seq int64, n int, d time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	notifier, push := s.(propusk.Notifier)
	var out []string
	for {
		evs, err := s.Events(ctx, seq, 100)
		if err != nil && ctx.Err() == nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			out = append(out, e.Kind+":"+e.Ref)
			seq = e.Seq
		}
		if len(out) >= n && n > 0 {
			return out
		}
		if ctx.Err() != nil {
			return out
		}
		if push {
			if err := notifier.Wait(ctx); err != nil && ctx.Err() == nil {
				t.Fatal(err)
			}
		} else {
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
}

func (c Connection) tokenableType() string {
	if typ, ok := c["tokenable_type"].(string); ok {
		return typ
	}
	return propusk.DefaultLaravelTokenableType
}

// WithTokenableType returns c for an app whose users' tokens have typ.
func (c Connection) WithTokenableType(typ string) Connection {
	out := Connection{}
	for k, v := range c {
		out[k] = v
	}
	out["tokenable_type"] = typ
	return out
}

func do(app *App, args ...string) error {
	out, err := app.Do(args...)
	if err == nil && out != "ok" {
		err = fmt.Errorf("db.php %v: %s", args, out)
	}
	return err
}

func parseIn(t testing.TB, s string, loc *time.Location) time.Time {
	t.Helper()
	at, err := time.ParseInLocation(Layout, s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
