// Package metrics exports propusk's Prometheus metrics. It is the one
// package that imports the Prometheus client: the service (auth) and the
// HTTP server (web) only call small hooks that it fills, so embedders who do
// not want metrics do not link it.
//
// # Use
//
//	m := metrics.New()
//	cfg.Store = m.Store(store)         // store latency and errors
//	cfg.Observer = m                   // token checks, renewals, logins, hashing
//	svc, _ := auth.New(ctx, cfg)
//	m.Watch(svc)                       // gauges read at scrape time
//	handler := m.Requests(srv)         // requests by route and status
//	go http.ListenAndServe(addr, m.Handler())
//
// Every metric is registered on the Metrics' own registry, never the global
// default, so several Services in one process (tests, embedders) stay apart.
// No label carries a user id, a login, a token or a raw path: routes are the
// patterns of the route table, and every other label is one of a fixed set
// of words, all of them listed in docs/OPERATIONS.md.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/status"
)

// Metrics holds propusk's metrics and the registry they are served from.
// It implements auth.Observer.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestSeconds  *prometheus.HistogramVec
	tokenChecks     *prometheus.CounterVec
	renewals        *prometheus.CounterVec
	logins          *prometheus.CounterVec
	registrations   *prometheus.CounterVec
	hashWaitSeconds *prometheus.HistogramVec
	storeSeconds    *prometheus.HistogramVec
	storeErrors     *prometheus.CounterVec

	mu  sync.Mutex
	svc *auth.Service // for the gauges; nil until Watch

	requestChildren requestCache
	// checks are tokenChecks' children of the kinds and outcomes auth
	// reports, made in New and only read after.
	checks map[[2]string]prometheus.Counter
}

// Outcomes that are initialised at zero, so that rates and alerts over them
// work before the first event. They are the words auth.Observer documents.
var (
	checkKinds    = []string{"access-token", "api-token"}
	checkOutcomes = []string{"verified", "cached", "invalid", "expired", "revoked", "malformed", "unknown", "in_cookie", "unavailable", "error"}
	renewOutcomes = []string{"rotated", "fork", "grace", "reuse_revoked", "anonymous", "session_ended", "invalid", "unavailable", "error"}
	loginOutcomes = []string{"ok", "invalid_credentials", "too_many_attempts", "invalid_input", "conflict", "store_unavailable", "internal"}
	regOutcomes   = []string{"ok", "login_taken", "too_many_attempts", "invalid_input", "store_unavailable", "internal"}
	hashPools     = []string{"login", "register"}
)

// New returns Metrics on a registry of their own, with the Go runtime's
// and the process's collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "propusk_http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status.",
	}, []string{"route", "method", "status"})
	m.requestSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "propusk_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern and method.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method"})
	m.tokenChecks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "propusk_token_checks_total",
		Help: "Tokens checked, by kind (access-token, api-token) and outcome (verified, cached, or the refusal's reason).",
	}, []string{"kind", "outcome"})
	m.renewals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "propusk_renewals_total",
		Help: "Refresh tokens spent, by outcome (rotated, fork, grace, reuse_revoked, ...).",
	}, []string{"outcome"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "propusk_logins_total",
		Help: "Logins, by outcome (ok or the error code).",
	}, []string{"outcome"})
	m.registrations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "propusk_registrations_total",
		Help: "Registrations, by outcome (ok or the error code).",
	}, []string{"outcome"})
	m.hashWaitSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "propusk_password_hash_wait_seconds",
		Help:    "Time a password hash waited for a slot, by pool (login, register); 2s is the give-up point.",
		Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2, 2.5},
	}, []string{"pool"})
	m.storeSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "propusk_store_operation_duration_seconds",
		Help:    "Time of a store call, by operation.",
		Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
	}, []string{"operation"})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "propusk_store_errors_total",
		Help: "Store calls that failed, by operation and error code (store_unavailable, internal).",
	}, []string{"operation", "code"})
	m.reg.MustRegister(m.requests, m.requestSeconds, m.tokenChecks, m.renewals, m.logins, m.registrations,
		m.hashWaitSeconds, m.storeSeconds, m.storeErrors, (*gauges)(m),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.checks = map[[2]string]prometheus.Counter{}
	for _, k := range checkKinds {
		for _, o := range checkOutcomes {
			m.checks[[2]string{k, o}] = m.tokenChecks.WithLabelValues(k, o)
		}
	}
	for _, o := range renewOutcomes {
		m.renewals.WithLabelValues(o)
	}
	for _, o := range loginOutcomes {
		m.logins.WithLabelValues(o)
	}
	for _, o := range regOutcomes {
		m.registrations.WithLabelValues(o)
	}
	for _, p := range hashPools {
		m.hashWaitSeconds.WithLabelValues(p)
	}
	for _, op := range storeOps {
		m.storeSeconds.WithLabelValues(op)
	}
	return m
}

