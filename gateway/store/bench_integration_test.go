//go:build integration

package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/store/pgtest"
)

// BenchmarkStore compares SQLite and PostgreSQL in one run: audit events
// written per second through Record's queue and writer, and the lockout's
// round trips (the check made before every uncached login, and counting a
// failure). PostgreSQL runs on loopback with its durable defaults (fsync
// and synchronous commit on); SQLite as the gateway opens it (WAL,
// synchronous=NORMAL). `make bench` (part store) prints the ratios.
func BenchmarkStore(b *testing.B) {
	srv := pgtest.Start(b, pgtest.Durable())
	backends := []struct {
		name string
		open func(b *testing.B, opts Options) *SQL
	}{
		{"sqlite", func(b *testing.B, opts Options) *SQL {
			return benchOpen(b, func() (*SQL, error) {
				return OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "bench.db"), opts)
			})
		}},
		{"postgres", func(b *testing.B, opts Options) *SQL {
			dsn := srv.NewDatabase(b)
			return benchOpen(b, func() (*SQL, error) { return OpenPostgres(context.Background(), dsn, opts) })
		}},
	}
	for _, be := range backends {
		b.Run("Record/"+be.name, func(b *testing.B) {
			s := be.open(b, Options{QueueSize: max(b.N, 1024), Log: quietLog()})
			at := time.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.Record(event(fmt.Sprint("user", i%1000), "POST", "/sessions", "ok", at))
			}
			for s.Stats().Written+s.Stats().Dropped < uint64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			if st := s.Stats(); st.Dropped != 0 {
				b.Fatalf("dropped %d of %d", st.Dropped, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
	ctx := context.Background()
	now := time.Now()
	for _, be := range backends {
		b.Run("LockoutCheck/"+be.name, func(b *testing.B) {
			s := be.open(b, Options{Log: quietLog()})
			for i := 0; i < 1000; i++ { // a table with some counts in it
				_ = s.AddLoginFailure(ctx, fmt.Sprint("user:u", i), 5, time.Minute, time.Minute, now)
			}
			keys := []string{"user:u7", "addr:192.0.2.1"}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.LoginLockedUntil(ctx, keys, now); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("LoginFailure/"+be.name, func(b *testing.B) {
			s := be.open(b, Options{Log: quietLog()})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.AddLoginFailure(ctx, fmt.Sprint("user:u", i%1000), 5, time.Minute, time.Minute, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchOpen(b *testing.B, open func() (*SQL, error)) *SQL {
	b.Helper()
	s, err := open()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
