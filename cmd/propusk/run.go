package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/gctune"
	"github.com/propusk/propusk/internal/logbuf"
	"github.com/propusk/propusk/metrics"
	"github.com/propusk/propusk/mysql"
	"github.com/propusk/propusk/postgres"
	"github.com/propusk/propusk/seal"
	"github.com/propusk/propusk/sqlite"
	"github.com/propusk/propusk/web"
)

// Main is the program: flags parsed by ParseFlags, work done by Run, and
// resources released by Close. Tests run it in-process on port 0.
type Main struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	cmd   string
	flags *flag.FlagSet

	addr, db, issuer, cookieSecure, origins, prefix, masterKeyFile, logFormat string
	abilities                                                                 string // --abilities, comma-separated
	clientIPHeader                                                            string
	accessTTL, refreshTTL, renewGrace, apiTokenTTL                            time.Duration
	login, boards                                                             string
	level                                                                     int
	registerLimit                                                             int
	maxTokens, maxSessions                                                    int
	passwordStdin                                                             bool
	hostCookies                                                               bool
	minFailedLogin                                                            time.Duration
	metricsAddr, accessLog                                                    string
	admin                                                                     userAdmin // the user administration commands
	auditRetention                                                            time.Duration
	audit                                                                     auditFlags // the audit command's
	laravel                                                                   laravelFlags
	transfer                                                                  transferFlags // import laravel's

	metrics         *metrics.Metrics // nil without --metrics-addr
	metricsListener net.Listener
	metricsServer   *http.Server

	log      *slog.Logger
	logs     *logbuf.Writer // stderr; log writes through its Direct
	reqLog   *slog.Logger   // the request log, buffered in logs
	store    propusk.Store
	svc      *auth.Service
	server   *http.Server
	listener net.Listener
	cancel   context.CancelFunc
	bgDone   chan error
}

// NewMain returns a Main that talks through the given streams.
func NewMain(stdin io.Reader, stdout, stderr io.Writer) *Main {
	return &Main{stdin: stdin, stdout: stdout, stderr: stderr}
}

const usage = `usage:
  propusk serve [flags]                 serve the API (embedded SQLite by default)
  propusk migrate --db DSN              create or upgrade the schema
  propusk user add --db DSN --login L [--level N] [--boards a,b] --password-stdin
  propusk user list --db DSN [--login PART] [--limit N]   print users, a JSON line each
  propusk user show|disable|enable --db DSN (--id N | --login L)
  propusk user set --db DSN (--id N | --login L) [--level N] [--boards a,b]
  propusk user delete --db DSN (--id N | --login L) --yes
  propusk user passwd --db DSN (--id N | --login L) --password-stdin
  propusk keys rotate --db DSN          add new signing keys; old ones keep verifying
  propusk audit --db DSN [--user ID] [--kind K] [--since T] [--until T] [--limit N] [--cursor ID]
                                        print audit log entries, newest first, as JSON lines
  propusk import laravel --from DSN --db DSN [--dry-run] [--laravel-* flags]
                                        copy a Laravel app's users and tokens into propusk's database
  propusk version                       print the version and the VCS revision
Every command that opens --db takes --laravel (with the --laravel-* flags)
to work on a Laravel app's database beside the app, in Laravel mode.
"propusk COMMAND --help" lists a command's flags. Every flag can also be set
as PROPUSK_<NAME> (for example PROPUSK_DB, PROPUSK_ACCESS_TTL).
`

// commands are the commands ParseFlags knows; the two-word ones are
// "user add" and "keys rotate".
var commands = append([]string{"serve", "migrate", "user add", "keys rotate", "audit", "import laravel"}, adminCommands...)

// otherVariables are the PROPUSK_* variables read that are not flags: the
// master key, and those of the tests.
var otherVariables = []string{"PROPUSK_MASTER_KEY", "PROPUSK_TEST_POSTGRES", "PROPUSK_TEST_CHROMIUM"}

