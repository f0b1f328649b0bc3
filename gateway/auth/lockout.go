package auth

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// defaultMaxLockoutKeys bounds each of the two tables (users, addresses).
// An entry costs well under 200 bytes, so both full stay below ~40 MB.
const defaultMaxLockoutKeys = 100_000

// Lockout counts failed logins per user and per client address. Once a key
// has MaxFailures failures within Window (a fixed window that opens at the
// key's first failure), it is locked for Duration: Check then answers a
// *LockedError until the lock runs out.
//
// Only the per-user counter is cleared by a successful login; the
// per-address one is not, so one valid account cannot be used to reset an
// address that is guessing passwords for others.
//
// Memory is bounded: expired entries are pruned as the tables grow, and each
// table holds at most a fixed number of keys.
//
// It is safe for concurrent use. A nil *Lockout never locks anything.
//
// The counts live in this process's memory, or, after Share, in a store
// every gateway replica shares (the tables then only stand in while the
// store cannot answer).
type Lockout struct {
	maxUser, maxAddr int
	window, duration time.Duration
	maxKeys          int

	mu    sync.Mutex
	users failureTable
	addrs failureTable

	shared *sharedCounts
}

type failures struct {
	count       int
	windowEnd   time.Time // the current window closes here
	lockedUntil time.Time
}

func (f *failures) dead(now time.Time) bool {
	return !now.Before(f.windowEnd) && !now.Before(f.lockedUntil)
}

type failureTable struct {
	m         map[string]*failures
	nextPrune int
}

// NewLockout builds the limiter from the configuration. It returns nil (no
// lockout) when MaxFailures is 0.
func NewLockout(cfg LockoutConfig) (*Lockout, error) {
	switch {
	case cfg.MaxFailures == 0:
		return nil, nil
	case cfg.MaxFailures < 0:
		return nil, errors.New("auth.lockout.max_failures must not be negative (0 disables the lockout)")
	case cfg.Window <= 0 || cfg.Duration <= 0:
		return nil, errors.New("auth.lockout.window and auth.lockout.duration must be positive when auth.lockout.max_failures is set")
	}
	if cfg.MaxFailuresPerAddress < 0 {
		return nil, errors.New("auth.lockout.max_failures_per_address must not be negative (0 turns the per-address limit off)")
	}
	return &Lockout{
		maxUser:  cfg.MaxFailures,
		maxAddr:  cfg.MaxFailuresPerAddress,
		window:   cfg.Window,
		duration: cfg.Duration,
		maxKeys:  defaultMaxLockoutKeys,
	}, nil
}

// Check reports whether the user or the address is locked at now.
func (l *Lockout) Check(user, addr string, now time.Time) *LockedError {
	if l == nil {
		return nil
	}
	until := l.shared.lockedUntil(lockoutUserKey(user), addr, now)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.users.m) > 0 {
		if f := l.users.m[lockoutUserKey(user)]; f != nil && now.Before(f.lockedUntil) && f.lockedUntil.After(until) {
			until = f.lockedUntil
		}
	}
	if len(l.addrs.m) > 0 {
		if f := l.addrs.m[addr]; f != nil && now.Before(f.lockedUntil) && f.lockedUntil.After(until) {
			until = f.lockedUntil
		}
	}
	if until.IsZero() {
		return nil
	}
	return &LockedError{RetryAfter: until.Sub(now)}
}

// Failure records a failed login for the user and the address.
func (l *Lockout) Failure(user, addr string, now time.Time) {
	if l == nil {
		return
	}
	userStored := l.shared.fail(userKey(lockoutUserKey(user)), l.maxUser, l.window, l.duration, now)
	addrStored := addr == "" || l.maxAddr <= 0 || l.shared.fail(addrKey(addr), l.maxAddr, l.window, l.duration, now)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !userStored {
		l.record(&l.users, lockoutUserKey(user), l.maxUser, now)
	}
	if !addrStored {
		l.record(&l.addrs, addr, l.maxAddr, now)
	}
}

// Success clears the failure count of each of the given user names (the
// name typed and the directory's canonical one). Address counts stay.
func (l *Lockout) Success(now time.Time, users ...string) {
	if l == nil {
		return
	}
	l.shared.clear(now, users)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, u := range users {
		k := lockoutUserKey(u)
		// A success can only follow a Check that found no lock, but keep a
		// lock set by a concurrent failure burst.
		if f := l.users.m[k]; f != nil && !now.Before(f.lockedUntil) {
			delete(l.users.m, k)
		}
	}
}

func (l *Lockout) record(t *failureTable, key string, max int, now time.Time) {
	f := t.m[key]
	if f == nil {
		l.makeRoom(t, now)
		f = &failures{}
		t.m[key] = f
	}
	if !now.Before(f.lockedUntil) && !now.Before(f.windowEnd) {
		f.count = 0
		f.windowEnd = now.Add(l.window)
	}
	f.count++
	if f.count >= max {
		f.lockedUntil = now.Add(l.duration)
		f.count = 0
		f.windowEnd = now
	}
}

// makeRoom prepares t for one more key: it prunes dead entries once the
// table has doubled since the last sweep (amortised O(1) per insert) and,
// if the table is still full, drops one entry, preferring one not locked.
func (l *Lockout) makeRoom(t *failureTable, now time.Time) {
	if t.m == nil {
		t.m = make(map[string]*failures)
	}
	if len(t.m) >= t.nextPrune || len(t.m) >= l.maxKeys {
		for k, f := range t.m {
			if f.dead(now) {
				delete(t.m, k)
			}
		}
		t.nextPrune = max(2*len(t.m), 1024)
	}
	if len(t.m) < l.maxKeys {
		return
	}
	victim, scanned := "", 0
	for k, f := range t.m { // map order is randomised
		if victim == "" || !now.Before(f.lockedUntil) {
			victim = k
		}
		if scanned++; !now.Before(f.lockedUntil) || scanned >= 64 {
			break
		}
	}
	delete(t.m, victim)
}

// len reports the number of keys held (for tests).
func (l *Lockout) len() (users, addrs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.users.m), len(l.addrs.m)
}

// lockoutUserKey folds a user name the way directories compare uids
// (caseIgnoreMatch: case and surrounding or repeated spaces do not count), so
// "Alice", "alice " and "ALICE" share one counter and cannot be used to
// multiply the number of guesses. It allocates only when it changes s.
func lockoutUserKey(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') || c == ' ' || c == '\t' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), unicode.IsSpace), " ")
}

// clientAddr is the lockout key of the request's client: the host part of
// RemoteAddr, and for IPv6 its /64, since one client usually holds a whole
// /64 and could otherwise rotate through it.
func clientAddr(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return host
	case ip.Is4():
		return host
	case ip.Is4In6():
		return ip.Unmap().String()
	}
	p, err := ip.WithZone("").Prefix(64)
	if err != nil {
		return host
	}
	return p.String()
}
