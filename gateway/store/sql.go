package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/provision"
)

// Options configure a SQL store.
type Options struct {
	// QueueSize bounds the events waiting to be written; beyond it they are
	// dropped and counted.
	QueueSize int
	// MaxAge deletes audit events, runs and mint records older than this; 0
	// keeps them.
	MaxAge time.Duration
	// MaxEvents keeps at most this many audit events of authenticated
	// callers; 0 keeps all.
	MaxEvents int
	// MaxAnonymousEvents keeps at most this many events without a user
	// (refusals before authentication), counted apart so that anonymous
	// traffic cannot push real users' events out; 0 keeps all.
	MaxAnonymousEvents int
	// MaxRuns keeps at most this many sync runs; 0 keeps all.
	MaxRuns int
	// PruneEvery applies retention this often (default 10 minutes).
	PruneEvery time.Duration
	// ReportEvery logs dropped events at most this often (default 10 s).
	ReportEvery time.Duration
	// Holder names this process in leases (default NewHolder()): retention
	// runs on the one replica holding the "retention" lease.
	Holder string
	Log    logrus.FieldLogger
	Now    func() time.Time
}

// batchMax bounds one write transaction.
const batchMax = 512

// SQL is a Store over database/sql with portable SQL (placeholders are
// rebound per dialect). One writer goroutine owns all queued writes.
type SQL struct {
	db      *sql.DB
	dialect dialect
	opts    Options

	queue   chan item
	stop    chan struct{}
	done    chan struct{}
	closing sync.Once

	dropped   atomic.Uint64 // since start
	reported  uint64        // dropped count at the last report (writer only)
	written   atomic.Uint64
	lastPrune time.Time
	retention *Singleton
	// failing is set while writes fail (writer only): the outage is logged
	// when it starts, every ReportEvery while it lasts (failLogged) and when
	// it ends, not once per batch.
	failing      bool
	failedWrites uint64 // events dropped since the outage began (writer only)
	failedTotal  uint64 // events dropped by failed writes since start (writer only)
	failLogged   time.Time

	// beforeWrite, when set (tests), runs before each batch is written.
	beforeWrite func()
}

type item struct {
	event *audit.Event
	mint  *MintRecord
}

// dialect holds what differs between databases.
type dialect struct {
	name string
	// dollar rebinds ? to $1, $2, … (PostgreSQL).
	dollar     bool
	migrations []string
	// lockMigrations and unlockMigrations, when set, run around the
	// migrations on one connection, so that replicas starting together
	// migrate one after the other.
	lockMigrations, unlockMigrations string
}

var sqliteDialect = dialect{name: "sqlite", migrations: withAutoID(autoID)}

// q rebinds a query's placeholders for the dialect. A numbered ?N (used
// where one value appears several times) becomes $N; a query uses either
// kind, never both.
func (d dialect) q(query string) string {
	if !d.dollar {
		return query
	}
	var b strings.Builder
	n := 0
	for i, c := range query {
		if c != '?' {
			b.WriteRune(c)
			continue
		}
		if i+1 < len(query) && '0' <= query[i+1] && query[i+1] <= '9' {
			b.WriteByte('$')
			continue
		}
		n++
		fmt.Fprintf(&b, "$%d", n)
	}
	return b.String()
}

// newSQL migrates db and starts the writer.
func newSQL(ctx context.Context, db *sql.DB, d dialect, opts Options) (*SQL, error) {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 10000
	}
	if opts.PruneEvery <= 0 {
		opts.PruneEvery = 10 * time.Minute
	}
	if opts.ReportEvery <= 0 {
		opts.ReportEvery = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = logrus.StandardLogger()
	}
	if opts.Holder == "" {
		opts.Holder = NewHolder()
	}
	s := &SQL{db: db, dialect: d, opts: opts,
		queue: make(chan item, opts.QueueSize), stop: make(chan struct{}), done: make(chan struct{})}
	s.retention = NewSingleton(s, "retention", opts.Holder, 3*opts.PruneEvery, opts.Log)
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	go s.writer()
	return s, nil
}