// ParseFlags reads the subcommand and its flags, then PROPUSK_* variables
// for the flags not given, and validates them all: Run creates nothing
// before this has passed.
func (m *Main) ParseFlags(args []string) error {
	if len(args) == 0 {
		return errors.New("no command\n" + usage)
	}
	m.cmd, args = args[0], args[1:]
	switch m.cmd {
	case "help", "-h", "--help", "-help":
		m.cmd = "help"
		fmt.Fprint(m.stdout, usage)
		return nil
	case "version", "--version", "-version":
		m.cmd = "version"
		return nil
	case "user", "keys", "import":
		if len(args) == 0 {
			return fmt.Errorf("%s: no subcommand\n%s", m.cmd, usage)
		}
		if isHelp(args[0]) {
			fmt.Fprint(m.stdout, usage)
			m.cmd = "help"
			return nil
		}
		m.cmd, args = m.cmd+" "+args[0], args[1:]
	}
	fs := m.flagSet(m.cmd)
	if fs == nil {
		return fmt.Errorf("unknown command %q\n%s", m.cmd, usage)
	}
	// The flag package prints its errors itself; main prints them once.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(m.stdout, "usage: propusk %s [flags]\n", m.cmd)
			fs.SetOutput(m.stdout)
			fs.PrintDefaults()
			m.cmd = "help"
			return nil
		}
		return fmt.Errorf("%w (propusk %s --help lists the flags)", err, m.cmd)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		if v, ok := os.LookupEnv(env); ok && !set[f.Name] && !commandLineOnly[f.Name] && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", env, e)
			}
		}
	})
	if err != nil {
		return err
	}
	if err := m.validate(); err != nil {
		return err
	}
	// The request log's lines wait in a buffer for up to 100 ms and go out
	// together; every other line goes out at once, after them.
	m.logs = logbuf.New(m.stderr, 0, 0)
	handler := func(w io.Writer, o *slog.HandlerOptions) slog.Handler { return slog.NewTextHandler(w, o) }
	if m.logFormat == "json" {
		handler = func(w io.Writer, o *slog.HandlerOptions) slog.Handler { return slog.NewJSONHandler(w, o) }
	}
	m.log = slog.New(web.LogHandler(handler(m.logs.Direct(), nil)))
	m.reqLog = slog.New(web.RequestLogHandler(m.logs, m.logFormat == "json"))
	for _, v := range unknownVariables(os.Environ()) {
		m.log.Warn("unknown variable ignored: no flag has this name (propusk help lists them)", "variable", v)
	}
	m.flags = fs
	return nil
}

// flagSet declares the flags of cmd on m, or returns nil for an unknown
// command.
func (m *Main) flagSet(cmd string) *flag.FlagSet {
	fs := flag.NewFlagSet("propusk "+cmd, flag.ContinueOnError)
	fs.StringVar(&m.db, "db", "sqlite:propusk.db", "database: sqlite:PATH, postgres://… or mysql://user:pass@host:3306/dbname")
	fs.StringVar(&m.masterKeyFile, "master-key-file", "", "file of the master key (default: beside an SQLite database, else propusk.master.key); PROPUSK_MASTER_KEY overrides it")
	fs.StringVar(&m.logFormat, "log-format", "text", "text or json")
	m.laravel.declare(fs, cmd != "import laravel")
	switch cmd {
	case "serve":
		fs.StringVar(&m.addr, "addr", "127.0.0.1:8080", "address to listen on")
		m.accessTTL, m.refreshTTL, m.renewGrace = auth.DefaultAccessTTL, auth.DefaultRefreshTTL, auth.DefaultRenewGrace
		fs.Var(durationFlag{&m.accessTTL}, "access-ttl", "lifetime of access tokens")
		fs.Var(durationFlag{&m.refreshTTL}, "refresh-ttl", "lifetime of refresh tokens, sliding")
		fs.Var(durationFlag{&m.renewGrace}, "renew-grace", "how long a spent refresh token still renews, for racing tabs; 0 none")
		fs.StringVar(&m.issuer, "issuer", auth.DefaultIssuer, "iss of access tokens")
		fs.StringVar(&m.cookieSecure, "cookie-secure", "auto", "auto, true or false")
		fs.BoolVar(&m.hostCookies, "cookie-host-prefix", false, "name the token cookies __Host-accessToken and __Host-refreshToken (Secure, Path=/); HTTPS deployments only")
		fs.StringVar(&m.origins, "stateful-origins", "", "comma-separated first-party origins for cookie login")
		fs.StringVar(&m.abilities, "abilities", "", "comma-separated abilities the account page offers for new tokens, besides * and propusk's own")
		fs.StringVar(&m.prefix, "token-prefix", "", "prefix of new personal access tokens")
		fs.Var(durationFlag{&m.apiTokenTTL}, "api-token-ttl", "lifetime of api-tokens; 0 never expires")
		fs.IntVar(&m.maxTokens, "max-tokens-per-user", auth.DefaultMaxTokensPerUser, "personal access tokens one user may hold; 0 no cap")
		fs.IntVar(&m.maxSessions, "max-sessions-per-user", auth.DefaultMaxSessionsPerUser, "live sessions one user may have; 0 no cap")
		fs.StringVar(&m.clientIPHeader, "client-ip-header", "", "header in which a trusted reverse proxy passes the client's address (such as X-Real-IP); default: the peer address")
		fs.DurationVar(&m.minFailedLogin, "min-failed-login", 0, "least time a failed login takes from the start of its password check; set above the slowest hash in the store (0: the slowest check seen lately)")
		fs.IntVar(&m.registerLimit, "register-limit", 30, "registrations a client address may try per hour, login_taken answers included")
		fs.StringVar(&m.accessLog, "access-log", "all", "request log: all, errors (answers of 400 and above), off, or a share from 0 to 1 of the other answers to log besides every error (such as 0.1)")
		fs.StringVar(&m.metricsAddr, "metrics-addr", "", "address to serve Prometheus metrics on, at /metrics (such as 127.0.0.1:9090); default none. Keep it off the public network")
		m.auditRetention = auth.DefaultAuditRetention
		fs.Var(durationFlag{&m.auditRetention}, "audit-retention", "how long audit log entries are kept; the hourly prune deletes older ones")
	case "audit":
		m.audit.declare(fs)
	case "migrate", "keys rotate":
	case "import laravel":
		m.transfer.declare(fs)
	case "user add":
		fs.StringVar(&m.login, "login", "", "login of the new user")
		fs.IntVar(&m.level, "level", propusk.LevelUser, "level: 10 user, 30 administrator")
		fs.StringVar(&m.boards, "boards", "*", "comma-separated boards; * is every board")
		fs.BoolVar(&m.passwordStdin, "password-stdin", false, "read the password from standard input")
	default:
		if !m.userAdminFlags(fs, cmd) {
			return nil
		}
	}
	return fs
}

