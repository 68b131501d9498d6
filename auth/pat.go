package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/pat"
)

// APITokenName is the name of the token the api-token lifecycle replaces.
const APITokenName = "api-token"

// Reasons for ReissueAPIToken that the seed names; any other non-empty
// reason of letters, digits and underscores is accepted too.
const (
	ReasonCoursePurchase = "course_purchase"
	ReasonTariffPayment  = "tariff_payment"
)

var (
	errPATMalformed = propusk.Errorf(propusk.ETOKENINVALID, "the token is malformed: neither a JWT nor a personal access token (<id>|<secret>)")
	errPATUnknown   = propusk.Errorf(propusk.ETOKENINVALID, "the personal access token is unknown or revoked")
	errPATExpired   = propusk.Errorf(propusk.ETOKENINVALID, "the personal access token has expired")
	errPATCookie    = propusk.Errorf(propusk.ETOKENINVALID, "a personal access token is accepted only in the Authorization header, not in a cookie")
)

// authenticatePAT verifies "<id>|<secret>" (or a bare secret, as Sanctum
// allows) against the cached row, reading the store only on a miss. A bad
// checksum is refused before any lookup.
//
// This is the request path of every PAT-authenticated call, so it writes
// nothing (last_used_at is noted in memory for Flush) and, on a cache hit,
// allocates nothing: the Principal is the entry's, shared.
func (s *Service) authenticatePAT(ctx context.Context, tok string) (*propusk.Principal, error) {
	id, secret, err := pat.Split(tok, s.cfg.TokenPrefix)
	if err != nil {
		return nil, errPATMalformed
	}
	var sum [32]byte
	if len(secret) <= 128 {
		// Hash a copy on the stack: []byte(secret) would allocate.
		var buf [128]byte
		sum = sha256.Sum256(buf[:copy(buf[:], secret)])
	} else {
		sum = sha256.Sum256([]byte(secret))
	}
	// While Run runs, the clock read here may lag by coarseTick: a token
	// can outlive its expires_at (kept to the second) by that much.
	now := s.coarse.now(s.cfg.Now)
	var e *patEntry
	if id != 0 {
		e = s.pats.get(id)
	} else {
		id, e = s.pats.getByHash(sum)
	}
	fresh := e != nil && now.Sub(e.fetched) <= s.cfg.PATCacheTTL
	match := e != nil && subtle.ConstantTimeCompare(sum[:], e.hash[:]) == 1
	if !fresh || !match {
		// Only here is the checksum needed: a secret whose hash matches the
		// cached one is the very secret issued. Checking it before the
		// lookup keeps made-up tokens away from the database.
		if !pat.ChecksumOK(secret, s.cfg.TokenPrefix) {
			return nil, errPATMalformed
		}
		if fresh {
			return nil, errPATUnknown // a known id with another secret
		}
		if id != 0 && s.patMiss.missing(ctx, id, now, s.store) || id == 0 && s.patMiss.missingHash(sum, now) {
			return nil, errPATUnknown // made up, or deleted a moment ago
		}
		asked := id
		if id, e, err = s.fetchPAT(ctx, id, hex.EncodeToString(sum[:]), now); err != nil {
			switch {
			case err != errPATUnknown:
			case asked != 0:
				s.patMiss.note(asked, now)
			default:
				s.patMiss.noteHash(sum, now)
			}
			return nil, err
		}
		if subtle.ConstantTimeCompare(sum[:], e.hash[:]) != 1 {
			return nil, errPATUnknown
		}
	}
	if !e.expiresAt.IsZero() && !now.Before(e.expiresAt) {
		return nil, errPATExpired
	}
	s.touched.use(id, e, now)
	if fresh && match {
		s.cfg.Observer.TokenChecked(propusk.ViaAPIToken, "cached")
	} else {
		s.cfg.Observer.TokenChecked(propusk.ViaAPIToken, "verified")
	}
	return e.principal, nil
}

