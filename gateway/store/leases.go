package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
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

// NewHolder names this process as a lease holder: host name, pid and a
// random part, so two processes (even a restarted one with a recycled pid)
// never share a name.
func NewHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	var b [6]byte
	rand.Read(b[:]) // never fails: since Go 1.24 it crashes the program instead
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Singleton runs a job on at most one replica at a time, under the lease
// Name. The holder keeps the lease from one run to the next (each Do
// extends it), so with several replicas the job runs once per interval, on
// the same replica, until that replica stops: then the lease expires after
// TTL and the next replica to try takes it over. TTL should be a few of the
// job's intervals. A nil *Singleton (no store) always runs the job.
//
// When the store cannot answer, a holder whose lease has not yet run out by
// its own clock goes on running the job (nobody else can take the lease
// meanwhile); a replica that did not hold it does not start.
type Singleton struct {
	Leases Leases
	Name   string
	Holder string
	TTL    time.Duration
	Log    logrus.FieldLogger

	mu      sync.Mutex
	held    bool
	expires time.Time // by this replica's clock, as of the last take or renewal
	now     func() time.Time
}

// NewSingleton is a Singleton for the job name, held as holder.
func NewSingleton(l Leases, name, holder string, ttl time.Duration, log logrus.FieldLogger) *Singleton {
	if log == nil {
		log = logrus.StandardLogger()
	}
	return &Singleton{Leases: l, Name: name, Holder: holder, TTL: ttl, Log: log}
}

func (s *Singleton) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// Do runs job when this replica holds the lease or can take it, and
// reports whether it ran. While job runs the lease is renewed every TTL/3;
// if it is lost meanwhile, job's context is cancelled.
func (s *Singleton) Do(ctx context.Context, job func(context.Context)) bool {
	if s == nil {
		job(ctx)
		return true
	}
	if !s.take(ctx) {
		return false
	}
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(max(s.TTL/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-jctx.Done():
				return
			case <-t.C:
				if !s.renew(jctx) {
					cancel()
					return
				}
			}
		}
	}()
	job(jctx)
	close(done)
	wg.Wait()
	return true
}

// Held reports whether this replica held the lease at its last take or
// renewal.
func (s *Singleton) Held() bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

func (s *Singleton) take(ctx context.Context) bool {
	cctx, cancel := context.WithTimeout(ctx, leaseCallTimeout)
	defer cancel()
	now := s.clock()
	ok, err := s.Leases.TryLease(cctx, s.Name, s.Holder, s.TTL)
	return s.settle(ok, err, now, "taking")
}

func (s *Singleton) renew(ctx context.Context) bool {
	cctx, cancel := context.WithTimeout(ctx, leaseCallTimeout)
	defer cancel()
	now := s.clock()
	ok, err := s.Leases.RenewLease(cctx, s.Name, s.Holder, s.TTL)
	if ctx.Err() != nil {
		return true // the job ended meanwhile; nothing was lost
	}
	return s.settle(ok, err, now, "renewing")
}

// settle records the answer of a take or renewal and logs each change of
// hands.
func (s *Singleton) settle(ok bool, err error, now time.Time, doing string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	log := s.Log.WithFields(logrus.Fields{"lease": s.Name, "holder": s.Holder})
	if err != nil {
		if s.held && now.Before(s.expires) {
			log.WithError(err).Warn("lease: the store does not answer; keeping the lease until it would expire")
			return true
		}
		if s.held {
			log.WithError(err).Warn("lease: lost (the store does not answer and the lease has run out)")
		} else {
			log.WithError(err).Debug("lease: the store does not answer; not running the job")
		}
		s.held = false
		return false
	}
	switch {
	case ok && !s.held:
		log.WithField("ttl", s.TTL.String()).Info("lease: taken; this replica runs the job")
	case !ok && s.held:
		log.Warnf("lease: lost while %s it; another replica runs the job", doing)
	}
	s.held = ok
	if ok {
		s.expires = now.Add(s.TTL)
	}
	return ok
}

// Release gives the lease up, so another replica need not wait for it to
// expire (on shutdown).
func (s *Singleton) Release(ctx context.Context) {
	if s == nil {
		return
	}
	s.mu.Lock()
	held := s.held
	s.held = false
	s.mu.Unlock()
	if !held {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, leaseCallTimeout)
	defer cancel()
	log := s.Log.WithFields(logrus.Fields{"lease": s.Name, "holder": s.Holder})
	if err := s.Leases.ReleaseLease(cctx, s.Name, s.Holder); err != nil {
		log.WithError(err).Warn("lease: releasing failed; it expires by itself")
		return
	}
	log.Info("lease: released")
}

// leaseCallTimeout bounds one lease question to the store.
const leaseCallTimeout = 5 * time.Second