// validate checks the values the flag package cannot: enums and ranges.
// Each message shows a value that would do.
func (m *Main) validate() error {
	switch m.logFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format must be text or json, not %q", m.logFormat)
	}
	if err := m.laravel.parse(m.cmd == "import laravel"); err != nil {
		return err
	}
	switch m.cmd {
	case "serve":
		switch m.cookieSecure {
		case "auto", "true", "false":
		default:
			return fmt.Errorf("--cookie-secure must be auto, true or false, not %q", m.cookieSecure)
		}
		if m.hostCookies && m.cookieSecure == "false" {
			return errors.New("--cookie-host-prefix needs Secure cookies: drop --cookie-secure false")
		}
		if _, err := web.ParseAccessLog(m.accessLog); err != nil {
			return fmt.Errorf("--access-log: %w", err)
		}
		if m.registerLimit < 1 {
			return fmt.Errorf("--register-limit must be at least 1, not %d", m.registerLimit)
		}
		if m.maxTokens < 0 || m.maxSessions < 0 {
			return errors.New("--max-tokens-per-user and --max-sessions-per-user must be 0 (no cap) or more, e.g. 1000")
		}
		if m.accessTTL == 0 || m.refreshTTL < m.accessTTL {
			return fmt.Errorf("--refresh-ttl (%s) must be at least --access-ttl (%s), which must be above 0, e.g. --access-ttl 15m --refresh-ttl 720h", m.refreshTTL, m.accessTTL)
		}
	case "audit":
		if err := m.audit.parse(); err != nil {
			return err
		}
	case "import laravel":
		return m.transfer.validate()
	case "user add":
		if m.level < propusk.LevelAnonymous+1 || m.level > propusk.LevelAdmin {
			return fmt.Errorf("--level must be from %d to %d, e.g. %d (user) or %d (administrator), not %d",
				propusk.LevelAnonymous+1, propusk.LevelAdmin, propusk.LevelUser, propusk.LevelAdmin, m.level)
		}
		if m.login == "" {
			return errors.New("user add: --login is required, e.g. --login admin")
		}
	case "user list", "user show", "user set", "user disable", "user enable", "user delete", "user passwd":
		return m.validateUserAdmin()
	}
	return nil
}

func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "--help", "-help":
		return true
	}
	return false
}

