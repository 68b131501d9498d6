package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/logins"
	"github.com/propusk/propusk/pat"
	"github.com/propusk/propusk/token"
)

// Pair is a freshly issued access and refresh token.
type Pair struct {
	AccessToken      string
	RefreshToken     string
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
	SessionID        string
	UserID           int64 // 0 for an anonymous client
	// APIToken is the new "<id>|<secret>" api-token; set by Register and Login only.
	APIToken string
}

// Limits on what a client may send.
const (
	MaxLoginLen    = logins.MaxLen // characters, as typed
	MinPasswordLen = 8             // characters
	MaxPasswordLen = 1024          // bytes; argon2 hashes whatever it is given
	maxUserAgent   = 256
)

var (
	errCredentials  = propusk.Errorf(propusk.ECREDENTIALS, "the login or the password is wrong")
	errRevoked      = propusk.Errorf(propusk.ETOKENINVALID, "the token's session has been revoked")
	errSessionEnded = propusk.Errorf(propusk.ETOKENINVALID, "the refresh token's session has ended")
	errReused       = propusk.Errorf(propusk.ETOKENREUSED, "the refresh token was used before; its session has been revoked")
)

// Obtain issues an anonymous pair. It writes nothing: anonymous sessions
// live only in their tokens.
func (s *Service) Obtain(ctx context.Context) (*Pair, error) {
	sid, err := token.NewID(s.cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("auth: obtain: %w", err)
	}
	now := s.cfg.Now()
	return s.issue(sid, nil, "", 0, now, now.Add(s.cfg.RefreshTTL))
}

// issue signs a pair for session sid: anonymous when u is nil.
// issue signs a pair for session sid: anonymous when u is nil; the refresh
// token may spend generation gen of chain fork.
func (s *Service) issue(sid string, u *propusk.User, fork string, gen int64, now, refreshExp time.Time) (*Pair, error) {
	ac := &token.AccessClaims{
		ExpiresAt: token.NewNumericDate(now.Add(s.cfg.AccessTTL)),
		IssuedAt:  token.NewNumericDate(now),
		SessionID: sid,
		Level:     propusk.LevelAnonymous,
		Boards:    []string{propusk.AllBoards},
	}
	rc := &token.RefreshClaims{ExpiresAt: token.NewNumericDate(refreshExp), SessionID: sid, Fork: fork, Generation: gen}
	if u != nil {
		ac.UserID, ac.Level, ac.Boards = u.ID, u.Level, u.Boards
		rc.UserID = u.ID
	}
	at, err := s.tokens.SignAccess(ac)
	if err != nil {
		return nil, fmt.Errorf("auth: sign access token: %w", err)
	}
	rt, err := s.tokens.SignRefresh(rc)
	if err != nil {
		return nil, fmt.Errorf("auth: sign refresh token: %w", err)
	}
	return &Pair{
		AccessToken: at, RefreshToken: rt,
		AccessExpiresAt: ac.ExpiresAt.Time, RefreshExpiresAt: rc.ExpiresAt.Time,
		SessionID: sid, UserID: ac.UserID,
	}, nil
}

// Renew spends a refresh token and returns a fresh pair; both tokens are new.
// A user's refresh token works once. Spent again within the grace period
// (two tabs racing) it returns tokens of the same session on a chain of
// their own, so the refresh token each racer received keeps working; spent
// again after it, the session is revoked and the answer is ETOKENREUSED. An
// anonymous refresh token is stateless: it yields a new anonymous pair with
// the same sid.
func (s *Service) Renew(ctx context.Context, refresh string, c propusk.Client) (*Pair, error) {
	rc, err := s.tokens.VerifyRefresh(refresh)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	if rc.UserID == 0 {
		return s.issue(rc.SessionID, nil, "", 0, now, now.Add(s.cfg.RefreshTTL))
	}
	fork, err := token.NewID(s.cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("auth: renew: %w", err)
	}
	sp := propusk.Spend{Session: rc.SessionID, Fork: rc.Fork, Generation: rc.Generation, NewFork: fork}
	r, err := s.store.RenewSession(ctx, sp, now, s.cfg.RenewGrace, s.cfg.RefreshTTL, clean(c))
	if err != nil {
		return nil, fmt.Errorf("auth: renew: %w", err)
	}
	switch r.Outcome {
	case propusk.RenewRotated, propusk.RenewGrace:
		if r.User == nil || r.User.ID != rc.UserID {
			return nil, errSessionEnded
		}
		return s.issue(r.Session.ID, r.User, r.Fork, r.Generation, now, r.Session.ExpiresAt)
	case propusk.RenewReused:
		s.revoked.add(rc.SessionID, now)
		s.log.Warn("refresh token reuse: session revoked", "sid", rc.SessionID, "user", rc.UserID)
		return nil, errReused
	default:
		return nil, errSessionEnded
	}
}

