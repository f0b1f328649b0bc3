package store

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/audit"
)

func quietLog() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// backend is a database the conformance suite runs against.
type backend struct {
	name string
	// fresh makes a new, empty database and returns what opens it; tests
	// open it more than once to see what a re-open keeps.
	fresh func(t *testing.T) opener
}

type opener func(opts Options) (*SQL, error)

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
	return audit.Event{Time: at, RequestID: "r", User: user, ClientAddr: "127.0.0.1", Method: method, Path: path, Outcome: outcome, Status: 200}
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
