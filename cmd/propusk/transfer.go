package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/transfer"
)

// transferFlags are the flags of import laravel, besides --db (the
// destination) and the --laravel-* flags (how to read the source).
type transferFlags struct {
	from   string
	dryRun bool
	batch  int
}

func (f *transferFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.from, "from", "", "the Laravel app's database to copy from (sqlite:PATH, postgres://… or mysql://…); only read")
	fs.BoolVar(&f.dryRun, "dry-run", false, "judge every row and print the report, but write nothing")
	fs.IntVar(&f.batch, "batch", transfer.DefaultBatch, "rows per transaction")
}

func (f *transferFlags) validate() error {
	if f.from == "" {
		return errors.New("import laravel: give the Laravel app's database with --from, e.g. --from sqlite:database/database.sqlite")
	}
	if f.batch < 1 || f.batch > 10000 {
		return fmt.Errorf("--batch must be from 1 to 10000, e.g. %d, not %d", transfer.DefaultBatch, f.batch)
	}
	return nil
}

// importLaravel copies the users and tokens of the Laravel database
// --from into propusk's database --db, and prints the report. It fails
// after the report when a row clashed, so a script notices.
func (m *Main) importLaravel(ctx context.Context) error {
	if sameDatabase(m.transfer.from, m.db) {
		return errors.New("import laravel: --from and --db name the same database; to share the Laravel app's database, serve it in Laravel mode instead (propusk serve --laravel)")
	}
	if path, ok := sqlitePath(m.transfer.from); ok {
		// Opening would create an empty database, and import nothing from it.
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("import laravel: --from %s: %w (give the Laravel app's database, e.g. sqlite:database/database.sqlite)", m.transfer.from, err)
		}
	}
	src, err := openStoreMode(ctx, m.transfer.from, m.laravel.settings)
	if err != nil {
		return fmt.Errorf("import laravel: the source: %w", err)
	}
	defer src.Close()
	from, ok := src.(transfer.Source)
	if !ok {
		return fmt.Errorf("import laravel: the source %s cannot list its tokens", redactDSN(m.transfer.from))
	}
	dst, done, err := m.importDestination(ctx)
	if err != nil {
		return err
	}
	defer done()
	to, ok := dst.(propusk.ImportStore)
	if !ok {
		return fmt.Errorf("import laravel: the destination %s cannot import", redactDSN(m.db))
	}
	rep, err := transfer.Run(ctx, transfer.Config{
		From: from, To: to, FromTokenableType: m.laravel.settings.TokenableType,
		DryRun: m.transfer.dryRun, Batch: m.transfer.batch,
	})
	if _, werr := rep.WriteTo(m.stdout); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("import laravel: %w (what was written stays; run the same command again to finish)", err)
	}
	if n := rep.Clashes(); n > 0 {
		return fmt.Errorf("import laravel: %d rows clashed with other rows of the destination and were not written (listed above)", n)
	}
	return nil
}

// importDestination opens --db as a propusk database and brings its
// schema up to date. A dry run writes nothing: a missing SQLite file is
// judged as the empty database it would be, through an empty one made
// for the run.
// It returns the store and what closes it.
func (m *Main) importDestination(ctx context.Context) (propusk.Store, func(), error) {
	dsn, tmp := m.db, ""
	if path, ok := sqlitePath(dsn); ok && m.transfer.dryRun {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if tmp, err = os.MkdirTemp("", "propusk-dry-run-"); err != nil {
				return nil, nil, fmt.Errorf("import laravel: %w", err)
			}
			dsn = "sqlite:" + filepath.Join(tmp, "empty.db")
			m.log.Info("the destination does not exist: judging the import against an empty database", "db", m.db)
		}
	}
	dst, err := openStore(ctx, dsn)
	if err == nil && !(m.transfer.dryRun && tmp == "") {
		err = migrate(ctx, dst)
	}
	done := func() {
		if dst != nil {
			dst.Close()
		}
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}
	if err != nil {
		done()
		return nil, nil, fmt.Errorf("import laravel: the destination: %w", err)
	}
	return dst, done, nil
}

// sqlitePath returns the file an SQLite DSN names.
func sqlitePath(dsn string) (string, bool) {
	if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		return p, true
	}
	return dsn, dsn != "" && !strings.Contains(dsn, "://")
}

// sameDatabase reports whether two DSNs plainly name one database.
func sameDatabase(a, b string) bool {
	pa, oka := sqlitePath(a)
	pb, okb := sqlitePath(b)
	if oka && okb {
		aa, erra := filepath.Abs(pa)
		bb, errb := filepath.Abs(pb)
		return erra == nil && errb == nil && aa == bb
	}
	return a == b
}
