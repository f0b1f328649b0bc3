package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/clocktest"
)

// What replicas share: each test opens the database twice, as two
// gateways would, and checks that one sees what the other wrote.

func testUISessions(t *testing.T, b backend) {
	ctx := context.Background()
	c := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, other := b.replicas(t, Options{Now: c.Now})
	in := UISession{Identity: []byte(`{"User":"carol"}`), CSRF: "tok", Expires: c.Now().Add(time.Hour)}
	if err := a.PutUISession(ctx, "sid-1", in); err != nil {
		t.Fatal(err)
	}
	got, err := other.UISession(ctx, "sid-1")
	if err != nil || string(got.Identity) != string(in.Identity) || got.CSRF != "tok" || !got.Expires.Equal(in.Expires) {
		t.Fatalf("the other replica reads %+v, %v", got, err)
	}
	var stored string
	_ = a.db.QueryRow(`SELECT id_hash FROM ui_sessions`).Scan(&stored)
	if stored == "sid-1" || stored == "" {
		t.Errorf("the session id is stored as %q, want it hashed", stored)
	}
	if _, err := other.UISession(ctx, "sid-2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}

	c.Add(time.Hour) // expires exactly now
	if _, err := other.UISession(ctx, "sid-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session: %v", err)
	}
	if n := rowsAfterPrune(t, a, "ui_sessions"); n != 0 {
		t.Errorf("%d expired sessions left after Prune", n)
	}

	in.Expires = c.Now().Add(time.Hour)
	_ = a.PutUISession(ctx, "sid-3", in)
	if err := other.DeleteUISession(ctx, "sid-3"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UISession(ctx, "sid-3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after a logout on the other replica: %v", err)
	}
}

