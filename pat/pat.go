// Package pat implements the personal access token format of Laravel
// Sanctum 4, so tokens issued here and by an existing Sanctum database are
// interchangeable.
//
// A token as the client holds it is "<id>|<secret>", where secret is an
// optional prefix, 40 random characters from [A-Za-z0-9] and the 8 lowercase
// hex digits of the CRC32 (IEEE) of those 40 characters. Only the hex SHA-256
// of the secret is stored. Tokens issued by older Sanctum versions have no
// prefix and no checksum (40 characters); Parse accepts them too.
//
// The checksum is no security feature: it lets Parse turn away mistyped or
// made-up tokens before any database lookup.
package pat

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
)

const (
	entropyLen  = 40
	checksumLen = 8
	alphabet    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	// maxLen bounds what Parse reads, so a hostile header costs nothing.
	maxLen = 512
)

// ErrMalformed is returned by Parse for anything that is not a token of this
// format, including one whose checksum does not match.
var ErrMalformed = errors.New("pat: malformed personal access token")

// NewSecret returns prefix + 40 random characters + their CRC32, reading
// randomness from rand. The 40 characters are drawn without modulo bias.
func NewSecret(rand io.Reader, prefix string) (string, error) {
	var b strings.Builder
	b.Grow(len(prefix) + entropyLen + checksumLen)
	b.WriteString(prefix)
	entropy := make([]byte, 0, entropyLen)
	buf := make([]byte, 64)
	for len(entropy) < entropyLen {
		if _, err := io.ReadFull(rand, buf); err != nil {
			return "", fmt.Errorf("pat: read random: %w", err)
		}
		for _, c := range buf {
			// 62*4 = 248: bytes at or above it are dropped so every
			// character is equally likely.
			if c < 248 && len(entropy) < entropyLen {
				entropy = append(entropy, alphabet[c%62])
			}
		}
	}
	b.Write(entropy)
	b.WriteString(checksum(string(entropy)))
	return b.String(), nil
}

// Format returns the token as the client holds it: "<id>|<secret>".
func Format(id int64, secret string) string {
	return strconv.FormatInt(id, 10) + "|" + secret
}

// Hash returns the hex SHA-256 of secret, as stored in the token column.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Parse splits a presented token into its id and secret and checks the
// secret's shape. id is 0 when the token came without "<id>|" (Sanctum looks
// such tokens up by hash). A secret with a checksum must match it; a secret
// of exactly 40 characters after the prefix is a legacy Sanctum token.
func Parse(token, prefix string) (id int64, secret string, err error) {
	if len(token) == 0 || len(token) > maxLen {
		return 0, "", ErrMalformed
	}
	secret = token
	if i := strings.IndexByte(token, '|'); i >= 0 {
		id, err = strconv.ParseInt(token[:i], 10, 64)
		if err != nil || id <= 0 || token[:i] != strconv.FormatInt(id, 10) {
			return 0, "", ErrMalformed
		}
		secret = token[i+1:]
	}
	body := strings.TrimPrefix(secret, prefix)
	switch len(body) {
	case entropyLen:
		if !isAlnum(body) {
			return 0, "", ErrMalformed
		}
	case entropyLen + checksumLen:
		entropy := body[:entropyLen]
		if !isAlnum(entropy) || body[entropyLen:] != checksum(entropy) {
			return 0, "", ErrMalformed
		}
	default:
		return 0, "", ErrMalformed
	}
	return id, secret, nil
}

// Looks reports whether token could be a personal access token rather than a
// JWT: it has the "<id>|" form, or no dots at all.
func Looks(token string) bool {
	return strings.IndexByte(token, '|') > 0 || !strings.Contains(token, ".")
}

func checksum(entropy string) string {
	var b [4]byte
	c := crc32.ChecksumIEEE([]byte(entropy))
	b[0], b[1], b[2], b[3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	return hex.EncodeToString(b[:])
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
