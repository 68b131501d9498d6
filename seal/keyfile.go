package seal

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ParseKey decodes a key written as base64 of 32 bytes, in any of the
// standard and URL alphabets, padded or not ("openssl rand -base64 32"
// writes one). Surrounding white space is ignored.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, errors.New("seal: want base64 of 32 bytes (openssl rand -base64 32)")
}

// ReadKeyFile reads a key file written by CreateKeyFile (or by hand:
// base64 of 32 bytes). A missing file is an error that wraps
// fs.ErrNotExist.
func ReadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: read key file: %w", err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("seal: key file %s: %w", path, err)
	}
	return k, nil
}

// CreateKeyFile writes a new random key, drawn from rand, to path with mode
// 0600, creating missing directories with mode 0700. It never replaces a
// file: if path exists, the error wraps fs.ErrExist. The file is synced
// before CreateKeyFile returns, so a key that sealed anything is on disk.
func CreateKeyFile(path string, rand io.Reader) ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := io.ReadFull(rand, k); err != nil {
		return nil, fmt.Errorf("seal: new key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("seal: create key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("seal: create key file: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path) // a half-written key must not be read back next start
		return nil, fmt.Errorf("seal: write key file %s: %w", path, err)
	}
	return k, nil
}

// LoadOrCreateKeyFile returns the key in path, creating the file with a new
// random key (as CreateKeyFile does) when it does not exist; created says
// which. This is what the propusk binary does with its master key file on
// first start.
//
// A new key opens nothing sealed under the old one: a caller whose database
// already holds sealed keys should call ReadKeyFile instead, so that a lost
// file is an error rather than a fresh key.
func LoadOrCreateKeyFile(path string, rand io.Reader) (key []byte, created bool, err error) {
	k, err := ReadKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err = CreateKeyFile(path, rand)
		if errors.Is(err, fs.ErrExist) { // another process created it first
			k, err = ReadKeyFile(path)
			return k, false, err
		}
		return k, err == nil, err
	}
	return k, false, err
}

// KeyFileExposed reports whether the key file at path may be read by users
// other than its owner (any group or other permission bit).
func KeyFileExposed(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().Perm()&0o077 != 0
}