// envName is the variable that sets flag name: PROPUSK_ACCESS_TTL for
// access-ttl.
func envName(name string) string {
	return "PROPUSK_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// unknownVariables returns the PROPUSK_* names in environ that no command
// reads: most likely mistyped, and otherwise silently ignored.
func unknownVariables(environ []string) []string {
	known := map[string]bool{}
	for _, v := range otherVariables {
		known[v] = true
	}
	for _, c := range commands {
		new(Main).flagSet(c).VisitAll(func(f *flag.Flag) { known[envName(f.Name)] = !commandLineOnly[f.Name] })
	}
	var unknown []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PROPUSK_") && !known[name] {
			unknown = append(unknown, name)
		}
	}
	return unknown
}

// durationFlag is a time.Duration flag whose errors say what to write
// instead: "15" is refused with "use a unit, e.g. 15m", and so is a
// negative duration.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil && s != "0" {
			return fmt.Errorf("%q has no unit: use a unit, e.g. %sm or %ss", s, s, s)
		}
		return fmt.Errorf("%q is not a duration: use a number and a unit, e.g. 15m, 720h or 10s", s)
	}
	if d < 0 {
		return fmt.Errorf("%q is negative: use 0 or more, e.g. 15m", s)
	}
	*f.d = d
	return nil
}

// Serving reports whether Run started a server that runs until Close.
func (m *Main) Serving() bool { return m.server != nil }

// Addr returns the address the server listens on (useful with port 0).
func (m *Main) Addr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// Run does the command. For serve it starts the server and returns; Close
// stops it. Serve binds its port before it opens the database, so a port
// in use creates nothing.
func (m *Main) Run(ctx context.Context) (err error) {
	switch m.cmd {
	case "help":
		return nil
	case "version":
		fmt.Fprintln(m.stdout, version())
		return nil
	case "serve":
		if m.listener, err = net.Listen("tcp", m.addr); err != nil {
			return fmt.Errorf("--addr %s: %w (is another server on that port? choose another with --addr)", m.addr, err)
		}
		if err := m.listenMetrics(); err != nil {
			return err
		}
	}
	if m.cmd == "import laravel" {
		return m.importLaravel(ctx)
	}
	if m.store, err = openStoreMode(ctx, m.db, m.laravel.settings); err != nil {
		return err
	}
	if err := migrate(ctx, m.store); err != nil {
		return err
	}
	if s, ok := m.store.(*sqlite.Store); ok {
		for _, p := range s.Exposed() {
			m.log.Warn("database file is readable by others; chmod 600 it", "path", p)
		}
	}
	if m.cmd == "migrate" {
		fmt.Fprintln(m.stdout, "schema is up to date")
		return nil
	}
	if m.cmd == "audit" {
		return m.printAudit(ctx)
	}
	key, err := m.masterKey(ctx)
	if err != nil {
		return err
	}
	if m.cmd == "keys rotate" {
		kid, err := auth.RotateKeys(ctx, m.store, key, time.Now(), rand.Reader)
		if err != nil {
			return err
		}
		fmt.Fprintln(m.stdout, "new signing key:", kid)
		return nil
	}
	cfg := auth.Config{
		Store: m.store, MasterKey: key, Logger: m.log, Issuer: m.issuer,
		AccessTTL: m.accessTTL, RefreshTTL: m.refreshTTL, RenewGrace: m.renewGrace,
		APITokenTTL: m.apiTokenTTL, TokenPrefix: m.prefix,
		RegisterLimit:  auth.RegisterLimitConfig{PerIP: m.registerLimit},
		MinFailedLogin: m.minFailedLogin,
		AuditRetention: m.auditRetention,
		Laravel:        m.laravel.settings,
	}
	if m.metrics != nil {
		cfg.Store, cfg.Observer = m.metrics.Store(m.store), m.metrics
	}
	if m.renewGrace == 0 && m.cmd == "serve" {
		cfg.RenewGrace = auth.NoGrace // --renew-grace 0 means none, not the default
	}
	if m.cmd == "serve" {
		// 0 on the command line means no cap; auth.Config reads 0 as the default.
		cfg.MaxTokensPerUser, cfg.MaxSessionsPerUser = noCapIfZero(m.maxTokens), noCapIfZero(m.maxSessions)
	}
	if m.svc, err = auth.New(ctx, cfg); err != nil {
		return err
	}
	switch m.cmd {
	case "user add":
		return m.addUser(ctx)
	case "serve":
		return m.serve()
	}
	return m.administer(ctx)
}

