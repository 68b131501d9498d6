package sqlite

import (
	"errors"
	"io/fs"
	"os"
)

// fileMode is the mode of a database file propusk creates: it holds password
// hashes, sealed keys and token hashes, so only its owner may read it, like
// the master key file. SQLite creates the -wal and -shm files with the mode
// of the database file, whatever the umask, so they get it too.
const fileMode fs.FileMode = 0o600

// create makes the database file at path with fileMode if it is missing.
// An existing file keeps its mode: the operator may have widened it on
// purpose (a Laravel app sharing the file under another user), and Exposed
// lets the caller warn.
func create(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// A umask can only take bits away, and one that took the owner's write
	// bit would leave a file SQLite cannot write: set the mode exactly.
	return errors.Join(f.Chmod(fileMode), f.Close())
}

// Exposed returns those of the database file and its -wal and -shm files
// that exist and that users other than the owner may read or write, for
// the caller to warn about.
func (s *Store) Exposed() []string {
	var out []string
	for _, p := range []string{s.path, s.path + "-wal", s.path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&^fileMode != 0 {
			out = append(out, p)
		}
	}
	return out
}
