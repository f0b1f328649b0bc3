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

// sqliteMigrations are the schema versions, in order; never edit a released
// one, add the next. The SQL is kept portable (BIGINT times in Unix
// milliseconds, no SQLite-only types) except for the id columns.
var sqliteMigrations = []string{
	// 1: audit trail, sync runs and results, home states, token mints.
	`CREATE TABLE audit_events (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		time_ms BIGINT NOT NULL,
		request_id TEXT NOT NULL,
		user_name TEXT NOT NULL,
		client TEXT NOT NULL,
		method TEXT NOT NULL,
		path TEXT NOT NULL,
		session_id TEXT NOT NULL,
		proxy_user TEXT NOT NULL,
		action TEXT NOT NULL,
		outcome TEXT NOT NULL,
		reason TEXT NOT NULL,
		status INTEGER NOT NULL
	);
	CREATE INDEX audit_events_time ON audit_events (time_ms);
	CREATE INDEX audit_events_user ON audit_events (user_name, time_ms);
	CREATE INDEX audit_events_action ON audit_events (action, session_id);
	CREATE INDEX audit_events_outcome ON audit_events (outcome);
	CREATE TABLE sync_runs (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		started_ms BIGINT NOT NULL,
		finished_ms BIGINT NOT NULL,
		dry_run BOOLEAN NOT NULL,
		trigger_by TEXT NOT NULL,
		users INTEGER NOT NULL,
		summary TEXT NOT NULL,
		orphans TEXT NOT NULL,
		error TEXT NOT NULL
	);
	CREATE TABLE sync_results (
		run_id BIGINT NOT NULL REFERENCES sync_runs (id),
		user_name TEXT NOT NULL,
		path TEXT NOT NULL,
		action TEXT NOT NULL,
		detail TEXT NOT NULL
	);
	CREATE INDEX sync_results_run ON sync_results (run_id, user_name);
	CREATE TABLE homes (
		user_name TEXT PRIMARY KEY,
		state TEXT NOT NULL,
		action TEXT NOT NULL,
		detail TEXT NOT NULL,
		path TEXT NOT NULL,
		run_id BIGINT NOT NULL,
		updated_ms BIGINT NOT NULL
	);
	CREATE TABLE token_mints (
		jti TEXT PRIMARY KEY,
		user_name TEXT NOT NULL,
		kid TEXT NOT NULL,
		issued_ms BIGINT NOT NULL,
		expires_ms BIGINT NOT NULL
	);
	CREATE INDEX token_mints_issued ON token_mints (issued_ms)`,
	// 2: audit events keep a minted token's subject and a mint's note apart
	// from proxy_user and reason.
	`ALTER TABLE audit_events ADD COLUMN subject TEXT NOT NULL DEFAULT '';
	ALTER TABLE audit_events ADD COLUMN note TEXT NOT NULL DEFAULT ''`,
}

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
	// rare lock wait instead of fail.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(OFF)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	s, err := newSQL(ctx, db, dialect{name: "sqlite", migrations: sqliteMigrations}, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