// migrate applies the migrations not yet recorded, each in its own
// transaction, so a re-open is a no-op. It holds one connection throughout:
// the dialect's migration lock belongs to that connection.
func (s *SQL) migrate(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer conn.Close()
	if s.dialect.lockMigrations != "" {
		if _, err := conn.ExecContext(ctx, s.dialect.lockMigrations); err != nil {
			return fmt.Errorf("store: waiting for the migration lock: %w", err)
		}
		// A lost connection drops the lock too, so an error here is harmless.
		defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), s.dialect.unlockMigrations) }()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: creating schema_migrations: %w", err)
	}
	var have int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("store: reading the schema version: %w", err)
	}
	if have > len(s.dialect.migrations) {
		return fmt.Errorf("store: the database has schema version %d, newer than this livygate knows (%d)", have, len(s.dialect.migrations))
	}
	for v := have + 1; v <= len(s.dialect.migrations); v++ {
		if err := s.applyMigration(ctx, conn, v); err != nil {
			return fmt.Errorf("store: migration %d: %w", v, err)
		}
	}
	return nil
}

func (s *SQL) applyMigration(ctx context.Context, conn *sql.Conn, v int) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, stmt := range strings.Split(s.dialect.migrations[v-1], ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, s.dialect.q(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), v, s.opts.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// SchemaVersion is the applied schema version.
func (s *SQL) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// Record implements audit.Sink: it queues and never blocks.
// An event without a user may only take the first half of the queue, so a
// flood of anonymous refusals cannot crowd out authenticated users' events.
func (s *SQL) Record(e audit.Event) {
	if e.User == "" && len(s.queue) >= cap(s.queue)/2 {
		s.dropped.Add(1)
		return
	}
	s.enqueue(item{event: &e})
}

// RecordMint implements Store: it queues and never blocks.
func (s *SQL) RecordMint(m MintRecord) { s.enqueue(item{mint: &m}) }

func (s *SQL) enqueue(it item) {
	select {
	case s.queue <- it:
	default:
		s.dropped.Add(1)
	}
}

// Stats implements Store.
func (s *SQL) Stats() Stats {
	return Stats{Queued: len(s.queue), Dropped: s.dropped.Load(), Written: s.written.Load()}
}

// Close implements Store: it stops the writer after it has written what is
// queued. Events recorded after Close are dropped.
func (s *SQL) Close() error {
	s.closing.Do(func() { close(s.stop) })
	<-s.done
	s.retention.Release(context.Background())
	return s.db.Close()
}

func (s *SQL) writer() {
	defer close(s.done)
	tick := time.NewTicker(s.opts.ReportEvery)
	defer tick.Stop()
	s.lastPrune = s.opts.Now()
	s.pruneIfHeld()
	for {
		select {
		case it := <-s.queue:
			s.write(s.drain([]item{it}, batchMax))
		case <-tick.C:
			s.reportDrops()
			if s.opts.Now().Sub(s.lastPrune) >= s.opts.PruneEvery {
				s.lastPrune = s.opts.Now()
				s.pruneIfHeld()
			}
		case <-s.stop:
			for {
				batch := s.drain(nil, batchMax)
				if len(batch) == 0 {
					break
				}
				s.write(batch)
			}
			s.reportDrops()
			return
		}
	}
}

// drain adds what is queued, without waiting, up to max items.
func (s *SQL) drain(batch []item, max int) []item {
	for len(batch) < max {
		select {
		case it := <-s.queue:
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}

// reportDrops logs once per interval, not once per drop, so a flood of
// requests cannot turn into a flood of log lines.
func (s *SQL) reportDrops() {
	d := s.dropped.Load() - s.failedTotal // failed writes are logged by write
	if n := d - s.reported; n > 0 {
		s.opts.Log.WithFields(logrus.Fields{"dropped": n, "dropped_total": d, "queue_size": s.opts.QueueSize}).
			Warn("store: write queue full; audit events dropped from the store (they are still in the log)")
		s.reported = d
	}
}

// write inserts one batch in one transaction. A failure counts the batch as
// dropped (the request that made it has long been answered); the first
// failure is logged, and the first success after it, so a database that is
// down costs two log lines, not one per request.
func (s *SQL) write(batch []item) {
	if s.beforeWrite != nil {
		s.beforeWrite()
	}
	err := s.insert(batch)
	if err != nil && s.db.Stats().OpenConnections > 0 {
		// Once, at once: after a database restart the pool's idle
		// connections are dead, and the retry gets a fresh one.
		err = s.insert(batch)
	}
	if err != nil {
		s.dropped.Add(uint64(len(batch)))
		s.failedWrites += uint64(len(batch))
		s.failedTotal += uint64(len(batch))
		// While the database is down every batch fails: one line when the
		// outage starts and one per ReportEvery while it lasts, not one per
		// batch.
		if now := s.opts.Now(); !s.failing || now.Sub(s.failLogged) >= s.opts.ReportEvery {
			s.opts.Log.WithError(err).WithFields(logrus.Fields{"events": len(batch), "dropped_so_far": s.failedWrites}).
				Error("store: writing audit events failed; they are dropped from the store (still in the log) until it can be written again")
			s.failLogged = now
		}
		s.failing = true
		return
	}
	if s.failing {
		s.failing = false
		s.opts.Log.WithField("dropped", s.failedWrites).Warn("store: writing audit events again")
		s.failedWrites = 0
	}
	s.written.Add(uint64(len(batch)))
}

func (s *SQL) insert(batch []item) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var ev, mint *sql.Stmt
	for _, it := range batch {
		switch {
		case it.event != nil:
			if ev == nil {
				if ev, err = tx.PrepareContext(ctx, s.dialect.q(`INSERT INTO audit_events
					(time_ms, request_id, user_name, client, method, path, session_id, proxy_user, subject, action, outcome, reason, note, status)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)); err != nil {
					return err
				}
			}
			e := it.event
			if _, err := ev.ExecContext(ctx, e.Time.UnixMilli(), e.RequestID, e.User, e.ClientAddr, e.Method, e.Path,
				e.SessionID, e.ProxyUser, e.Subject, audit.ActionOf(e.Method, e.Path), e.Outcome, e.Reason, e.Note, e.Status); err != nil {
				return err
			}
		case it.mint != nil:
			if mint == nil {
				if mint, err = tx.PrepareContext(ctx, s.dialect.q(`INSERT INTO token_mints (jti, user_name, kid, issued_ms, expires_ms) VALUES (?, ?, ?, ?, ?)`)); err != nil {
					return err
				}
			}
			m := it.mint
			if _, err := mint.ExecContext(ctx, m.JTI, m.User, m.Kid, m.IssuedAt.UnixMilli(), m.ExpiresAt.UnixMilli()); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// pruneIfHeld applies retention when this replica holds the retention
// lease, so that replicas sharing a database do not all delete the same rows.
func (s *SQL) pruneIfHeld() {
	s.retention.Do(context.Background(), func(ctx context.Context) { _ = s.prune(ctx) })
}

// Prune implements Store.
func (s *SQL) Prune(ctx context.Context) error { return s.prune(ctx) }

func (s *SQL) prune(ctx context.Context) error {
	var errs []error
	exec := func(query string, args ...any) {
		if _, err := s.db.ExecContext(ctx, s.dialect.q(query), args...); err != nil {
			errs = append(errs, err)
		}
	}
	if s.opts.MaxAge > 0 {
		cutoff := s.opts.Now().Add(-s.opts.MaxAge).UnixMilli()
		exec(`DELETE FROM audit_events WHERE time_ms < ?`, cutoff)
		exec(`DELETE FROM sync_results WHERE run_id IN (SELECT id FROM sync_runs WHERE started_ms < ?)`, cutoff)
		exec(`DELETE FROM sync_runs WHERE started_ms < ?`, cutoff)
		exec(`DELETE FROM token_mints WHERE expires_ms < ?`, cutoff)
	}
	// Authenticated and anonymous events are kept by separate counts.
	if s.opts.MaxEvents > 0 {
		exec(`DELETE FROM audit_events WHERE user_name <> '' AND id <= (SELECT id FROM audit_events WHERE user_name <> '' ORDER BY id DESC LIMIT 1 OFFSET ?)`, s.opts.MaxEvents)
	}
	if s.opts.MaxAnonymousEvents > 0 {
		exec(`DELETE FROM audit_events WHERE user_name = '' AND id <= (SELECT id FROM audit_events WHERE user_name = '' ORDER BY id DESC LIMIT 1 OFFSET ?)`, s.opts.MaxAnonymousEvents)
	}
	// Logins and lockouts that have run out; they are never read again.
	now := s.opts.Now().UnixMilli()
	exec(`DELETE FROM ui_sessions WHERE expires_ms <= ?`, now)
	exec(`DELETE FROM login_failures WHERE window_end_ms <= ? AND locked_until_ms <= ?`, now, now)
	if s.opts.MaxRuns > 0 {
		exec(`DELETE FROM sync_results WHERE run_id <= (SELECT id FROM sync_runs ORDER BY id DESC LIMIT 1 OFFSET ?)`, s.opts.MaxRuns)
		exec(`DELETE FROM sync_runs WHERE id <= (SELECT id FROM sync_runs ORDER BY id DESC LIMIT 1 OFFSET ?)`, s.opts.MaxRuns)
	}
	err := errors.Join(errs...)
	if err != nil {
		s.opts.Log.WithError(err).Error("store: applying retention failed")
	}
	return err
}

// SaveRun implements Store.
func (s *SQL) SaveRun(ctx context.Context, run *provision.Run, trigger string) (int64, error) {
	summary := map[string]int{}
	for a, n := range run.Summary {
		summary[string(a)] = n
	}
	sj, _ := json.Marshal(summary)
	oj, _ := json.Marshal(run.Orphans)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	var id int64
	err = tx.QueryRowContext(ctx, s.dialect.q(`INSERT INTO sync_runs (started_ms, finished_ms, dry_run, trigger_by, users, summary, orphans, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		run.Started.UnixMilli(), run.Finished.UnixMilli(), run.DryRun, trigger, run.Users, string(sj), string(oj), run.Error).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: saving the run: %w", err)
	}
	if len(run.Results) > 0 {
		res, err := tx.PrepareContext(ctx, s.dialect.q(`INSERT INTO sync_results (run_id, user_name, path, action, detail) VALUES (?, ?, ?, ?, ?)`))
		if err != nil {
			return 0, err
		}
		// Portable upsert (SQLite ≥ 3.24 and PostgreSQL share this syntax).
		home, err := tx.PrepareContext(ctx, s.dialect.q(`INSERT INTO homes (user_name, state, action, detail, path, run_id, updated_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_name) DO UPDATE SET state = excluded.state, action = excluded.action, detail = excluded.detail,
			path = excluded.path, run_id = excluded.run_id, updated_ms = excluded.updated_ms`))
		if err != nil {
			return 0, err
		}
		at := run.Finished.UnixMilli()
		for _, r := range run.Results {
			if _, err := res.ExecContext(ctx, id, r.User, r.Path, string(r.Action), r.Detail); err != nil {
				return 0, fmt.Errorf("store: saving results: %w", err)
			}
			// A failed step says nothing sure about the home; keep what was known.
			if r.Action == "failed" && run.DryRun {
				continue
			}
			if _, err := home.ExecContext(ctx, r.User, HomeState(string(r.Action)), string(r.Action), r.Detail, r.Path, id, at); err != nil {
				return 0, fmt.Errorf("store: saving home states: %w", err)
			}
		}
	}
	return id, tx.Commit()
}

const runColumns = `id, started_ms, finished_ms, dry_run, trigger_by, users, summary, orphans, error`

func scanRun(sc interface{ Scan(...any) error }) (RunSummary, error) {
	var r RunSummary
	var started, finished int64
	var summary, orphans string
	if err := sc.Scan(&r.ID, &started, &finished, &r.DryRun, &r.Trigger, &r.Users, &summary, &orphans, &r.Error); err != nil {
		return r, err
	}
	r.Started, r.Finished = time.UnixMilli(started), time.UnixMilli(finished)
	_ = json.Unmarshal([]byte(summary), &r.Summary)
	_ = json.Unmarshal([]byte(orphans), &r.Orphans)
	return r, nil
}

// Runs implements Store.
func (s *SQL) Runs(ctx context.Context, limit, offset int) ([]RunSummary, error) {
	var out []RunSummary
	err := s.each(ctx, `SELECT `+runColumns+` FROM sync_runs ORDER BY id DESC LIMIT ? OFFSET ?`, []any{limit, offset}, func(rows *sql.Rows) error {
		r, err := scanRun(rows)
		out = append(out, r)
		return err
	})
	return out, err
}

// each runs query and calls scan for every row, then closes the rows.
func (s *SQL) each(ctx context.Context, query string, a []any, scan func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, s.dialect.q(query), a...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Run implements Store.
func (s *SQL) Run(ctx context.Context, id int64) (*RunDetail, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, s.dialect.q(`SELECT `+runColumns+` FROM sync_runs WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d := &RunDetail{RunSummary: r}
	err = s.each(ctx, `SELECT user_name, path, action, detail FROM sync_results WHERE run_id = ? ORDER BY user_name`, []any{id}, func(rows *sql.Rows) error {
		var u UserResult
		err := rows.Scan(&u.User, &u.Path, &u.Action, &u.Detail)
		d.Results = append(d.Results, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// chunks splits a long IN list to stay under every database's parameter cap.
func chunks(xs []string, n int) [][]string {
	var out [][]string
	for len(xs) > n {
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	if len(xs) > 0 {
		out = append(out, xs)
	}
	return out
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func args(prefix []any, xs []string) []any {
	out := append([]any(nil), prefix...)
	for _, x := range xs {
		out = append(out, x)
	}
	return out
}

// Homes implements Store.
func (s *SQL) Homes(ctx context.Context, users []string) (map[string]Home, error) {
	out := map[string]Home{}
	scan := func(query string, a []any) error {
		return s.each(ctx, query, a, func(rows *sql.Rows) error {
			var u string
			var h Home
			var updated int64
			err := rows.Scan(&u, &h.State, &h.Action, &h.Detail, &h.Path, &h.RunID, &updated)
			h.Updated = time.UnixMilli(updated)
			out[u] = h
			return err
		})
	}
	const cols = `SELECT user_name, state, action, detail, path, run_id, updated_ms FROM homes`
	if users == nil {
		return out, scan(cols, nil)
	}
	for _, c := range chunks(users, 500) {
		if err := scan(cols+` WHERE user_name IN (`+placeholders(len(c))+`)`, args(nil, c)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LastActivity implements Store.
func (s *SQL) LastActivity(ctx context.Context, users []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, c := range chunks(users, 500) {
		if err := s.maxTimes(ctx, out, `SELECT user_name, MAX(time_ms) FROM audit_events WHERE user_name IN (`+placeholders(len(c))+`) GROUP BY user_name`, args(nil, c)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CreatedAt implements Store.
func (s *SQL) CreatedAt(ctx context.Context, res string, ids []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	action := audit.ActionOf("POST", "/"+res)
	for _, c := range chunks(ids, 500) {
		if err := s.maxTimes(ctx, out, `SELECT session_id, MAX(time_ms) FROM audit_events WHERE action = ? AND outcome = 'ok' AND session_id IN (`+placeholders(len(c))+`) GROUP BY session_id`, args([]any{action}, c)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *SQL) maxTimes(ctx context.Context, out map[string]time.Time, query string, a []any) error {
	return s.each(ctx, query, a, func(rows *sql.Rows) error {
		var k string
		var ms int64
		err := rows.Scan(&k, &ms)
		out[k] = time.UnixMilli(ms)
		return err
	})
}

// Audit implements Store.
func (s *SQL) Audit(ctx context.Context, q AuditQuery) ([]AuditRecord, int, error) {
	var where []string
	var a []any
	add := func(cond string, v any) { where = append(where, cond); a = append(a, v) }
	if q.User != "" {
		add("user_name = ?", q.User)
	}
	if q.Action != "" {
		add("action = ?", q.Action)
	}
	if q.Outcome != "" {
		add("outcome = ?", q.Outcome)
	}
	if !q.From.IsZero() {
		add("time_ms >= ?", q.From.UnixMilli())
	}
	if !q.To.IsZero() {
		add("time_ms < ?", q.To.UnixMilli())
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT COUNT(*) FROM audit_events`+cond), a...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var out []AuditRecord
	err := s.each(ctx, `SELECT id, time_ms, request_id, user_name, client, method, path, session_id, proxy_user, subject, action, outcome, reason, note, status
		FROM audit_events`+cond+` ORDER BY id DESC LIMIT ? OFFSET ?`, append(a, q.Limit, q.Offset), func(rows *sql.Rows) error {
		var r AuditRecord
		var ms int64
		err := rows.Scan(&r.ID, &ms, &r.RequestID, &r.User, &r.ClientAddr, &r.Method, &r.Path, &r.SessionID,
			&r.ProxyUser, &r.Subject, &r.Action, &r.Outcome, &r.Reason, &r.Note, &r.Status)
		r.Time = time.UnixMilli(ms)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// Mints implements Store.
func (s *SQL) Mints(ctx context.Context, limit int) ([]MintRecord, error) {
	var out []MintRecord
	err := s.each(ctx, `SELECT jti, user_name, kid, issued_ms, expires_ms FROM token_mints ORDER BY issued_ms DESC LIMIT ?`, []any{limit}, func(rows *sql.Rows) error {
		var m MintRecord
		var iss, exp int64
		err := rows.Scan(&m.JTI, &m.User, &m.Kid, &iss, &exp)
		m.IssuedAt, m.ExpiresAt = time.UnixMilli(iss), time.UnixMilli(exp)
		out = append(out, m)
		return err
	})
	return out, err
}
