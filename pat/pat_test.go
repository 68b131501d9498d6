package pat_test

import (
	"bytes"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/propusk/propusk/pat"
)

// crc32b is PHP's hash('crc32b', s) written out from its definition: the
// IEEE 802.3 polynomial, reflected (0xEDB88320), initial value and final
// xor 0xFFFFFFFF, printed as 8 lowercase hex digits, most significant byte
// first. It is independent of hash/crc32 on purpose, so the test checks the
// package against the definition rather than against itself.
func crc32b(s string) string {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc ^= uint32(s[i])
		for range 8 {
			if crc&1 == 1 {
				crc = crc>>1 ^ 0xEDB88320
			} else {
				crc >>= 1
			}
		}
	}
	return fmt.Sprintf("%08x", ^crc)
}

func TestCRC32bReference(t *testing.T) {
	// Vectors PHP prints for hash('crc32b', …).
	for in, want := range map[string]string{
		"":          "00000000",
		"a":         "e8b7be43",
		"123456789": "cbf43926",
		"The quick brown fox jumps over the lazy dog": "414fa339",
	} {
		if got := crc32b(in); got != want {
			t.Errorf("crc32b(%q) = %s, want %s", in, got, want)
		}
	}
}

// entropy40 is 40 characters from the token alphabet, fixed for the tests.
const entropy40 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"

// seq returns the bytes 0, 1, …, n-1: NewSecret maps byte b to the b%62-th
// character of A-Z a-z 0-9, so these draw entropy40.
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestNewSecret(t *testing.T) {
	tests := []struct {
		name   string
		rand   []byte
		prefix string
		want   string
	}{
		{"ok/no-prefix", seq(64), "", entropy40 + crc32b(entropy40)},
		{"ok/prefix", seq(64), "propusk_", "propusk_" + entropy40 + crc32b(entropy40)},
		{
			// Bytes 248..255 would make the first six characters likelier
			// than the rest (256 = 4*62 + 8), so they are skipped.
			"ok/unbiased",
			append([]byte{248, 249, 250, 251, 252, 253, 254, 255}, seq(56)...),
			"",
			entropy40 + crc32b(entropy40),
		},
		{
			// 62+c and c give the same character.
			"ok/wraps",
			append([]byte{62, 63, 124 + 2}, seq(64)[3:]...),
			"",
			entropy40 + crc32b(entropy40),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pat.NewSecret(bytes.NewReader(tt.rand), tt.prefix)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("NewSecret = %q, want %q", got, tt.want)
			}
			if _, _, err := pat.Parse(pat.Format(1, got), tt.prefix); err != nil {
				t.Fatalf("Parse(NewSecret()) = %v", err)
			}
		})
	}

	t.Run("fail/short-rand", func(t *testing.T) {
		if _, err := pat.NewSecret(bytes.NewReader(seq(10)), ""); err == nil {
			t.Fatal("NewSecret with 10 random bytes succeeded")
		}
	})
	t.Run("fail/all-rejected-then-eof", func(t *testing.T) {
		if _, err := pat.NewSecret(bytes.NewReader(bytes.Repeat([]byte{255}, 64)), ""); err == nil {
			t.Fatal("NewSecret with only rejected bytes succeeded")
		}
	})
}

// TestNewSecretShape checks real random secrets have Sanctum 4's shape.
func TestNewSecretShape(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		s, err := pat.NewSecret(cryptorand.Reader, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 48 {
			t.Fatalf("len(%q) = %d, want 48", s, len(s))
		}
		body, sum := s[:40], s[40:]
		for _, c := range body {
			if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", c) {
				t.Fatalf("%q has %q outside [A-Za-z0-9]", s, c)
			}
		}
		if sum != crc32b(body) {
			t.Fatalf("checksum of %q = %s, want crc32b = %s", s, sum, crc32b(body))
		}
		if seen[s] {
			t.Fatalf("NewSecret repeated %q", s)
		}
		seen[s] = true
	}
}

func TestFormatAndHash(t *testing.T) {
	if got := pat.Format(42, "abc"); got != "42|abc" {
		t.Errorf("Format = %q, want 42|abc", got)
	}
	secret := entropy40 + crc32b(entropy40)
	sum := sha256.Sum256([]byte(secret))
	if got, want := pat.Hash(secret), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("Hash = %s, want %s", got, want)
	}
	// A known vector: sha256("abc"), as PHP's hash('sha256', 'abc') prints it.
	if got := pat.Hash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("Hash(abc) = %s", got)
	}
}