func (s *Service) fetchPAT(ctx context.Context, id int64, hash string, now time.Time) (int64, *patEntry, error) {
	epoch := s.pats.epoch()
	var t *propusk.PersonalAccessToken
	var err error
	if id != 0 {
		t, err = s.store.Token(ctx, id)
	} else {
		t, err = s.store.TokenByHash(ctx, hash)
	}
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return 0, nil, errPATUnknown
	}
	if err != nil {
		return 0, nil, fmt.Errorf("auth: read token: %w", err)
	}
	if t.TokenableType != s.cfg.TokenableType {
		return 0, nil, errPATUnknown
	}
	// Read afresh, not from the user cache: the feed may have applied this
	// token's eviction and not yet its user's drop. The read refills the
	// user cache, so the caller's first user.me reads nothing more.
	u, _, err := s.readUser(ctx, t.TokenableID)
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return 0, nil, errPATUnknown
	}
	if err != nil {
		return 0, nil, fmt.Errorf("auth: read token's user: %w", err)
	}
	if u.Disabled() {
		return 0, nil, errUserDisabled
	}
	e := &patEntry{tokenID: strconv.FormatInt(t.ID, 10), userID: u.ID, level: u.Level, boards: u.Boards, abilities: t.Abilities, expiresAt: t.ExpiresAt, fetched: now}
	if _, err := hex.Decode(e.hash[:], []byte(t.Hash)); err != nil || len(t.Hash) != 64 {
		return 0, nil, errPATUnknown
	}
	if e.abilities == nil {
		e.abilities = []string{propusk.AllAbilities}
	}
	e.principal = &propusk.Principal{
		UserID: e.userID, Level: e.level, Boards: e.boards, Abilities: e.abilities,
		Via: propusk.ViaAPIToken, TokenID: e.tokenID, ExpiresAt: e.expiresAt,
	}
	s.pats.put(t.ID, e, epoch)
	return t.ID, e, nil
}

// NewToken is a personal access token just created: the only time its
// plain text exists outside the client.
type NewToken struct {
	Token     *propusk.PersonalAccessToken
	PlainText string // "<id>|<secret>"
}

