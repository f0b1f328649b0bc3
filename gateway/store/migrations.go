package store

import "strings"

// migrations are the schema versions, in order; never edit a released one,
// add the next. The SQL is portable (BIGINT times in Unix milliseconds, no
// SQLite-only types) except for the id columns, written the SQLite way and
// rewritten per dialect (autoID).
var migrations = []string{
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
	// 2: what replicas must share: admin UI logins, failed-login counts,
	// leases of singleton jobs. Session ids and lockout keys are stored
	// hashed (see hashKey).
	`CREATE TABLE ui_sessions (
		id_hash TEXT PRIMARY KEY,
		identity TEXT NOT NULL,
		csrf TEXT NOT NULL,
		expires_ms BIGINT NOT NULL
	);
	CREATE INDEX ui_sessions_expires ON ui_sessions (expires_ms);
	CREATE TABLE login_failures (
		key_hash TEXT PRIMARY KEY,
		failures INTEGER NOT NULL,
		window_end_ms BIGINT NOT NULL,
		locked_until_ms BIGINT NOT NULL
	);
	CREATE TABLE leases (
		name TEXT PRIMARY KEY,
		holder TEXT NOT NULL,
		expires_ms BIGINT NOT NULL
	)`,
	// 3: audit events keep a minted token's subject and a mint's note apart
	// from proxy_user and reason.
	`ALTER TABLE audit_events ADD COLUMN subject TEXT NOT NULL DEFAULT '';
	ALTER TABLE audit_events ADD COLUMN note TEXT NOT NULL DEFAULT ''`,
	// 4: the gateway's own session and batch ids (see ids.go): one counter
	// every replica draws from, and what each id stands for.
	`CREATE TABLE gateway_ids (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		allocated_ms BIGINT NOT NULL
	);
	CREATE TABLE id_mappings (
		id BIGINT PRIMARY KEY,
		resource TEXT NOT NULL,
		backend TEXT NOT NULL,
		livy_id BIGINT NOT NULL,
		owner TEXT NOT NULL,
		name TEXT NOT NULL,
		created_ms BIGINT NOT NULL,
		UNIQUE (resource, backend, livy_id, owner, name)
	)`,
	// 5: warm sessions (gateway/warm): each one's Livy name, the user it was
	// started for, its completed create body, and whether it was adopted.
	`CREATE TABLE warm_sessions (
		name TEXT PRIMARY KEY,
		owner TEXT NOT NULL,
		kind TEXT NOT NULL,
		session_id BIGINT NOT NULL,
		body TEXT NOT NULL,
		created_ms BIGINT NOT NULL,
		adopted_ms BIGINT NOT NULL DEFAULT 0
	)`,
}

// autoID is how migrations spell an auto-numbered id column; a dialect
// replaces it with its own.
const autoID = "INTEGER PRIMARY KEY AUTOINCREMENT"

// withAutoID returns the migrations with each auto-numbered id column
// spelled as id.
func withAutoID(id string) []string {
	out := make([]string, len(migrations))
	for i, m := range migrations {
		out[i] = strings.ReplaceAll(m, autoID, id)
	}
	return out
}
