package auth

import (
	"fmt"
	"io"
	"strings"

	"github.com/propusk/propusk"
	"golang.org/x/crypto/bcrypt"
)

// Laravel's default hashing options (config/hashing.php of the
// application skeleton), which the hashes propusk writes in Laravel mode
// use so that they look exactly like the app's own.
const (
	// LaravelBcryptCost is Laravel's bcrypt "rounds".
	LaravelBcryptCost = 10
)

// LaravelArgon2 are Laravel's argon2id "memory", "time" and "threads":
// PHP's password_hash writes them as $argon2id$v=19$m=65536,t=4,p=1$, with
// a 16-byte salt and a 32-byte hash, as hashPassword does.
var LaravelArgon2 = Argon2Params{Memory: 65536, Time: 4, Threads: 1}

// hashWriter hashes a password for storing.
type hashWriter func(rand io.Reader, password string) (string, error)

// writerOf is the one place that decides how the service hashes the
// passwords it writes: propusk's argon2id with cfg.Argon2, or, in Laravel
// mode, the app's algorithm with Laravel's defaults, so that the app
// sharing the users table verifies every password propusk wrote.
func writerOf(cfg Config) hashWriter {
	switch {
	case cfg.Laravel == nil:
		return func(rand io.Reader, password string) (string, error) { return hashPassword(rand, cfg.Argon2, password) }
	case cfg.Laravel.Hash == propusk.HashArgon2id:
		return func(rand io.Reader, password string) (string, error) {
			return hashPassword(rand, LaravelArgon2, password)
		}
	default:
		return func(_ io.Reader, password string) (string, error) { return hashBcrypt(password) }
	}
}

// hashBcrypt writes a bcrypt hash as PHP's password_hash does: $2y$,
// cost LaravelBcryptCost. golang.org/x/crypto/bcrypt computes the same
// hash but labels it $2a$; $2y$ only says "computed correctly for bytes
// above 0x7f", which it is, and is what Laravel itself writes and checks
// for when it asks whether a hash needs rehashing. bcrypt reads only the
// first 72 bytes of a password; PHP drops the rest silently, and so does
// this (the library would refuse the password). bcrypt draws its salt
// from crypto/rand itself: it takes no reader.
func hashBcrypt(password string) (string, error) {
	pw := []byte(password)
	if len(pw) > 72 {
		pw = pw[:72]
	}
	h, err := bcrypt.GenerateFromPassword(pw, LaravelBcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	s, ok := strings.CutPrefix(string(h), "$2a$")
	if !ok {
		return "", fmt.Errorf("hash password: bcrypt wrote %.4q, not $2a$", h)
	}
	return "$2y$" + s, nil
}
