//go:build unix

package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// TestFileMode: the database and its -wal and -shm files are readable by
// their owner only, whatever the umask; a file that exists keeps its mode
// and is reported. It changes the process umask, so it must not run in
// parallel with other tests.
func TestFileMode(t *testing.T) {
	for _, umask := range []int{0o022, 0, 0o002, 0o277} {
		t.Run(fmt.Sprintf("umask-%03o", umask), func(t *testing.T) {
			old := syscall.Umask(umask)
			defer syscall.Umask(old)
			s := openTest(t) // Migrate writes, so the -wal and -shm files exist
			for _, p := range []string{s.path, s.path + "-wal", s.path + "-shm"} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
				}
			}
			if got := s.Exposed(); len(got) != 0 {
				t.Errorf("Exposed() = %v, want none", got)
			}
		})
	}
	t.Run("existing-wider-file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "propusk.db")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o640); err != nil {
			t.Fatal(err)
		}
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
			t.Errorf("mode changed to %v; an existing file keeps the operator's", fi.Mode().Perm())
		}
		want := []string{path, path + "-wal", path + "-shm"}
		if got := s.Exposed(); !slices.Equal(got, want) {
			t.Errorf("Exposed() = %v, want %v", got, want)
		}
	})
}
