// Package migfiles reads the embedded migration files of the stores: each
// store applies them in its own dialect, transactions and locks, but lists
// and names them the same way.
package migfiles

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
)

// File is one migration: its path in the embedded file system, which is
// the name it is recorded by once applied, and its SQL.
type File struct {
	Name string
	Body string
}

// Read returns the files of fsys matching pattern, in the order of their
// names, the order they apply in.
func Read(fsys fs.FS, pattern string) ([]File, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, fmt.Errorf("migrations %s: %w", pattern, err)
	}
	sort.Strings(names)
	files := make([]File, len(names))
	for i, name := range names {
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		files[i] = File{Name: name, Body: string(body)}
	}
	return files, nil
}

// TriggersName is the name a Laravel-mode store records its triggers'
// text under: a new text (a new login column, a new version) is a new
// name, so the triggers are installed again.
func TriggersName(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "triggers " + hex.EncodeToString(sum[:8])
}
