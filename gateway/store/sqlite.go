package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // pure Go: no cgo, so the binary stays static
)

// OpenSQLite opens (creating when missing) the SQLite file at path, migrates
// it and starts the writer. The file is private to the gateway (0600): it
// names users and what they did.
func OpenSQLite(ctx context.Context, path string, opts Options) (*SQL, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f.Close()
	// WAL lets pages read while the writer writes; busy_timeout makes the
	// rare lock wait instead of fail. cache_size: 256 KiB of pages per
	// connection rather than SQLite's 2 MiB; the store appends events and
	// the admin UI reads a page at a time, the kernel caches the file
	// anyway, and at 1,000 client connections the default held ~2 MB of
	// the resident set (README, Performance).
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(OFF)&_pragma=cache_size(-256)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	s, err := newSQL(ctx, db, sqliteDialect, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
