package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/postgres"
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
	clientIPHeader                                                            string
	accessTTL, refreshTTL, renewGrace, apiTokenTTL                            time.Duration
	login, boards                                                             string
	level                                                                     int
	registerLimit                                                             int
	maxTokens, maxSessions                                                    int
	passwordStdin                                                             bool
	hostCookies                                                               bool

	log      *slog.Logger
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
  propusk keys rotate --db DSN          add new signing keys; old ones keep verifying
Every flag can also be set as PROPUSK_<NAME> (for example PROPUSK_DB, PROPUSK_ACCESS_TTL).
`

// ParseFlags reads the subcommand and its flags, then PROPUSK_* variables
// for the flags not given.
func (m *Main) ParseFlags(args []string) error {
	if len(args) == 0 {
		return errors.New("no command\n" + usage)
	}
	m.cmd, args = args[0], args[1:]
	if m.cmd == "user" || m.cmd == "keys" {
		if len(args) == 0 {
			return fmt.Errorf("%s: no subcommand\n%s", m.cmd, usage)
		}
		m.cmd, args = m.cmd+" "+args[0], args[1:]
	}
	fs := flag.NewFlagSet("propusk "+m.cmd, flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	fs.StringVar(&m.db, "db", "sqlite:propusk.db", "database: sqlite:PATH or postgres://…")
	fs.StringVar(&m.masterKeyFile, "master-key-file", "", "file of the master key (default: beside an SQLite database, else propusk.master.key); PROPUSK_MASTER_KEY overrides it")
	fs.StringVar(&m.logFormat, "log-format", "text", "text or json")
	switch m.cmd {
	case "serve":
		fs.StringVar(&m.addr, "addr", "127.0.0.1:8080", "address to listen on")
		fs.DurationVar(&m.accessTTL, "access-ttl", 15*time.Minute, "lifetime of access tokens")
		fs.DurationVar(&m.refreshTTL, "refresh-ttl", 720*time.Hour, "lifetime of refresh tokens (sliding)")
		fs.DurationVar(&m.renewGrace, "renew-grace", 10*time.Second, "how long a spent refresh token still renews (racing tabs)")
		fs.StringVar(&m.issuer, "issuer", "propusk", "iss of access tokens")
		fs.StringVar(&m.cookieSecure, "cookie-secure", "auto", "auto, true or false")
		fs.BoolVar(&m.hostCookies, "cookie-host-prefix", false, "name the token cookies __Host-accessToken and __Host-refreshToken (Secure, Path=/); HTTPS deployments only")
		fs.StringVar(&m.origins, "stateful-origins", "", "comma-separated first-party origins for cookie login")
		fs.StringVar(&m.prefix, "token-prefix", "", "prefix of new personal access tokens")
		fs.DurationVar(&m.apiTokenTTL, "api-token-ttl", 0, "lifetime of api-tokens; 0 never expires")
		fs.IntVar(&m.maxTokens, "max-tokens-per-user", auth.DefaultMaxTokensPerUser, "personal access tokens one user may hold; 0 no cap")
		fs.IntVar(&m.maxSessions, "max-sessions-per-user", auth.DefaultMaxSessionsPerUser, "live sessions one user may have; 0 no cap")
		fs.StringVar(&m.clientIPHeader, "client-ip-header", "", "header in which a trusted reverse proxy passes the client's address (such as X-Real-IP); default: the peer address")
		fs.IntVar(&m.registerLimit, "register-limit", 30, "registrations a client address may try per hour, login_taken answers included")
	case "migrate", "keys rotate":
	case "user add":
		fs.StringVar(&m.login, "login", "", "login of the new user")
		fs.IntVar(&m.level, "level", propusk.LevelUser, "level: 10 user, 30 administrator")
		fs.StringVar(&m.boards, "boards", "*", "comma-separated boards; * is every board")
		fs.BoolVar(&m.passwordStdin, "password-stdin", false, "read the password from standard input")
	case "help", "-h", "--help":
		fmt.Fprint(m.stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", m.cmd, usage)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "PROPUSK_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !set[f.Name] && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", env, e)
			}
		}
	})
	if err != nil {
		return err
	}
	if m.cmd == "serve" && m.registerLimit < 1 {
		return fmt.Errorf("--register-limit must be at least 1, not %d", m.registerLimit)
	}
	var h slog.Handler = slog.NewTextHandler(m.stderr, nil)
	if m.logFormat == "json" {
		h = slog.NewJSONHandler(m.stderr, nil)
	}
	m.log = slog.New(h)
	m.flags = fs
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
// stops it.
func (m *Main) Run(ctx context.Context) (err error) {
	switch m.cmd {
	case "help", "-h", "--help":
		return nil
	}
	if m.store, err = openStore(ctx, m.db); err != nil {
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
	switch m.cmd {
	case "migrate":
		fmt.Fprintln(m.stdout, "schema is up to date")
		return nil
	case "keys rotate":
		key, err := m.masterKey()
		if err != nil {
			return err
		}
		kid, err := auth.RotateKeys(ctx, m.store, key, time.Now(), rand.Reader)
		if err != nil {
			return err
		}
		fmt.Fprintln(m.stdout, "new signing key:", kid)
		return nil
	}
	key, err := m.masterKey()
	if err != nil {
		return err
	}
	cfg := auth.Config{
		Store: m.store, MasterKey: key, Logger: m.log, Issuer: m.issuer,
		AccessTTL: m.accessTTL, RefreshTTL: m.refreshTTL, RenewGrace: m.renewGrace,
		APITokenTTL: m.apiTokenTTL, TokenPrefix: m.prefix,
		RegisterLimit: auth.RegisterLimitConfig{PerIP: m.registerLimit},
	}
	if m.renewGrace == 0 && m.cmd == "serve" {
		cfg.RenewGrace = -1 // --renew-grace 0 means none, not the default
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
	return nil
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
	fmt.Fprintln(m.stdout, u.ID)
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
	})
	if err != nil {
		return err
	}
	if m.listener, err = net.Listen("tcp", m.addr); err != nil {
		return err
	}
	m.server = &http.Server{
		Handler:           web.LogRequests(m.log, srv),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
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
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		errs = append(errs, m.server.Shutdown(ctx))
		cancel()
	}
	if m.cancel != nil {
		m.cancel()
		errs = append(errs, <-m.bgDone)
	}
	if m.store != nil {
		errs = append(errs, m.store.Close())
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

// openStore opens the database a DSN names: sqlite:PATH (or a bare path)
// or postgres://….
func openStore(ctx context.Context, dsn string) (propusk.Store, error) {
	// Each case checks its own error: returning a nil *Store inside the
	// interface would make the caller's nil check pass and Close panic.
	switch path, isSQLite := strings.CutPrefix(dsn, "sqlite:"); {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", redactDSN(dsn), err)
		}
		return s, nil
	case isSQLite && path != "", !isSQLite && dsn != "" && !strings.Contains(dsn, "://"):
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", dsn, err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("--db: want sqlite:PATH or postgres://…, not %q", redactDSN(dsn))
	}
}

// masterKey returns the key that seals every other key: PROPUSK_MASTER_KEY
// (base64 of 32 bytes) when set, else the key file, created with mode 0600
// on first start.
func (m *Main) masterKey() ([]byte, error) {
	if v := os.Getenv("PROPUSK_MASTER_KEY"); v != "" {
		k, err := decodeKey(v)
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
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create master key file: %w", err)
		}
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("write master key file: %w", err)
		}
		m.log.Info("created master key file", "path", path)
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read master key file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		m.log.Warn("master key file is readable by others; chmod 600 it", "path", path)
	}
	k, err := decodeKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == 32 {
			return k, nil
		}
	}
	return nil, errors.New("want base64 of 32 bytes (openssl rand -base64 32)")
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

// noCapIfZero maps a cap flag to auth.Config: 0 (no cap) becomes -1.
func noCapIfZero(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
