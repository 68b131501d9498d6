package metrics_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/missing"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/metrics"
	"github.com/propusk/propusk/web"
)

var storeKinds = []struct {
	name string
	open func(t *testing.T) propusk.Store
}{
	{"sqlite", func(t *testing.T) propusk.Store { s, _ := testenv.SQLite(t); return s }},
	{"postgres", func(t *testing.T) propusk.Store { s, _ := testenv.Postgres(t); return s }},
}

// TestEveryOutcome drives every outcome the metrics count through a real
// service on each store, then scrapes, checks each counter moved by what
// was done, and runs promtool check metrics on the scrape.
func TestEveryOutcome(t *testing.T) {
	for _, sk := range storeKinds {
		t.Run(sk.name, func(t *testing.T) { everyOutcome(t, sk.open(t)) })
	}
}

func everyOutcome(t *testing.T, store propusk.Store) {
	ctx := context.Background()
	clk := testenv.NewClock(time.Time{})
	m := metrics.New()
	key := make([]byte, 32)
	rand.Read(key)
	svc, err := auth.New(ctx, auth.Config{
		Store: m.Store(store), Observer: m, MasterKey: key, Now: clk.Now,
		Logger:        slog.New(slog.DiscardHandler),
		Argon2:        auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1},
		LoginLimit:    auth.LimitConfig{PerLogin: 2, PerIP: 50},
		RegisterLimit: auth.RegisterLimitConfig{PerIP: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Watch(svc)
	a := propusk.Client{IP: "192.0.2.1", UserAgent: "test"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	code := func(want string, err error) {
		t.Helper()
		if got := propusk.ErrorCode(err); got != want {
			t.Fatalf("error %q, want %q (%v)", got, want, err)
		}
	}

	// Registrations: ok, login_taken, ok, too_many_attempts (3 per address).
	_, err = svc.Register(ctx, "alice", "correct horse", a)
	must(err)
	_, err = svc.Register(ctx, "alice", "correct horse", a)
	code(propusk.ELOGINTAKEN, err)
	_, err = svc.Register(ctx, "bob", "correct horse", a)
	must(err)
	_, err = svc.Register(ctx, "carol", "correct horse", a)
	code(propusk.ETOOMANY, err)
	_, err = svc.Register(ctx, "dave", "short", a)
	code(propusk.EINVALID, err)

	// Logins: ok twice, then two failures and the limit (2 per login).
	first, err := svc.Login(ctx, "alice", "correct horse", a)
	must(err)
	p, err := svc.Login(ctx, "alice", "correct horse", a)
	must(err)
	for range 2 {
		_, err = svc.Login(ctx, "alice", "wrong password", a)
		code(propusk.ECREDENTIALS, err)
	}
	_, err = svc.Login(ctx, "alice", "correct horse", a)
	code(propusk.ETOOMANY, err)

	// Token checks.
	_, err = svc.Authenticate(ctx, p.AccessToken, propusk.ViaAccessToken) // verified
	must(err)
	_, err = svc.Authenticate(ctx, "e30.e30.AAAA", propusk.ViaAccessToken) // invalid
	code(propusk.ETOKENINVALID, err)
	_, err = svc.Authenticate(ctx, p.APIToken, propusk.ViaAccessToken) // api-token verified
	must(err)
	_, err = svc.Authenticate(ctx, p.APIToken, propusk.ViaAccessToken) // api-token cached
	must(err)
	_, err = svc.Authenticate(ctx, p.APIToken, propusk.ViaCookie) // in_cookie
	code(propusk.ETOKENINVALID, err)
	_, err = svc.Authenticate(ctx, "1|notachecksummedsecret", propusk.ViaAccessToken) // malformed
	code(propusk.ETOKENINVALID, err)
	must(svc.SyncFeed(ctx))
	_, err = svc.Authenticate(ctx, first.APIToken, propusk.ViaAccessToken) // unknown: replaced by the second login
	code(propusk.ETOKENINVALID, err)

	// Renewals: rotated, fork (spent again within the grace period),
	// anonymous, invalid, then reuse after the grace period.
	r1, err := svc.Renew(ctx, p.RefreshToken, a)
	must(err)
	_, err = svc.Renew(ctx, p.RefreshToken, a)
	must(err)
	anon, err := svc.Obtain(ctx)
	must(err)
	_, err = svc.Renew(ctx, anon.RefreshToken, a)
	must(err)
	_, err = svc.Renew(ctx, "garbage", a)
	code(propusk.ETOKENINVALID, err)
	clk.Advance(time.Minute)
	_, err = svc.Renew(ctx, p.RefreshToken, a)
	code(propusk.ETOKENREUSED, err)
	_, err = svc.Authenticate(ctx, r1.AccessToken, propusk.ViaAccessToken) // revoked with the session
	code(propusk.ETOKENINVALID, err)
	_, err = svc.Renew(ctx, r1.RefreshToken, a) // its session has ended
	code(propusk.ETOKENINVALID, err)
	clk.Advance(time.Hour)
	_, err = svc.Authenticate(ctx, first.AccessToken, propusk.ViaAccessToken) // expired
	code(propusk.ETOKENEXPIRED, err)

	// Requests, through the web server.
	srv, err := web.New(web.Config{Service: svc})
	must(err)
	ts := httptest.NewServer(m.Requests(srv))
	defer ts.Close()
	for _, path := range []string{"/healthz", "/healthz", "/no/such/path"} {
		res, err := http.Get(ts.URL + path)
		must(err)
		res.Body.Close()
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/user.me?token=secret", nil)
	req.Header.Set("X-Requested-With", "test")
	res, err := http.DefaultClient.Do(req)
	must(err)
	res.Body.Close()

	// A store call that fails: the request's context has ended.
	done, cancel := context.WithCancel(ctx)
	cancel()
	r2, err := svc.Login(ctx, "bob", "correct horse", a)
	must(err)
	_, err = svc.Renew(done, r2.RefreshToken, a)
	if err == nil {
		t.Fatal("a renewal with an ended context succeeded")
	}

	// The reuse revoked a session and bob's login replaced his api-token: the feed has two entries this process
	// has not read yet, until it syncs.
	if lag := gather(t, m)[`propusk_feed_lag_events`]; lag != 2 {
		t.Errorf("feed lag before sync = %v, want 2 (the reuse, and bob's replaced api-token)", lag)
	}
	must(svc.SyncFeed(ctx))
	got := gather(t, m)
	var storeErrors, renewFailed float64
	for name, v := range got {
		if strings.HasPrefix(name, `propusk_store_errors_total{code=`) && strings.HasSuffix(name, `operation="renew_session"}`) {
			storeErrors += v
		}
		if name == `propusk_renewals_total{outcome="unavailable"}` || name == `propusk_renewals_total{outcome="error"}` {
			renewFailed += v
		}
	}
	if storeErrors != 1 || renewFailed != 1 {
		t.Errorf("a failed renewal counted %v store errors and %v failed renewals, want 1 and 1", storeErrors, renewFailed)
	}
	want := map[string]float64{
		`propusk_registrations_total{outcome="ok"}`:                                          2,
		`propusk_registrations_total{outcome="login_taken"}`:                                 1,
		`propusk_registrations_total{outcome="too_many_attempts"}`:                           1,
		`propusk_registrations_total{outcome="invalid_input"}`:                               1,
		`propusk_logins_total{outcome="ok"}`:                                                 3,
		`propusk_logins_total{outcome="invalid_credentials"}`:                                2,
		`propusk_logins_total{outcome="too_many_attempts"}`:                                  1,
		`propusk_token_checks_total{kind="access-token",outcome="verified"}`:                 1,
		`propusk_token_checks_total{kind="access-token",outcome="invalid"}`:                  1,
		`propusk_token_checks_total{kind="access-token",outcome="revoked"}`:                  1,
		`propusk_token_checks_total{kind="access-token",outcome="expired"}`:                  1,
		`propusk_token_checks_total{kind="api-token",outcome="verified"}`:                    1,
		`propusk_token_checks_total{kind="api-token",outcome="cached"}`:                      1,
		`propusk_token_checks_total{kind="api-token",outcome="in_cookie"}`:                   1,
		`propusk_token_checks_total{kind="api-token",outcome="malformed"}`:                   1,
		`propusk_token_checks_total{kind="api-token",outcome="unknown"}`:                     1,
		`propusk_renewals_total{outcome="rotated"}`:                                          1,
		`propusk_renewals_total{outcome="fork"}`:                                             1,
		`propusk_renewals_total{outcome="anonymous"}`:                                        1,
		`propusk_renewals_total{outcome="invalid"}`:                                          1,
		`propusk_renewals_total{outcome="reuse_revoked"}`:                                    1,
		`propusk_renewals_total{outcome="session_ended"}`:                                    1,
		`propusk_http_requests_total{method="GET",route="GET /healthz",status="200"}`:        2,
		`propusk_http_requests_total{method="GET",route="(unrouted)",status="404"}`:          1,
		`propusk_http_requests_total{method="GET",route="GET /api/v1/user.me",status="403"}`: 1,
		`propusk_revoked_sessions`:                                                           1,
		`propusk_feed_lag_events`:                                                            0,
		`propusk_store_up`:                                                                   1,
		`propusk_password_hash_queue_length`:                                                 0,
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("%s = %v (present %v), want %v", name, g, ok, w)
		}
	}
	// Counts of histograms: every password hash waited for a slot, and
	// the store calls were timed.
	for _, name := range []string{
		`propusk_password_hash_wait_seconds_count{pool="login"}`,
		`propusk_password_hash_wait_seconds_count{pool="register"}`,
		`propusk_store_operation_duration_seconds_count{operation="renew_session"}`,
		`propusk_store_operation_duration_seconds_count{operation="user_by_login"}`,
		`propusk_store_operation_duration_seconds_count{operation="reserve_budgets"}`,
		`propusk_http_request_duration_seconds_count{method="GET",route="GET /healthz"}`,
	} {
		if got[name] == 0 {
			t.Errorf("%s did not move", name)
		}
	}
	if got[`propusk_api_token_cache_entries`] < 1 {
		t.Errorf("api-token cache is empty in the metrics")
	}
	if got[`propusk_user_cache_entries`] < 1 {
		t.Errorf("user cache is empty in the metrics")
	}
	for name := range got {
		if strings.Contains(name, "secret") || strings.Contains(name, "alice") || strings.Contains(name, "/no/such") {
			t.Errorf("a label carries a request's value: %s", name)
		}
	}
	promtool(t, scrape(t, m))
}

// gather returns every sample as name{labels} (labels sorted), histograms
// as their _count.
func gather(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			name := f.GetName()
			var v float64
			switch {
			case mt.Counter != nil:
				v = mt.Counter.GetValue()
			case mt.Gauge != nil:
				v = mt.Gauge.GetValue()
			case mt.Histogram != nil:
				name += "_count"
				v = float64(mt.Histogram.GetSampleCount())
			default:
				continue
			}
			out[name+labels(mt.GetLabel())] = v
		}
	}
	return out
}

func labels(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	var b []string
	for _, l := range ls { // the client sorts them by name
		b = append(b, l.GetName()+`="`+l.GetValue()+`"`)
	}
	return "{" + strings.Join(b, ",") + "}"
}

// scrape fetches the metrics as Prometheus would.
func scrape(t *testing.T, m *metrics.Metrics) []byte {
	t.Helper()
	ts := httptest.NewServer(m.Handler())
	defer ts.Close()
	res, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// promtool runs "promtool check metrics" on a scrape: it fails on
// malformed exposition and on names against Prometheus's conventions.
func promtool(t *testing.T, text []byte) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		missing.Skip(t, "promtool not found (apt-get install prometheus)")
	}
	path := filepath.Join(t.TempDir(), "scrape.txt")
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = f
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
