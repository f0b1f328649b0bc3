package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/logging/logtest"
)

// quietLog is the logger the store tests hand the store: it writes nowhere.
func quietLog() *logrus.Logger { return logtest.Discard() }

// backend is a database the conformance suite runs against.
type backend struct {
	name string
	// fresh makes a new, empty database and returns what opens it; tests
	// open it more than once to see what a re-open keeps.
	fresh func(t *testing.T) opener
}

type opener func(opts Options) (*SQL, error)

// replicas opens one fresh database twice, as two gateways would.
func (b backend) replicas(t *testing.T, opts Options) (*SQL, *SQL) {
	t.Helper()
	o := b.fresh(t)
	return reopen(t, o, opts), reopen(t, o, opts)
}

func sqliteBackend() backend {
	return backend{name: "sqlite", fresh: func(t *testing.T) opener {
		path := filepath.Join(t.TempDir(), "sub", "livygate.db")
		return func(opts Options) (*SQL, error) { return OpenSQLite(context.Background(), path, opts) }
	}}
}

func TestSQLiteConformance(t *testing.T) { runConformance(t, sqliteBackend()) }

// open opens a fresh database of b, closed when the test ends.
func open(t *testing.T, b backend, opts Options) *SQL {
	t.Helper()
	return reopen(t, b.fresh(t), opts)
}

// reopen opens the database o opens, closed when the test ends.
func reopen(t *testing.T, o opener, opts Options) *SQL {
	t.Helper()
	if opts.Log == nil {
		opts.Log = quietLog()
	}
	s, err := o(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// flush waits until everything recorded so far is written.
func flush(t *testing.T, s *SQL, want uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Written+s.Stats().Dropped < want {
		if time.Now().After(deadline) {
			t.Fatalf("store did not write: %+v, want %d", s.Stats(), want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func event(user, method, path, outcome string, at time.Time) audit.Event {
	return audit.Event{Time: at, RequestID: "r", User: user, ClientAddr: "127.0.0.1", Method: method, Path: path, Detail: audit.Detail{Outcome: outcome}, Status: 200}
}

func TestDialectRebind(t *testing.T) {
	d := dialect{dollar: true}
	if got := d.q("a = ? AND b IN (?,?)"); got != "a = $1 AND b IN ($2,$3)" {
		t.Errorf("rebind: %s", got)
	}
	if got := d.q("a = ?2 OR b = ?12 OR c = ?2"); got != "a = $2 OR b = $12 OR c = $2" {
		t.Errorf("numbered rebind: %s", got)
	}
	if got := sqliteDialect.q("a = ?2"); got != "a = ?2" {
		t.Errorf("sqlite rebinds: %s", got)
	}
}

// A database written before audit events had a subject and a note (schema
// version 1) opens, keeps its events and stores the new fields.
func TestVersion1DatabaseMigrates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	stmts := append(strings.Split(migrations[0], ";\n"),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`,
		`INSERT INTO schema_migrations VALUES (1, 0)`,
		`INSERT INTO audit_events (time_ms, request_id, user_name, client, method, path, session_id, proxy_user, action, outcome, reason, status)
			VALUES (1, 'r1', 'alice', '', 'GET', '/token', '', 'alice', 'mint token', 'ok', 'token minted for alice', 200)`)
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	openAt := func() *SQL {
		s, err := OpenSQLite(context.Background(), path, Options{Log: quietLog()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := openAt()
	e := event("carol", "GET", "/token", "ok", time.Now())
	e.Subject, e.Note = "bob", "token minted for bob"
	s.Record(e)
	if err := s.Close(); err != nil { // drains the queue
		t.Fatal(err)
	}
	s = openAt()
	defer s.Close()
	events, total, err := s.Audit(context.Background(), AuditQuery{})
	if err != nil || total != 2 {
		t.Fatalf("%d events, %v", total, err)
	}
	if n, o := events[0], events[1]; n.Subject != "bob" || n.Note != "token minted for bob" || o.Reason != "token minted for alice" || o.Subject != "" {
		t.Errorf("after migrating: %+v", events)
	}
}

// Every connection of the SQLite store keeps a small page cache (256 KiB,
// not SQLite's 2 MiB), whichever connection the pool hands out.
func TestSQLiteConnectionsKeepASmallPageCache(t *testing.T) {
	s := open(t, sqliteBackend(), Options{Log: quietLog()})
	ctx := context.Background()
	var conns []*sql.Conn
	for i := 0; i < 3; i++ {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var pages int
		if err := c.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if pages != -256 {
			t.Errorf("connection %d: cache_size %d; want -256 (KiB)", i, pages)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}