// CreateToken creates a personal access token for the caller's user. Its
// abilities must be among the caller's own: a token never widens what its
// creator may do. expiresAt zero means never.
func (s *Service) CreateToken(ctx context.Context, p *propusk.Principal, name string, abilities []string, expiresAt time.Time) (*NewToken, error) {
	if p.Anonymous() {
		return nil, propusk.Errorf(propusk.EFORBIDDEN, "only a signed-in user has tokens")
	}
	if err := validName(name); err != nil {
		return nil, err
	}
	if abilities == nil {
		abilities = []string{propusk.AllAbilities}
	}
	if len(abilities) > 64 {
		return nil, propusk.Errorf(propusk.EINVALID, "at most 64 abilities")
	}
	for _, a := range abilities {
		if a == "" || len(a) > 128 || !utf8.ValidString(a) || strings.ContainsFunc(a, unicode.IsControl) {
			return nil, propusk.Errorf(propusk.EINVALID, "an ability must be 1 to 128 printable characters")
		}
		if !p.Can(a) {
			return nil, propusk.Errorf(propusk.EFORBIDDEN, "a token cannot grant the ability %q, which the caller's own token lacks", a)
		}
	}
	now := s.cfg.Now()
	if !expiresAt.IsZero() && !expiresAt.After(now) {
		return nil, propusk.Errorf(propusk.EINVALID, "expires_at must be in the future")
	}
	if expiresAt.UTC().Year() > 9999 {
		return nil, propusk.Errorf(propusk.EINVALID, "expires_at must be before the year 10000")
	}
	if p.Via == propusk.ViaAPIToken && !p.ExpiresAt.IsZero() && (expiresAt.IsZero() || expiresAt.After(p.ExpiresAt)) {
		// Like abilities, a lifetime only narrows: a leaked short-lived
		// token must not be able to mint a permanent one.
		return nil, propusk.Errorf(propusk.EFORBIDDEN, "a token cannot outlive the token that creates it (expires_at at most %s)", p.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if err := s.checkTokenCap(ctx, p.UserID); err != nil {
		return nil, err
	}
	secret, err := pat.NewSecret(s.cfg.Rand, s.cfg.TokenPrefix)
	if err != nil {
		return nil, err
	}
	t := &propusk.PersonalAccessToken{
		TokenableType: s.cfg.TokenableType, TokenableID: p.UserID, Name: name,
		Hash: pat.Hash(secret), Abilities: slices.Clone(abilities), ExpiresAt: expiresAt,
		CreatedAt: now, UpdatedAt: now,
	}
	e := auditEntry(ctx, propusk.AuditTokenCreated, p.UserID)
	actorOf(e, p)
	e.TokenIDOf = &t.ID
	if err := s.store.CreateToken(s.audited(ctx, e), t); err != nil {
		return nil, fmt.Errorf("auth: create token: %w", err)
	}
	s.patMiss.created(t.ID, sha256.Sum256([]byte(secret)))
	return &NewToken{Token: t, PlainText: pat.Format(t.ID, secret)}, nil
}

// Tokens lists the user's personal access tokens, oldest first.
func (s *Service) Tokens(ctx context.Context, userID int64) ([]*propusk.PersonalAccessToken, error) {
	ts, err := s.store.UserTokens(ctx, s.cfg.TokenableType, userID)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	return ts, nil
}

// DeleteToken deletes one of the user's tokens. It stops working at once in
// this process and, through the feed, in every other. ENOTFOUND if it is not
// the user's.
func (s *Service) DeleteToken(ctx context.Context, userID, id int64) error {
	e := auditEntry(ctx, propusk.AuditTokenDeleted, userID)
	e.TokenID = id
	if err := s.store.DeleteToken(s.audited(ctx, e), s.cfg.TokenableType, userID, id); err != nil {
		if propusk.ErrorCode(err) == propusk.ENOTFOUND {
			return propusk.Errorf(propusk.ENOTFOUND, "no such token")
		}
		return fmt.Errorf("auth: delete token: %w", err)
	}
	s.pats.evict(id)
	return nil
}

// ReissueAPIToken runs the api-token lifecycle for a business event
// (registration, login, course_purchase, tariff_payment, …): it creates a new
// token named "api-token", deletes the user's older ones (tokens the user
// named otherwise stay), and keeps the new one sealed on users.api_token. It
// returns the new "<id>|<secret>". ENOTFOUND for an unknown user.
func (s *Service) ReissueAPIToken(ctx context.Context, userID int64, reason string) (string, error) {
	return s.reissueAPIToken(ctx, userID, reason, time.Time{})
}

// ReissueAPITokenAs is ReissueAPIToken on behalf of caller, the admin hook
// behind POST /api/v1/admin/users/{id}/api-token. It is all that the
// tokens:reissue ability grants: replacing, and reading, the api-token of an
// account whose level is below the caller's, which lets the holder act as
// that account within its level and boards. It never reaches the caller's
// own account nor any at or above the caller's level (EFORBIDDEN), read
// afresh from the store so that a demoted admin's old tokens lose the power
// at once. Through a personal access token the new token never outlives the
// caller's: abilities and lifetimes only narrow.
func (s *Service) ReissueAPITokenAs(ctx context.Context, caller *propusk.Principal, userID int64, reason string) (string, error) {
	if caller.Anonymous() || !caller.Can(propusk.AbilityTokensReissue) {
		return "", propusk.Errorf(propusk.EFORBIDDEN, "reissuing api-tokens needs the tokens:reissue ability")
	}
	if userID == caller.UserID {
		return "", propusk.Errorf(propusk.EFORBIDDEN, "the admin hook never reissues the caller's own api-token; log in again instead")
	}
	self, err := s.store.UserByID(ctx, caller.UserID)
	if err != nil {
		return "", fmt.Errorf("auth: reissue api-token: caller: %w", err)
	}
	target, err := s.store.UserByID(ctx, userID)
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return "", propusk.Errorf(propusk.ENOTFOUND, "no such user")
	}
	if err != nil {
		return "", fmt.Errorf("auth: reissue api-token: %w", err)
	}
	if target.Level >= self.Level {
		return "", propusk.Errorf(propusk.EFORBIDDEN, "only accounts below the caller's level can have their api-token reissued")
	}
	var notAfter time.Time
	if caller.Via == propusk.ViaAPIToken {
		notAfter = caller.ExpiresAt // zero: the caller's token never expires
	}
	return s.reissueAPIToken(ctx, userID, reason, notAfter)
}

// reissueAPIToken is ReissueAPIToken with the new token expiring no later
// than notAfter, unless that is zero.
func (s *Service) reissueAPIToken(ctx context.Context, userID int64, reason string, notAfter time.Time) (string, error) {
	if reason == "" || len(reason) > 64 || strings.ContainsFunc(reason, func(r rune) bool {
		return !(r == '_' || r == '-' || r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)))
	}) {
		return "", propusk.Errorf(propusk.EINVALID, "the reason must be 1 to 64 letters, digits, '_' or '-'")
	}
	t, secret, err := s.newAPIToken(userID)
	if err != nil {
		return "", err
	}
	if !notAfter.IsZero() && (t.ExpiresAt.IsZero() || t.ExpiresAt.After(notAfter)) {
		t.ExpiresAt = notAfter
	}
	sealed, err := s.sealAPIToken(userID, secret)
	if err != nil {
		return "", err
	}
	e := auditEntry(ctx, propusk.AuditTokenReissued, userID)
	e.TokenIDOf, e.Detail = &t.ID, reason
	deleted, err := s.store.ReplaceNamedToken(s.audited(ctx, e), t, sealed)
	if err != nil {
		if propusk.ErrorCode(err) == propusk.ENOTFOUND {
			return "", propusk.Errorf(propusk.ENOTFOUND, "no such user")
		}
		return "", fmt.Errorf("auth: reissue api-token: %w", err)
	}
	s.patMiss.created(t.ID, sha256.Sum256([]byte(secret)))
	for _, id := range deleted {
		s.pats.evict(id)
	}
	s.log.InfoContext(ctx, "api-token reissued", "user", userID, "reason", reason, "token_id", t.ID)
	return pat.Format(t.ID, secret), nil
}