// version is the module version and VCS revision the binary was built
// from, as the Go toolchain recorded them.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "propusk (no build information)"
	}
	v := "propusk " + bi.Main.Version
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = " (modified)"
			}
		}
	}
	if rev != "" {
		v += " revision " + rev + dirty
		if at != "" {
			v += " " + at
		}
	}
	return v + " " + bi.GoVersion
}

func (m *Main) addUser(ctx context.Context) error {
	if !m.passwordStdin {
		return errors.New("user add: give the password on standard input with --password-stdin (never as a flag)")
	}
	line, err := bufio.NewReader(m.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("user add: read password: %w", err)
	}
	var boards []string
	for b := range strings.SplitSeq(m.boards, ",") {
		if b = strings.TrimSpace(b); b != "" {
			boards = append(boards, b)
		}
	}
	u, err := m.svc.CreateUser(ctx, m.login, strings.TrimRight(line, "\r\n"), m.level, boards)
	if err != nil {
		return fmt.Errorf("user add: %s", propusk.ErrorMessage(err))
	}
	// The id alone goes to standard output, for scripts; the log says
	// what was made.
	fmt.Fprintln(m.stdout, u.ID)
	m.log.Info("created user", "id", u.ID, "login", u.Login, "level", u.Level, "boards", strings.Join(u.Boards, ","))
	return nil
}

