package auth

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/logins"
)

// Limits on what a client may send.
const (
	MaxLoginLen    = logins.MaxLen // characters, as typed
	MinPasswordLen = 8             // characters
	MaxPasswordLen = 1024          // bytes; argon2 hashes whatever it is given
)

// CreateUser validates and stores a user without signing them in. Boards
// nil means every board.
func (s *Service) CreateUser(ctx context.Context, login, password string, level int, boards []string) (*propusk.User, error) {
	u, err := s.newUser(ctx, s.hashing, login, password, level, boards)
	if err != nil {
		return nil, err
	}
	e := auditEntry(ctx, propusk.AuditUserCreated, 0)
	e.UserIDOf, e.Detail = &u.ID, fmt.Sprintf("level=%d boards=%s", level, strings.Join(u.Boards, ","))
	if err := s.store.CreateUser(s.audited(ctx, e), u); err != nil {
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
	if err := validBoards(boards); err != nil {
		return nil, err
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

// User returns a user by id.
func (s *Service) User(ctx context.Context, id int64) (*propusk.User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("auth: user: %w", err)
	}
	return u, nil
}

func validBoards(boards []string) error {
	for _, b := range boards {
		if b == "" || len(b) > 64 || !utf8.ValidString(b) || strings.ContainsFunc(b, unicode.IsControl) {
			return propusk.Errorf(propusk.EINVALID, "a board name must be 1 to 64 printable characters")
		}
	}
	return nil
}

func validPassword(p string) error {
	if !utf8.ValidString(p) || utf8.RuneCountInString(p) < MinPasswordLen || len(p) > MaxPasswordLen {
		return propusk.Errorf(propusk.EINVALID, "the password must be at least %d characters (and at most %d bytes)", MinPasswordLen, MaxPasswordLen)
	}
	return nil
}