func testLoginFailures(t *testing.T, b backend) {
	ctx := context.Background()
	// Ahead of the real clock, which the stores' own pruning reads.
	t0 := time.Now().Add(24 * time.Hour).Truncate(time.Millisecond)
	o := b.fresh(t)
	a, other := reopen(t, o, Options{}), reopen(t, o, Options{})
	const max, window, lockFor = 3, time.Minute, 5 * time.Minute
	fail := func(s *SQL, key string, at time.Time) {
		t.Helper()
		if err := s.AddLoginFailure(ctx, key, max, window, lockFor, at); err != nil {
			t.Fatal(err)
		}
	}
	lockedUntil := func(at time.Time, keys ...string) time.Time {
		t.Helper()
		until, err := other.LoginLockedUntil(ctx, keys, at)
		if err != nil {
			t.Fatal(err)
		}
		return until
	}
	// Entry keys carry a NUL, which PostgreSQL text cannot.
	const alice = "\x00entry:uid=alice"

	fail(a, alice, t0)
	fail(other, alice, t0.Add(10*time.Second))
	if u := lockedUntil(t0.Add(20*time.Second), alice); !u.IsZero() {
		t.Fatalf("locked after 2 of 3 failures, until %v", u)
	}
	fail(a, alice, t0.Add(30*time.Second)) // the third, on either replica, locks
	want := t0.Add(30*time.Second + lockFor)
	if u := lockedUntil(t0.Add(31*time.Second), alice, "bob"); !u.Equal(want) {
		t.Fatalf("locked until %v, want %v", u, want)
	}
	if err := a.ClearLoginFailures(ctx, []string{alice}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if u := lockedUntil(t0.Add(time.Minute), alice); !u.Equal(want) {
		t.Errorf("a success during the lock cleared it (until %v)", u)
	}
	if u := lockedUntil(want, alice); !u.IsZero() {
		t.Errorf("still locked when the lock ends: %v", u)
	}

	// The window opens at the first failure and closes a minute later.
	t1 := want.Add(time.Hour)
	fail(a, "bob", t1)
	fail(a, "bob", t1.Add(30*time.Second))
	fail(a, "bob", t1.Add(61*time.Second)) // a new window: 1 of 3
	fail(a, "bob", t1.Add(62*time.Second))
	if u := lockedUntil(t1.Add(63*time.Second), "bob"); !u.IsZero() {
		t.Errorf("failures of an old window counted: locked until %v", u)
	}
	if err := a.ClearLoginFailures(ctx, []string{"bob"}, t1.Add(63*time.Second)); err != nil {
		t.Fatal(err)
	}
	fail(a, "bob", t1.Add(64*time.Second))
	fail(a, "bob", t1.Add(65*time.Second))
	if u := lockedUntil(t1.Add(66*time.Second), "bob"); !u.IsZero() {
		t.Errorf("a success did not clear the count: locked until %v", u)
	}

	// Replicas failing at the same moment all count: 20 at once lock a
	// key that allows 20, and the lock runs from then.
	t2 := t1.Add(time.Hour)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		s := []*SQL{a, other}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.AddLoginFailure(ctx, "carol", 20, window, lockFor, t2); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if u := lockedUntil(t2, "carol"); !u.Equal(t2.Add(lockFor)) {
		t.Errorf("20 concurrent failures of 20 allowed: locked until %v", u)
	}

	// One allowed failure locks at once; dead counts go at Prune.
	if err := a.AddLoginFailure(ctx, "dave", 1, window, lockFor, t2); err != nil {
		t.Fatal(err)
	}
	if u := lockedUntil(t2, "dave"); !u.Equal(t2.Add(lockFor)) {
		t.Errorf("max 1: locked until %v", u)
	}
	if u := lockedUntil(t2); !u.IsZero() {
		t.Errorf("no keys: %v", u)
	}
	later := reopen(t, o, Options{Now: func() time.Time { return t2.Add(time.Hour) }})
	if n := rowsAfterPrune(t, later, "login_failures"); n != 0 {
		t.Errorf("%d dead failure counts left after Prune", n)
	}
}

func testLeases(t *testing.T, b backend) {
	ctx := context.Background()
	c := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, other := b.replicas(t, Options{Now: c.Now})
	lease := func(op func(context.Context, string, string, time.Duration) (bool, error), holder string) bool {
		t.Helper()
		ok, err := op(ctx, "sync", holder, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	try := func(s *SQL, holder string) bool { t.Helper(); return lease(s.TryLease, holder) }
	renew := func(s *SQL, holder string) bool { t.Helper(); return lease(s.RenewLease, holder) }
	if !try(a, "A") || try(other, "B") {
		t.Fatal("the first taker must get the lease, the second not")
	}
	if !try(a, "A") {
		t.Error("the holder could not take its own lease again")
	}
	if ok, _ := other.TryLease(ctx, "reaper", "B", time.Minute); !ok {
		t.Error("another lease's name was blocked")
	}
	c.Add(50 * time.Second)
	if !renew(a, "A") || renew(other, "B") {
		t.Error("renew: the holder must succeed, another holder not")
	}
	c.Add(50 * time.Second) // 100 s: alive thanks to the renewal
	if try(other, "B") {
		t.Error("a renewed lease was taken over")
	}
	c.Add(time.Minute) // A stopped renewing: B takes over
	if !try(other, "B") {
		t.Fatal("an expired lease was not taken over")
	}
	if renew(a, "A") {
		t.Error("the old holder renewed a lease taken over")
	}
	if err := a.ReleaseLease(ctx, "sync", "A"); err != nil {
		t.Fatal(err)
	}
	if try(a, "A") {
		t.Error("the old holder's release freed the new holder's lease")
	}
	if err := other.ReleaseLease(ctx, "sync", "B"); err != nil {
		t.Fatal(err)
	}
	if !try(a, "A") {
		t.Error("a released lease could not be taken at once")
	}

	// Many replicas at once: exactly one wins.
	c.Add(time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 10; i++ {
		s := []*SQL{a, other}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.TryLease(ctx, "retention", string(rune('A'+i)), time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d replicas won the same lease", wins)
	}
}

// rowsAfterPrune applies retention and counts what is left in table.
func rowsAfterPrune(t *testing.T, s *SQL, table string) int {
	t.Helper()
	if err := s.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// testIDs: ids drawn by replicas sharing one database never repeat, and one
// incarnation mapped by two replicas at once gets one id.
func testIDs(t *testing.T, b backend) {
	ctx := context.Background()
	a, other := b.replicas(t, Options{})
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := []*SQL{a, other}[i%2].NewID(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[id] {
				t.Errorf("id %d drawn twice", id)
			}
			seen[id] = true
		}()
	}
	wg.Wait()

	first, _ := a.NewID(ctx)
	second, _ := other.NewID(ctx)
	alice := IDMapping{ID: first, Resource: "sessions", Backend: "emr-a", LivyID: 0, Owner: "alice", Name: "alice~etl"}
	got, err := a.MapID(ctx, alice)
	if err != nil || got.ID != first || got.Owner != "alice" {
		t.Fatalf("map: %+v %v", got, err)
	}
	again := alice
	again.ID = second
	if got, err := other.MapID(ctx, again); err != nil || got.ID != first {
		t.Errorf("the same incarnation mapped again: %+v %v, want id %d", got, err, first)
	}
	// Livy restarted from 0: bob's session 0 is another incarnation.
	bob := IDMapping{ID: second, Resource: "sessions", Backend: "emr-a", LivyID: 0, Owner: "bob", Name: "bob~~x"}
	if got, err := other.MapID(ctx, bob); err != nil || got.ID != second {
		t.Errorf("a new incarnation: %+v %v, want id %d", got, err, second)
	}
	if got, err := a.MappedID(ctx, first); err != nil || got.Owner != "alice" || got.Backend != "emr-a" {
		t.Errorf("MappedID(%d) = %+v %v", first, got, err)
	}
	if _, err := a.MappedID(ctx, 999999); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown id: %v", err)
	}
}
