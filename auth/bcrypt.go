package auth

import (
	"errors"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// isBcrypt reports whether encoded looks like a bcrypt hash as PHP's
// password_hash and crypt write it: $2y$ (PHP's own), $2a$ or $2b$ (other
// libraries), then a two-digit cost.
func isBcrypt(encoded string) bool {
	return len(encoded) == 60 && (strings.HasPrefix(encoded, "$2y$") ||
		strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$"))
}

// maxBcryptCost bounds the cost read from a stored hash: each step doubles
// the work, and a hash written with a huge cost would hold a hashing slot
// for hours. PHP's default is 10, Laravel's too; 16 is far above any app's.
const maxBcryptCost = 16

// checkBcrypt compares password with a bcrypt hash in constant time.
// bcrypt reads only the first 72 bytes of a password, and PHP silently
// drops the rest, so propusk does the same: a Laravel user whose password
// is longer still logs in with it. $2y$ and $2b$ differ from $2a$ only in
// how old buggy implementations treated bytes above 0x7f; the algorithm
// is the same, and golang.org/x/crypto/bcrypt computes it.
func checkBcrypt(encoded, password string) (bool, error) {
	cost, err := bcrypt.Cost([]byte(encoded))
	if err != nil || cost > maxBcryptCost {
		return false, errBadHash
	}
	pw := []byte(password)
	if len(pw) > 72 {
		pw = pw[:72]
	}
	switch err := bcrypt.CompareHashAndPassword([]byte(encoded), pw); {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, errBadHash
	}
}
