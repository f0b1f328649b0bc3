package auth

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/store"
)

// FailureStore keeps failed-login counts where every gateway replica sees
// them, so a guesser gets the lockout's number of tries in all, not per
// replica.
type FailureStore = store.LoginFailures

// storeTimeout bounds one question to the store: a store that hangs costs
// a login this long, then the in-memory counts stand in.
const storeTimeout = 2 * time.Second

// Share makes the lockout count in fs. While fs cannot answer, failures are
// counted in memory (per replica, as without a store) and the outage is
// logged once, as is the recovery; locks counted either way are honoured.
// Call it before the lockout is used.
func (l *Lockout) Share(fs FailureStore, log logrus.FieldLogger) {
	if l == nil {
		return
	}
	if log == nil {
		log = logrus.StandardLogger()
	}
	l.shared = &sharedCounts{store: fs, log: log}
}

// ShareLockout makes b's lockout count in fs (see Lockout.Share).
func (b *Basic) ShareLockout(fs FailureStore) { b.lockout.Share(fs, b.Log) }

// sharedCounts asks the store and notices when it stops answering. A nil
// *sharedCounts (no store) answers like a store that is down, so the
// in-memory tables count.
type sharedCounts struct {
	store    FailureStore
	log      logrus.FieldLogger
	down     atomic.Bool
	failures atomic.Uint64 // questions the store could not answer
}

// Keys in the store name their table, as the in-memory lockout keeps users
// and addresses apart.
func userKey(k string) string { return "user:" + k }
func addrKey(k string) string { return "addr:" + k }

func (c *sharedCounts) lockedUntil(user, addr string, now time.Time) time.Time {
	if c == nil {
		return time.Time{}
	}
	keys := []string{userKey(user)}
	if addr != "" {
		keys = append(keys, addrKey(addr))
	}
	var until time.Time
	c.do(func(ctx context.Context) (err error) {
		until, err = c.store.LoginLockedUntil(ctx, keys, now)
		return err
	})
	return until
}

// fail reports whether the store counted the failure.
func (c *sharedCounts) fail(key string, max int, window, lockFor time.Duration, now time.Time) bool {
	return c != nil && c.do(func(ctx context.Context) error {
		return c.store.AddLoginFailure(ctx, key, max, window, lockFor, now)
	})
}

func (c *sharedCounts) clear(now time.Time, users []string) {
	if c == nil {
		return
	}
	keys := make([]string, len(users))
	for i, u := range users {
		keys[i] = userKey(lockoutUserKey(u))
	}
	c.do(func(ctx context.Context) error { return c.store.ClearLoginFailures(ctx, keys, now) })
}

// do runs one store call and logs when the store goes down or comes back.
func (c *sharedCounts) do(call func(context.Context) error) bool {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	err := call(ctx)
	if err != nil {
		n := c.failures.Add(1)
		if c.down.CompareAndSwap(false, true) {
			c.log.WithError(err).WithField("store_failures", n).
				Error("auth: the store does not answer; failed logins are counted per replica until it does")
		}
		return false
	}
	if c.down.CompareAndSwap(true, false) {
		c.log.WithField("store_failures", c.failures.Load()).Warn("auth: the store answers again; failed logins are shared again")
	}
	return true
}