func TestParse(t *testing.T) {
	good := entropy40 + crc32b(entropy40)
	// Flip the checksum's last digit to another hex digit.
	last := good[len(good)-1]
	flip := byte('0')
	if last == '0' {
		flip = '1'
	}
	badSum := good[:len(good)-1] + string(flip)

	tests := []struct {
		name   string
		token  string
		prefix string
		id     int64
		secret string
	}{
		{"ok/sanctum4", "7|" + good, "", 7, good},
		{"ok/sanctum4-prefix", "7|pk_" + good, "pk_", 7, "pk_" + good},
		{"ok/bare-secret", good, "", 0, good},
		{"ok/legacy-40", "12|" + entropy40, "", 12, entropy40},
		{"ok/legacy-40-bare", entropy40, "", 0, entropy40},
		// Tokens issued before a prefix was configured keep working.
		{"ok/legacy-with-prefix-configured", "3|" + entropy40, "pk_", 3, entropy40},
		{"ok/unprefixed-with-prefix-configured", "3|" + good, "pk_", 3, good},
		{"ok/big-id", "9223372036854775807|" + good, "", 9223372036854775807, good},

		{"fail/wrong-checksum", "7|" + badSum, "", 0, ""},
		{"fail/uppercase-checksum", "7|" + entropy40 + strings.ToUpper(crc32b(entropy40)), "", 0, ""},
		{"fail/checksum-of-other", "7|" + entropy40 + crc32b("x"), "", 0, ""},
		{"ok/another-apps-prefix", "7|xx_" + good, "pk_", 7, "xx_" + good},
		{"fail/prefix-with-bar", "7|x|" + good, "", 0, ""},
		{"fail/empty", "", "", 0, ""},
		{"fail/empty-secret", "7|", "", 0, ""},
		{"fail/short", "7|" + entropy40[:39], "", 0, ""},
		{"fail/41", "7|" + entropy40 + "A", "", 0, ""},
		{"fail/non-alnum", "7|" + entropy40[:39] + "-", "", 0, ""},
		{"fail/non-alnum-with-sum", "7|" + entropy40[:39] + "_" + crc32b(entropy40[:39]+"_"), "", 0, ""},
		{"fail/space", "7| " + entropy40, "", 0, ""},
		{"fail/id-zero", "0|" + good, "", 0, ""},
		{"fail/id-negative", "-1|" + good, "", 0, ""},
		{"fail/id-plus", "+7|" + good, "", 0, ""},
		{"fail/id-leading-zero", "07|" + good, "", 0, ""},
		{"fail/id-empty", "|" + good, "", 0, ""},
		{"fail/id-letters", "a|" + good, "", 0, ""},
		{"fail/id-overflow", "9223372036854775808|" + good, "", 0, ""},
		{"fail/two-bars", "7|8|" + good, "", 0, ""},
		{"fail/jwt", "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2ln", "", 0, ""},
		{"fail/huge", "7|" + strings.Repeat("a", 1<<16), "", 0, ""},
		{"fail/utf8", "7|" + entropy40[:38] + "é", "", 0, ""},
		{"fail/nul", "7|" + entropy40[:39] + "\x00", "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, secret, err := pat.Parse(tt.token, tt.prefix)
			if strings.HasPrefix(tt.name, "fail/") {
				if !errors.Is(err, pat.ErrMalformed) {
					t.Fatalf("Parse(%q) = %d, %q, %v; want ErrMalformed", tt.token, id, secret, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.token, err)
			}
			if id != tt.id || secret != tt.secret {
				t.Fatalf("Parse(%q) = %d, %q; want %d, %q", tt.token, id, secret, tt.id, tt.secret)
			}
		})
	}
}

func TestLooks(t *testing.T) {
	for tok, want := range map[string]bool{
		"7|" + entropy40: true,
		entropy40:        true,
		"a.b.c":          false,
		"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2ln": false,
	} {
		if got := pat.Looks(tok); got != want {
			t.Errorf("Looks(%q) = %v, want %v", tok, got, want)
		}
	}
}

// FuzzParse holds Parse to its contract on any input: no panic, and what it
// accepts is a well-formed token whose parts round-trip through Format.
func FuzzParse(f *testing.F) {
	good := entropy40 + crc32b(entropy40)
	for _, s := range []string{
		"7|" + good, good, "7|" + entropy40, entropy40, "7|pk_" + good,
		"", "|", "0|", "7|", "-1|" + good, "07|" + good, "7|8|" + good,
		"9223372036854775808|" + good, "7|" + entropy40 + "00000000",
		"a.b.c", "7|" + entropy40[:39] + "é", "\x00|\xff",
	} {
		f.Add(s, "")
		f.Add(s, "pk_")
	}
	f.Fuzz(func(t *testing.T, token, prefix string) {
		id, secret, err := pat.Parse(token, prefix)
		if err != nil {
			if !errors.Is(err, pat.ErrMalformed) {
				t.Fatalf("Parse(%q) error %v is not ErrMalformed", token, err)
			}
			return
		}
		if id < 0 {
			t.Fatalf("Parse(%q) id = %d", token, id)
		}
		if id == 0 && secret != token || id > 0 && pat.Format(id, secret) != token {
			t.Fatalf("Parse(%q) = %d, %q: does not round-trip", token, id, secret)
		}
		body := strings.TrimPrefix(secret, prefix)
		if n := len(secret) - 48; len(body) != 40 && len(body) != 48 && n > 0 {
			// Another app's prefix: letters, digits, '_' and '-' only.
			if strings.ContainsFunc(secret[:n], func(r rune) bool {
				return !(r == '_' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
			}) {
				t.Fatalf("Parse(%q) accepted the prefix %q", token, secret[:n])
			}
			body = secret[n:]
		}
		switch len(body) {
		case 40:
		case 48:
			if body[40:] != crc32b(body[:40]) {
				t.Fatalf("Parse(%q) accepted a wrong checksum", token)
			}
		default:
			t.Fatalf("Parse(%q) accepted a %d-character body", token, len(body))
		}
		for i := 0; i < 40; i++ {
			c := body[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				t.Fatalf("Parse(%q) accepted %q", token, c)
			}
		}
	})
}