// CreateUser validates and stores a user without signing them in. Boards
// nil means every board.
func (s *Service) CreateUser(ctx context.Context, login, password string, level int, boards []string) (*propusk.User, error) {
	u, err := s.newUser(ctx, s.hashing, login, password, level, boards)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, userError(err)
	}
	return u, nil
}

// newUser validates a new user and hashes their password in the slots of
// pool.
func (s *Service) newUser(ctx context.Context, pool chan struct{}, login, password string, level int, boards []string) (*propusk.User, error) {
	if _, err := logins.Canonical(login); err != nil {
		return nil, err
	}
	if err := validPassword(password); err != nil {
		return nil, err
	}
	if level < 0 || level > 1000 {
		return nil, propusk.Errorf(propusk.EINVALID, "level must be between 0 and 1000")
	}
	if boards == nil {
		boards = []string{propusk.AllBoards}
	}
	for _, b := range boards {
		if b == "" || len(b) > 64 || !utf8.ValidString(b) || strings.ContainsFunc(b, unicode.IsControl) {
			return nil, propusk.Errorf(propusk.EINVALID, "a board name must be 1 to 64 printable characters")
		}
	}
	hash, err := s.hash(ctx, pool, password)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	return &propusk.User{Login: login, PasswordHash: hash, Level: level, Boards: boards, CreatedAt: now, UpdatedAt: now}, nil
}

// userError is the error of a store's failure to create a user.
func userError(err error) error {
	if propusk.ErrorCode(err) == propusk.ECONFLICT {
		return propusk.Errorf(propusk.ELOGINTAKEN, "this login is taken")
	}
	return fmt.Errorf("auth: create user: %w", err)
}

// Login checks the password and starts a new session for the user, with a
// new api-token. An unknown login and a wrong password answer alike, and
// cost alike. Repeated failures for one login or from one address answer
// ETOOMANY for a while, whatever the password.
func (s *Service) Login(ctx context.Context, login, password string, c propusk.Client) (*Pair, error) {
	if login == "" || password == "" || len(login) > 4*MaxLoginLen || len(password) > MaxPasswordLen {
		return nil, propusk.Errorf(propusk.EINVALID, "login and password are required")
	}
	key, err := logins.Canonical(login)
	if err != nil || !utf8.ValidString(password) {
		// No such user can exist; the store need not be asked (PostgreSQL
		// would refuse a NUL byte or invalid UTF-8 with an error).
		return nil, errCredentials
	}
	// Failures count per canonical login: "Admin" and "ADMIN" are guesses
	// at the same account.
	c = clean(c)
	if err := s.limiter.attempt(ctx, key, c.IP, s.cfg.Now()); err != nil {
		return nil, fmt.Errorf("auth: login: %w", err)
	}
	u, err := s.store.UserByLogin(ctx, login)
	hash := s.dummy
	switch {
	case err == nil:
		hash = u.PasswordHash
	case propusk.ErrorCode(err) != propusk.ENOTFOUND:
		s.releaseBudget("login", s.limiter.release(ctx, key, c.IP, s.cfg.Now()))
		return nil, fmt.Errorf("auth: login: %w", err)
	}
	ok, err := s.check(ctx, hash, password)
	if err != nil {
		s.releaseBudget("login", s.limiter.release(ctx, key, c.IP, s.cfg.Now()))
		return nil, err
	}
	if !ok || u == nil {
		return nil, errCredentials // the try stays counted
	}
	s.releaseBudget("login", s.limiter.succeed(ctx, key, c.IP, s.cfg.Now()))
	if err := s.checkSessionCap(ctx, u.ID); err != nil {
		return nil, err
	}
	return s.startSession(ctx, u, c, "login")
}

