// Package pat implements the personal access token format of Laravel
// Sanctum 4, so tokens issued here and by an existing Sanctum database are
// interchangeable.
//
// A token as the client holds it is "<id>|<secret>", where secret is an
// optional prefix, 40 random characters from [A-Za-z0-9] and the 8 lowercase
// hex digits of the CRC32 (IEEE) of those 40 characters. Only the hex SHA-256
// of the secret is stored. Tokens issued by older Sanctum versions have no
// prefix and no checksum (40 characters); Split and ChecksumOK accept them too.
//
// The checksum is no security feature: it lets ChecksumOK turn away mistyped or
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
	// maxLen bounds what Split reads, so a hostile header costs nothing.
	maxLen = 512
)

// ErrMalformed is returned by Split for anything that is not a token of this
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

// Split splits a presented token into its id and secret, and checks the
// token's form and the secret's length. id is 0 when the token came without
// "<id>|" (Sanctum looks such tokens up by hash). It does not check the
// secret's characters and checksum: ChecksumOK does. It lets a verifier
// that holds the secret's hash in memory skip the CRC: a secret whose SHA-256
// equals that of the secret issued is that secret, checksum and all. Before
// any database lookup, call ChecksumOK.
//
// Split runs on every request a token authenticates, so it allocates
// nothing: secret is a substring of token.
func Split(token, prefix string) (id int64, secret string, err error) {
	if len(token) == 0 || len(token) > maxLen {
		return 0, "", ErrMalformed
	}
	secret = token
	if i := strings.IndexByte(token, '|'); i >= 0 {
		if id = parseID(token[:i]); id <= 0 {
			return 0, "", ErrMalformed
		}
		secret = token[i+1:]
	}
	body := strings.TrimPrefix(secret, prefix)
	if len(body) != entropyLen && len(body) != entropyLen+checksumLen && len(secret) <= entropyLen+checksumLen {
		return 0, "", ErrMalformed
	}
	return id, secret, nil
}

// ChecksumOK reports whether a secret that passed Split has 40 characters
// from [A-Za-z0-9] and either nothing after them (a legacy Sanctum token) or
// their checksum.
func ChecksumOK(secret, prefix string) bool {
	body := strings.TrimPrefix(secret, prefix)
	switch len(body) {
	case entropyLen:
		return isAlnum(body)
	case entropyLen + checksumLen:
		return isAlnum(body[:entropyLen]) && checksumIs(body[:entropyLen], body[entropyLen:])
	}
	if n := len(secret) - entropyLen - checksumLen; n > 0 && n <= maxPrefix && isPrefix(secret[:n]) {
		// Another prefix than ours: a Sanctum app may have issued it under
		// its own token_prefix. The tail must still be entropy and checksum.
		tail := secret[n:]
		return isAlnum(tail[:entropyLen]) && checksumIs(tail[:entropyLen], tail[entropyLen:])
	}
	return false
}

// maxPrefix bounds a foreign prefix, as Sanctum's are short words like "lara_".
const maxPrefix = 32

// isPrefix reports whether s could be a Sanctum token_prefix: letters,
// digits, '_' and '-'.
func isPrefix(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parseID parses a positive decimal id in canonical form (no sign, no
// leading zero, no overflow), as Format writes it; 0 for anything else.
func parseID(s string) int64 {
	if len(s) == 0 || len(s) > 19 || s[0] == '0' {
		return 0
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<63-1 {
		return 0
	}
	return int64(n)
}

// Looks reports whether token could be a personal access token rather than a
// JWT: it has the "<id>|" form, or no dots at all.
func Looks(token string) bool {
	return strings.IndexByte(token, '|') > 0 || !strings.Contains(token, ".")
}

func checksum(entropy string) string {
	var b [4]byte
	c := crc32IEEE(entropy)
	b[0], b[1], b[2], b[3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	return hex.EncodeToString(b[:])
}

// checksumIs reports whether sum is checksum(entropy), without allocating.
// Like PHP's hash('crc32b'), only lowercase hex digits match.
func checksumIs(entropy, sum string) bool {
	if len(sum) != checksumLen {
		return false
	}
	var v uint32
	for i := 0; i < checksumLen; i++ {
		c := sum[i]
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | uint32(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | uint32(c-'a'+10)
		default:
			return false
		}
	}
	return v == crc32IEEE(entropy)
}

// crc32IEEE is crc32.ChecksumIEEE of a string, computed a byte at a time
// from the package's table: converting the string to []byte would cost an
// allocation on every request, more than the 40 table steps.
func crc32IEEE(s string) uint32 {
	tab := crc32.IEEETable
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = tab[byte(crc)^s[i]] ^ crc>>8
	}
	return ^crc
}

// alnum marks the bytes of [A-Za-z0-9]: one load per character in the
// check every request runs.
var alnum = func() (t [256]bool) {
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = true
	}
	return t
}()

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if !alnum[s[i]] {
			return false
		}
	}
	return true
}