func (m *Main) serve() error {
	var origins []string
	for o := range strings.SplitSeq(m.origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	srv, err := web.New(web.Config{
		Service: m.svc, Logger: m.log, CookieSecure: m.cookieSecure, StatefulOrigins: origins,
		ClientIPHeader: m.clientIPHeader, HostCookies: m.hostCookies,
		Abilities: splitList(m.abilities),
	})
	if err != nil {
		return err
	}
	accessLog, _ := web.ParseAccessLog(m.accessLog) // validated by ParseFlags
	var h http.Handler = srv
	if m.metrics != nil {
		m.metrics.Watch(m.svc)
		h = m.metrics.Requests(h)
		m.serveMetrics()
	}
	m.server = &http.Server{
		Handler:           web.RequestIDs(web.LogRequestsAs(m.reqLog, accessLog, h)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
	if p := gctune.For(m.svc.HashingMemory()); gctune.Apply(p, os.Getenv) {
		m.log.Info("garbage collector set for a server (GOGC or GOMEMLIMIT in the environment choose otherwise)", "gc", p.String())
	}
	m.server.RegisterOnShutdown(srv.CloseStreams)
	bg, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.bgDone = make(chan error, 1)
	go func() { m.bgDone <- m.svc.Run(bg) }()
	go func() {
		if err := m.server.Serve(m.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("serve", "err", err)
		}
	}()
	m.log.Info("listening", "addr", m.listener.Addr().String(), "db", redactDSN(m.db))
	return nil
}

// Close drains in-flight requests (up to 20 s), stops the background work,
// flushes last_used_at and closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.server != nil {
		m.log.Info("stopping: draining requests in flight (up to 20s)")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		errs = append(errs, m.server.Shutdown(ctx))
		cancel()
	} else if m.listener != nil {
		errs = append(errs, m.listener.Close()) // bound, never served
	}
	errs = append(errs, m.closeMetrics())
	if m.cancel != nil {
		m.cancel()
		err := <-m.bgDone // Run flushes last_used_at as it returns
		errs = append(errs, err)
		if err == nil {
			m.log.Info("flushed last_used_at of personal access tokens")
		}
	}
	if m.store != nil {
		errs = append(errs, m.store.Close())
		if m.server != nil {
			m.log.Info("stopped: requests drained, database closed")
		}
	}
	if m.logs != nil {
		m.logs.Close() // the request log's last lines; a write error has no one left to tell
	}
	return errors.Join(errs...)
}

// migrator is implemented by both stores.
type migrator interface{ Migrate(context.Context) error }

func migrate(ctx context.Context, s propusk.Store) error {
	mg, ok := s.(migrator)
	if !ok {
		return nil
	}
	if err := mg.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// openStore opens the database a DSN names in propusk's own schema.
func openStore(ctx context.Context, dsn string) (propusk.Store, error) {
	return openStoreMode(ctx, dsn, nil)
}

// openStoreMode opens the database a DSN names: sqlite:PATH (or a bare
// path) postgres://… or mysql://…, in Laravel mode when l is not nil.
func openStoreMode(ctx context.Context, dsn string, l *propusk.Laravel) (propusk.Store, error) {
	// Each case checks its own error: returning a nil *Store inside the
	// interface would make the caller's nil check pass and Close panic.
	switch path, isSQLite := strings.CutPrefix(dsn, "sqlite:"); {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		var s *postgres.Store
		var err error
		if l != nil {
			s, err = postgres.OpenLaravel(ctx, dsn, *l)
		} else {
			s, err = postgres.Open(ctx, dsn)
		}
		if propusk.ErrorCode(err) == propusk.EUNAVAILABLE {
			return nil, fmt.Errorf("cannot reach the PostgreSQL server of --db %s: is it running, and are the host and port right? (%w)", redactDSN(dsn), err)
		}
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", redactDSN(dsn), err)
		}
		return s, nil
	case strings.HasPrefix(dsn, "mysql://"):
		var s *mysql.Store
		var err error
		if l != nil {
			s, err = mysql.OpenLaravel(ctx, dsn, *l)
		} else {
			s, err = mysql.Open(ctx, dsn)
		}
		if propusk.ErrorCode(err) == propusk.EUNAVAILABLE {
			return nil, fmt.Errorf("cannot reach the MySQL/MariaDB server of --db %s: is it running, and are the host and port right? (%w)", redactDSN(dsn), err)
		}
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", redactDSN(dsn), err)
		}
		return s, nil
	case isSQLite && path != "", !isSQLite && dsn != "" && !strings.Contains(dsn, "://"):
		var s *sqlite.Store
		var err error
		if l != nil {
			s, err = sqlite.OpenLaravel(ctx, path, *l)
		} else {
			s, err = sqlite.Open(ctx, path)
		}
		switch dir := filepath.Dir(path); {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("the directory %s does not exist: create it (mkdir -p %s) or choose another with --db sqlite:PATH (%w)", dir, dir, err)
		case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
			return nil, fmt.Errorf("cannot create or write the database in %s: make the directory writable by this user, or choose another with --db sqlite:PATH (%w)", dir, err)
		case err != nil:
			return nil, fmt.Errorf("open %s: %w", dsn, err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("--db: want sqlite:PATH, postgres://… or mysql://…, not %q", redactDSN(dsn))
	}
}

// masterKey returns the key that seals every other key: PROPUSK_MASTER_KEY
// (base64 of 32 bytes) when set, else the key file, created with mode 0600
// on first start. A missing file is created only while the database holds
// no sealed keys: a new key would open none of them, and writing it would
// leave the wrong key on disk beside them.
func (m *Main) masterKey(ctx context.Context) ([]byte, error) {
	if v := os.Getenv("PROPUSK_MASTER_KEY"); v != "" {
		k, err := seal.ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("PROPUSK_MASTER_KEY: %w", err)
		}
		return k, nil
	}
	path := m.masterKeyFile
	if path == "" {
		path = "propusk.master.key"
		if p, ok := strings.CutPrefix(m.db, "sqlite:"); ok {
			path = p + ".key"
		} else if !strings.Contains(m.db, "://") {
			path = m.db + ".key"
		}
	}
	k, err := seal.ReadKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		keys, kerr := m.store.Keys(ctx)
		if kerr != nil {
			return nil, fmt.Errorf("master key file %s is missing, and the database's keys cannot be read to tell whether it may be created: %w", path, kerr)
		}
		if len(keys) > 0 {
			return nil, fmt.Errorf("master key file %s is missing, but the database %s holds %d keys sealed under a master key: restore the file (or set PROPUSK_MASTER_KEY, or point --master-key-file at it); a new key would open none of them, so none was created",
				path, redactDSN(m.db), len(keys))
		}
		k, err = seal.CreateKeyFile(path, rand.Reader)
		if errors.Is(err, fs.ErrExist) { // another process on this database made it first
			k, err = seal.ReadKeyFile(path)
		} else if err == nil {
			m.log.Info("created master key file", "path", path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if seal.KeyFileExposed(path) {
		m.log.Warn("master key file is readable by others; chmod 600 it", "path", path)
	}
	return k, nil
}

// redactDSN hides a password in a DSN before it is printed.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			userinfo := dsn[i+3 : at]
			if u, _, ok := strings.Cut(userinfo, ":"); ok {
				return dsn[:i+3] + u + ":REDACTED" + dsn[at:]
			}
		}
	}
	if strings.Contains(dsn, "password=") {
		return "(dsn with password)"
	}
	return dsn
}

// noCapIfZero maps a cap flag to auth.Config: 0 (no cap) becomes auth.NoCap.
func noCapIfZero(n int) int {
	if n == 0 {
		return auth.NoCap
	}
	return n
}
