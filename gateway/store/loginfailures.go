package store

import (
	"context"
	"time"
)

// LoginFailures counts failed logins per key where every replica sees them,
// so a guesser gets the same number of tries however many gateways there
// are. Times come from the caller, whose clock drives its lockout.
type LoginFailures interface {
	// AddLoginFailure counts one failure of key at now. The window opens at
	// the first failure; the max-th failure within it locks key for lockFor
	// and starts counting afresh.
	AddLoginFailure(ctx context.Context, key string, max int, window, lockFor time.Duration, now time.Time) error
	// LoginLockedUntil is the latest end of a lock held at now by any of
	// keys; zero when none is locked.
	LoginLockedUntil(ctx context.Context, keys []string, now time.Time) (time.Time, error)
	// ClearLoginFailures forgets the counts of those keys not locked at now.
	ClearLoginFailures(ctx context.Context, keys []string, now time.Time) error
}

// addFailure is one statement, so that replicas failing the same key at the
// same moment both count. It follows auth.Lockout's in-memory rules: a key
// whose window and lock have both run out starts a new window; reaching max
// locks it and closes the window. Columns on the right of SET are the row's
// old values. ?1 key, ?2–?4 a new row, ?5 max, ?6 now, ?7 the window's end,
// ?8 the lock's end.
const addFailure = `INSERT INTO login_failures (key_hash, failures, window_end_ms, locked_until_ms) VALUES (?1, ?2, ?3, ?4)
	ON CONFLICT (key_hash) DO UPDATE SET
	failures = CASE WHEN ` + failuresAfter + ` >= ?5 THEN 0 ELSE ` + failuresAfter + ` END,
	window_end_ms = CASE WHEN ` + failuresAfter + ` >= ?5 THEN ?6 WHEN ` + windowOver + ` THEN ?7 ELSE login_failures.window_end_ms END,
	locked_until_ms = CASE WHEN ` + failuresAfter + ` >= ?5 THEN ?8 ELSE login_failures.locked_until_ms END`

const (
	windowOver    = `(?6 >= login_failures.window_end_ms AND ?6 >= login_failures.locked_until_ms)`
	failuresAfter = `(CASE WHEN ` + windowOver + ` THEN 1 ELSE login_failures.failures + 1 END)`
)

// AddLoginFailure implements LoginFailures.
func (s *SQL) AddLoginFailure(ctx context.Context, key string, max int, window, lockFor time.Duration, now time.Time) error {
	n, windowEnd, lockEnd := now.UnixMilli(), now.Add(window).UnixMilli(), now.Add(lockFor).UnixMilli()
	// A first failure: one counted, or a lock at once when max is 1.
	failures, newWindowEnd, newLockEnd := 1, windowEnd, int64(0)
	if max <= 1 {
		failures, newWindowEnd, newLockEnd = 0, n, lockEnd
	}
	_, err := s.db.ExecContext(ctx, s.dialect.q(addFailure), hashKey(key), failures, newWindowEnd, newLockEnd, max, n, windowEnd, lockEnd)
	return err
}

// LoginLockedUntil implements LoginFailures.
func (s *SQL) LoginLockedUntil(ctx context.Context, keys []string, now time.Time) (time.Time, error) {
	var until int64
	if len(keys) == 0 {
		return time.Time{}, nil
	}
	err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT COALESCE(MAX(locked_until_ms), 0) FROM login_failures
		WHERE locked_until_ms > ? AND key_hash IN (`+placeholders(len(keys))+`)`), args([]any{now.UnixMilli()}, hashKeys(keys))...).Scan(&until)
	if err != nil || until == 0 {
		return time.Time{}, err
	}
	return time.UnixMilli(until), nil
}

// ClearLoginFailures implements LoginFailures.
func (s *SQL) ClearLoginFailures(ctx context.Context, keys []string, now time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := s.db.ExecContext(ctx, s.dialect.q(`DELETE FROM login_failures WHERE locked_until_ms <= ? AND key_hash IN (`+placeholders(len(keys))+`)`),
		args([]any{now.UnixMilli()}, hashKeys(keys))...)
	return err
}

func hashKeys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = hashKey(k)
	}
	return out
}