// Registry returns the registry the metrics are on, for an embedder who
// adds its own or serves them itself.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Watch makes the gauges read svc's state at each scrape.
func (m *Metrics) Watch(svc *auth.Service) {
	m.mu.Lock()
	m.svc = svc
	m.mu.Unlock()
}

// TokenChecked implements auth.Observer.
func (m *Metrics) TokenChecked(kind, outcome string) {
	if c, ok := m.checks[[2]string{kind, outcome}]; ok {
		c.Inc()
		return
	}
	m.tokenChecks.WithLabelValues(kind, outcome).Inc()
}

// Renewed implements auth.Observer.
func (m *Metrics) Renewed(outcome string) { m.renewals.WithLabelValues(outcome).Inc() }

// LoggedIn implements auth.Observer.
func (m *Metrics) LoggedIn(outcome string) { m.logins.WithLabelValues(outcome).Inc() }

// Registered implements auth.Observer.
func (m *Metrics) Registered(outcome string) { m.registrations.WithLabelValues(outcome).Inc() }

// HashWaited implements auth.Observer.
func (m *Metrics) HashWaited(pool string, wait time.Duration) {
	m.hashWaitSeconds.WithLabelValues(pool).Observe(wait.Seconds())
}

var _ auth.Observer = (*Metrics)(nil)

// Requests counts and times the requests h answers, by the route pattern
// that served them: h must be (or wrap) the ServeMux-based web.Server, which
// sets Request.Pattern. A request no route served is "(unrouted)".
func (m *Metrics) Requests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &status.Writer{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.Code == 0 {
			sw.Code = http.StatusOK
		}
		ch := m.requestChildren.children(m, requestKey{status.Route(r), methodLabel(r.Method), sw.Code})
		ch.count.Inc()
		ch.seconds.Observe(time.Since(start).Seconds())
	})
}

// statusLabel is the status label of code.
func statusLabel(code int) string { return strconv.Itoa(code) }

// methodLabel bounds the method label: a client may send any word.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}

// gauges is the collector of the values read at scrape time.
type gauges Metrics

var (
	descHashRunning = prometheus.NewDesc("propusk_password_hash_running",
		"Password hashes running, by pool.", []string{"pool"}, nil)
	descHashWaiting = prometheus.NewDesc("propusk_password_hash_queue_length",
		"Password hashes waiting for a slot.", nil, nil)
	descRevoked = prometheus.NewDesc("propusk_revoked_sessions",
		"Sessions in the in-memory revoked set (revoked within the access token lifetime).", nil, nil)
	descPATCache = prometheus.NewDesc("propusk_api_token_cache_entries",
		"Personal access tokens in the cache.", nil, nil)
	descUserCache = prometheus.NewDesc("propusk_user_cache_entries",
		"Users cached for the handlers that show the caller's user (user.me).", nil, nil)
	descFeedApplied = prometheus.NewDesc("propusk_feed_applied_sequence",
		"The last revocation feed entry this process applied.", nil, nil)
	descFeedLag = prometheus.NewDesc("propusk_feed_lag_events",
		"Revocation feed entries in the store not yet applied by this process.", nil, nil)
	descFeedAge = prometheus.NewDesc("propusk_feed_sync_age_seconds",
		"Seconds since this process last read the revocation feed to its end.", nil, nil)
	descUp = prometheus.NewDesc("propusk_store_up",
		"1 when the store answered the scrape's feed position query, else 0.", nil, nil)
)

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHashRunning, descHashWaiting, descRevoked, descPATCache, descUserCache, descFeedApplied, descFeedLag, descFeedAge, descUp} {
		ch <- d
	}
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	svc := g.svc
	g.mu.Unlock()
	if svc == nil {
		return
	}
	st := svc.Stats()
	ch <- prometheus.MustNewConstMetric(descHashRunning, prometheus.GaugeValue, float64(st.HashingBusy), "login")
	ch <- prometheus.MustNewConstMetric(descHashRunning, prometheus.GaugeValue, float64(st.RegisterBusy), "register")
	ch <- prometheus.MustNewConstMetric(descHashWaiting, prometheus.GaugeValue, float64(st.HashingWaiting))
	ch <- prometheus.MustNewConstMetric(descRevoked, prometheus.GaugeValue, float64(st.RevokedSessions))
	ch <- prometheus.MustNewConstMetric(descPATCache, prometheus.GaugeValue, float64(st.PATCacheEntries))
	ch <- prometheus.MustNewConstMetric(descUserCache, prometheus.GaugeValue, float64(st.UserCacheEntries))
	ch <- prometheus.MustNewConstMetric(descFeedApplied, prometheus.GaugeValue, float64(st.FeedApplied))
	age := 0.0
	if !st.FeedSyncedAt.IsZero() {
		age = time.Since(st.FeedSyncedAt).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(descFeedAge, prometheus.GaugeValue, age)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	up := 0.0
	if last, err := svc.LastEvent(ctx); err == nil {
		up = 1
		ch <- prometheus.MustNewConstMetric(descFeedLag, prometheus.GaugeValue, float64(max(0, last-st.FeedApplied)))
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)
}
