//go:build integration

package store

import (
	"context"
	"sync"
	"testing"

	"github.com/livygate/livygate/gateway/store/pgtest"
)

// postgresBackend gives each test a database of its own on srv.
func postgresBackend(srv *pgtest.Server) backend {
	return backend{name: "postgres", fresh: func(t *testing.T) opener {
		dsn := srv.NewDatabase(t)
		return func(opts Options) (*SQL, error) { return OpenPostgres(context.Background(), dsn, opts) }
	}}
}

// TestPostgresConformance holds PostgreSQL to the same suite as SQLite, on
// a real server started for the test (Debian's postgresql).
func TestPostgresConformance(t *testing.T) {
	srv := pgtest.Start(t)
	b := postgresBackend(srv)
	runConformance(t, b)
	t.Run("ReplicasMigrateTogether", func(t *testing.T) { testReplicasMigrateTogether(t, b) })
}

// Replicas started at the same moment on an empty database: the advisory
// lock lets one migrate while the others wait, and none fails.
func testReplicasMigrateTogether(t *testing.T, b backend) {
	o := b.fresh(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := o(Options{Log: quietLog()})
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	s := reopen(t, o, Options{})
	var n int
	_ = s.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
	if n != len(migrations) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(migrations))
	}
}
