package store

import (
	"context"
	"time"
)

// Leases let exactly one replica run a singleton job (the sync timer,
// retention) at a time. A lease is a row with an expiry rather than a
// PostgreSQL advisory lock: it belongs to no connection, so it survives the
// pool renewing connections, works the same on SQLite, and passes to
// another replica by itself when its holder stops renewing. Expiry is read
// on the replicas' clocks, which must agree to well within a lease's ttl.
type Leases interface {
	// TryLease takes the named lease for holder for ttl when it is free,
	// expired or already holder's (then it is extended); false when another
	// holder has it.
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// RenewLease extends holder's lease by ttl from now; false when holder
	// no longer has it (it expired, or another holder took it over).
	RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives up holder's lease at once, so another replica need
	// not wait for it to expire.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// TryLease implements Leases. One upsert: when two replicas try at once,
// the database lets exactly one of them change the row.
func (s *SQL) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := s.opts.Now()
	return s.changedOne(ctx, `INSERT INTO leases (name, holder, expires_ms) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
		WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?`,
		name, holder, now.Add(ttl).UnixMilli(), now.UnixMilli())
}

// RenewLease implements Leases.
func (s *SQL) RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := s.opts.Now()
	return s.changedOne(ctx, `UPDATE leases SET expires_ms = ? WHERE name = ? AND holder = ? AND expires_ms > ?`,
		now.Add(ttl).UnixMilli(), name, holder, now.UnixMilli())
}

// ReleaseLease implements Leases.
func (s *SQL) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.db.ExecContext(ctx, s.dialect.q(`DELETE FROM leases WHERE name = ? AND holder = ?`), name, holder)
	return err
}

// changedOne runs a statement and reports whether it changed a row.
func (s *SQL) changedOne(ctx context.Context, query string, a ...any) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.dialect.q(query), a...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
