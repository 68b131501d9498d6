package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/propusk/propusk"
	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters. The defaults are OWASP's
// first recommendation (m=19 MiB, t=2, p=1).
type Argon2Params struct {
	Memory  uint32 // KiB; default 19456
	Time    uint32 // passes; default 2
	Threads uint8  // lanes; default 1
}

func (p *Argon2Params) fill() {
	if p.Memory == 0 {
		p.Memory = 19 * 1024
	}
	if p.Time == 0 {
		p.Time = 2
	}
	if p.Threads == 0 {
		p.Threads = 1
	}
}

const (
	saltLen = 16
	keyLen  = 32
)

// hashPassword returns a PHC string: $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func hashPassword(rand io.Reader, p Argon2Params, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("auth: unreadable password hash")

// checkPassword compares in constant time. It reads propusk's own
// argon2id hashes and the ones PHP's password_hash writes (bcrypt $2y$,
// $2a$, $2b$; argon2i and argon2id), so users of a Laravel app log in
// with the passwords they have. The parameters come from the stored hash,
// so raising the defaults later keeps old hashes working.
func checkPassword(encoded, password string) (bool, error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return checkArgon2(encoded, password, argon2.IDKey)
	case strings.HasPrefix(encoded, "$argon2i$"):
		return checkArgon2(encoded, password, argon2.Key)
	case isBcrypt(encoded):
		return checkBcrypt(encoded, password)
	}
	return false, errBadHash
}

// checkArgon2 checks a PHC string $argon2…$v=19$m=…,t=…,p=…$salt$hash with
// the key function of its variant.
func checkArgon2(encoded, password string, keyOf func(pw, salt []byte, t, m uint32, p uint8, n uint32) []byte) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 {
		return false, errBadHash
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<22 || t > 64 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := keyOf([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func (s *Service) hash(ctx context.Context, pool chan struct{}, password string) (string, error) {
	if err := s.acquireHashing(ctx, pool); err != nil {
		return "", err
	}
	defer release(pool)
	return s.writeHash(s.cfg.Rand, password)
}

func (s *Service) check(ctx context.Context, hash, password string) (bool, error) {
	ok, _, err := s.verify(ctx, hash, password)
	return ok, err
}

// verify checks password against hash, and says when the check began, for
// failCost: it records how long the check took.
func (s *Service) verify(ctx context.Context, hash, password string) (bool, time.Time, error) {
	if err := s.acquireHashing(ctx, s.hashing); err != nil {
		return false, time.Time{}, err
	}
	defer release(s.hashing)
	began := time.Now()
	ok, err := checkPassword(hash, password)
	s.failCost.observe(time.Since(began))
	if errors.Is(err, errBadHash) {
		s.log.Error("unreadable password hash in the store")
		return false, began, nil
	}
	return ok, began, err
}

// needsRehash reports whether hash is not propusk's own argon2id with the
// configured parameters: a bcrypt or argon2i hash from Laravel, or one
// from before the parameters were raised.
func (s *Service) needsRehash(hash string) bool {
	p := s.cfg.Argon2
	return !strings.HasPrefix(hash, fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, p.Memory, p.Time, p.Threads))
}

// rehash replaces the hash u logged in with by propusk's own, unless the
// password was changed meanwhile. A failure only postpones it to the next
// login, so it is logged and the login goes on.
func (s *Service) rehash(ctx context.Context, u *propusk.User, password string) {
	hash, err := s.hash(ctx, s.hashing, password)
	if err == nil {
		err = s.store.SetPasswordHash(ctx, u.ID, u.PasswordHash, hash, s.cfg.Now())
	}
	switch {
	case err == nil:
		u.PasswordHash = hash
	case propusk.ErrorCode(err) != propusk.ENOTFOUND:
		s.log.Warn("rehash password", "user", u.ID, "err", err)
	}
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