// newAPIToken is a new api-token of the user, not yet stored, and its secret.
func (s *Service) newAPIToken(userID int64) (*propusk.PersonalAccessToken, string, error) {
	secret, err := pat.NewSecret(s.cfg.Rand, s.cfg.TokenPrefix)
	if err != nil {
		return nil, "", err
	}
	now := s.cfg.Now()
	t := &propusk.PersonalAccessToken{
		TokenableType: s.cfg.TokenableType, TokenableID: userID, Name: APITokenName,
		Hash: pat.Hash(secret), Abilities: []string{propusk.AllAbilities},
		CreatedAt: now, UpdatedAt: now,
	}
	if s.cfg.APITokenTTL > 0 {
		t.ExpiresAt = now.Add(s.cfg.APITokenTTL)
	}
	return t, secret, nil
}

// APIToken returns the user's current api-token in plain text, for a page to
// put in its meta tag, or "" when the user has none (never issued, or
// deleted by hand since).
func (s *Service) APIToken(ctx context.Context, userID int64) (string, error) {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("auth: api-token: %w", err)
	}
	if u.APIToken == "" {
		return "", nil
	}
	secret, err := s.openAPIToken(userID, u.APIToken)
	if err != nil {
		s.log.Error("users.api_token does not open under the sealing key", "user", userID)
		return "", nil
	}
	t, err := s.store.TokenByHash(ctx, pat.Hash(secret))
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("auth: api-token: %w", err)
	}
	if t.TokenableType != s.cfg.TokenableType || t.TokenableID != userID || t.Expired(s.cfg.Now()) {
		return "", nil
	}
	return pat.Format(t.ID, secret), nil
}

func validName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 255 || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return propusk.Errorf(propusk.EINVALID, "the name must be 1 to 255 printable characters")
	}
	if strings.TrimSpace(name) == "" {
		return propusk.Errorf(propusk.EINVALID, "the name must not be blank")
	}
	return nil
}