func (s *Service) startSession(ctx context.Context, u *propusk.User, c propusk.Client, reason string) (*Pair, error) {
	sess, err := s.newSession(u.ID, c)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, fmt.Errorf("auth: create session: %w", err)
	}
	p, err := s.issue(sess.ID, u, "", sess.Generation, sess.CreatedAt, sess.ExpiresAt)
	if err != nil {
		return nil, err
	}
	if p.APIToken, err = s.ReissueAPIToken(ctx, u.ID, reason); err != nil {
		return nil, err
	}
	return p, nil
}

// newSession is a new signed-in session of the user, not yet stored.
func (s *Service) newSession(userID int64, c propusk.Client) (*propusk.Session, error) {
	sid, err := token.NewID(s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	c = clean(c)
	return &propusk.Session{
		ID: sid, UserID: userID, Generation: 1, RotatedAt: now, CreatedAt: now, RenewedAt: now,
		ExpiresAt: now.Add(s.cfg.RefreshTTL), UserAgent: c.UserAgent, IP: c.IP,
	}, nil
}

// Logoff ends session sid: its refresh token and every access token of it
// stop working at once here, and on other processes as soon as they read
// the feed. Ending an anonymous or unknown session is no error.
func (s *Service) Logoff(ctx context.Context, sid string) error {
	err := s.store.RevokeSession(ctx, sid, 0, s.cfg.Now())
	if err != nil && propusk.ErrorCode(err) != propusk.ENOTFOUND {
		return fmt.Errorf("auth: logoff: %w", err)
	}
	if err == nil {
		s.revoked.add(sid, s.cfg.Now())
	}
	return nil
}

// EndSession ends one of the user's sessions, as Logoff does. ENOTFOUND if
// it is not theirs.
func (s *Service) EndSession(ctx context.Context, userID int64, sid string) error {
	if !plausibleID(sid) {
		return propusk.Errorf(propusk.ENOTFOUND, "no such session")
	}
	if err := s.store.RevokeSession(ctx, sid, userID, s.cfg.Now()); err != nil {
		if propusk.ErrorCode(err) == propusk.ENOTFOUND {
			return propusk.Errorf(propusk.ENOTFOUND, "no such session")
		}
		return fmt.Errorf("auth: end session: %w", err)
	}
	s.revoked.add(sid, s.cfg.Now())
	return nil
}

// Sessions returns the user's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, userID int64) ([]*propusk.Session, error) {
	ss, err := s.store.UserSessions(ctx, userID, s.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("auth: sessions: %w", err)
	}
	return ss, nil
}

// User returns a user by id.
func (s *Service) User(ctx context.Context, id int64) (*propusk.User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("auth: user: %w", err)
	}
	return u, nil
}

// Authenticate identifies the caller by a presented token: an access token
// (JWT) or a personal access token. via is how it came (propusk.ViaAccessToken
// or propusk.ViaCookie); a personal access token is always ViaAPIToken. Errors
// are *propusk.Error whose message names the failed check. The Principal is
// read-only: that of a personal access token is shared by its requests.
func (s *Service) Authenticate(ctx context.Context, tok, via string) (*propusk.Principal, error) {
	if pat.Looks(tok) {
		// A personal access token is a header credential only. From a cookie
		// it would come back as ViaAPIToken and skip the CSRF check that
		// cookie authentication needs.
		if via == propusk.ViaCookie {
			if _, _, err := pat.Split(tok, s.cfg.TokenPrefix); err != nil {
				return nil, errPATMalformed
			}
			return nil, errPATCookie
		}
		return s.authenticatePAT(ctx, tok)
	}
	c, err := s.tokens.VerifyAccess(tok)
	if err != nil {
		return nil, err
	}
	if s.revoked.has(c.SessionID) {
		return nil, errRevoked
	}
	return &propusk.Principal{
		UserID: c.UserID, Level: c.Level, Boards: c.Boards, SessionID: c.SessionID,
		Via: via, TokenID: c.ID, ExpiresAt: c.ExpiresAt.Time,
	}, nil
}

