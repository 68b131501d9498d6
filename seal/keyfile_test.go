package seal_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/propusk/propusk/seal"
)

// TestLoadOrCreateKeyFile: the first call creates a private key file, every
// later call returns the same key, and nothing replaces an existing file.
func TestLoadOrCreateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "master.key")
	k1, created, err := seal.LoadOrCreateKeyFile(path, rand.Reader)
	if err != nil || !created || len(k1) != seal.KeySize {
		t.Fatalf("first call: %d bytes, created %v, %v", len(k1), created, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v, want 0600", fi.Mode().Perm(), err)
	}
	if seal.KeyFileExposed(path) {
		t.Fatal("a 0600 file reported exposed")
	}
	k2, created, err := seal.LoadOrCreateKeyFile(path, rand.Reader)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("second call: created %v, same key %v, %v", created, bytes.Equal(k1, k2), err)
	}
	if _, err := seal.CreateKeyFile(path, rand.Reader); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("CreateKeyFile over an existing file: %v, want fs.ErrExist", err)
	}
	if k3, err := seal.ReadKeyFile(path); err != nil || !bytes.Equal(k1, k3) {
		t.Fatalf("ReadKeyFile: %v", err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if !seal.KeyFileExposed(path) {
		t.Fatal("a 0640 file not reported exposed")
	}
}

func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, err string
	}{
		{"ok/std", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", ""},
		{"ok/raw-url", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", ""},
		{"fail/short", "AAECAwQ=\n", "want base64 of 32 bytes"},
		{"fail/not-base64", "not a key\n", "want base64 of 32 bytes"},
		{"fail/missing", "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, "/", "-"))
			if tc.content != "" {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			k, err := seal.ReadKeyFile(path)
			if tc.err == "" {
				if err != nil || k[31] != 31 {
					t.Fatalf("%v %v", k, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
}