// SignedIn reports whether refresh is a genuine refresh token of a user whose
// session is still live (not revoked, not expired). Anonymous tokens are
// never signed in.
func (s *Service) SignedIn(ctx context.Context, refresh string) (bool, error) {
	rc, err := s.tokens.VerifyRefresh(refresh)
	if err != nil || rc.UserID == 0 {
		return false, nil
	}
	sess, err := s.store.Session(ctx, rc.SessionID)
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth: signed in: %w", err)
	}
	return !sess.Revoked() && s.cfg.Now().Before(sess.ExpiresAt), nil
}

// SessionOf returns the session id of a genuine access or refresh token, even
// an expired one, so a client whose access token lapsed can still log off.
func (s *Service) SessionOf(tok string) (string, bool) {
	if c, err := s.tokens.ParseExpiredAccess(tok); err == nil {
		return c.SessionID, true
	}
	if c, err := s.tokens.VerifyRefresh(tok); err == nil {
		return c.SessionID, true
	}
	return "", false
}

// releaseBudget logs a failure to give attempts back. The request goes on:
// the attempts stay counted until their window ends, which errs on the safe side.
func (s *Service) releaseBudget(what string, err error) {
	if err != nil {
		s.log.Warn("give back "+what+" attempt", "err", err)
	}
}

func (s *Service) hash(ctx context.Context, pool chan struct{}, password string) (string, error) {
	if err := acquire(ctx, pool); err != nil {
		return "", err
	}
	defer release(pool)
	return hashPassword(s.cfg.Rand, s.cfg.Argon2, password)
}

func (s *Service) check(ctx context.Context, hash, password string) (bool, error) {
	if err := acquire(ctx, s.hashing); err != nil {
		return false, err
	}
	defer release(s.hashing)
	ok, err := checkPassword(hash, password)
	if errors.Is(err, errBadHash) {
		s.log.Error("unreadable password hash in the store")
		return false, nil
	}
	return ok, err
}

// errBusy answers a password check that could not start in time: under a
// flood of logins, real users get a prompt "try again" instead of a queue
// that grows as long as the flood lasts.
var errBusy = propusk.Errorf(propusk.EUNAVAILABLE, "the server is busy checking passwords; try again shortly")

// acquire takes a hashing slot of pool, waiting at most 2 s.
func acquire(ctx context.Context, pool chan struct{}) error {
	wait := time.NewTimer(2 * time.Second)
	defer wait.Stop()
	select {
	case pool <- struct{}{}:
		return nil
	case <-wait.C:
		return errBusy
	case <-ctx.Done():
		return fmt.Errorf("auth: waiting to hash: %w", ctx.Err())
	}
}

func release(pool chan struct{}) { <-pool }

// plausibleID reports whether id could be a session id (token.NewID's
// URL-safe base64), so that garbage from a URL never reaches the store.
func plausibleID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validPassword(p string) error {
	if !utf8.ValidString(p) || utf8.RuneCountInString(p) < MinPasswordLen || len(p) > MaxPasswordLen {
		return propusk.Errorf(propusk.EINVALID, "the password must be at least %d characters (and at most %d bytes)", MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// clean bounds what a client says about itself before it is stored.
func clean(c propusk.Client) propusk.Client {
	return propusk.Client{UserAgent: printable(c.UserAgent, maxUserAgent), IP: printable(c.IP, 64)}
}

// printable returns s as valid UTF-8 without control characters, cut to at
// most n bytes on a character boundary.
func printable(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) > n {
		s = s[:n]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}
