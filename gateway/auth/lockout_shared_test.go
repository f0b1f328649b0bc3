package auth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/livygate/livygate/gateway/store"
)

// Two replicas sharing one store lock exactly when one gateway counting in
// memory would: the same random failures, successes and checks, spread over
// both replicas, get the same answers.
func TestSharedLockoutMatchesMemory(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "s.db"), store.Options{Log: quietStoreLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	memory := newTestLockout(t, 3)
	replicas := []*Lockout{newTestLockout(t, 3), newTestLockout(t, 3)}
	for _, r := range replicas {
		r.Share(st, nil)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	users := []string{"alice", "ALICE ", "bob", entryLockKey("uid=Bob,ou=people")}
	addrs := []string{"192.0.2.1", "192.0.2.2", ""}
	// Ahead of the real clock, which the store's own pruning reads.
	now := time.Now().Add(24 * time.Hour).Truncate(time.Millisecond)
	locked := 0
	for i := 0; i < 600; i++ {
		now = now.Add(time.Duration(rng.IntN(40)) * time.Second)
		r := replicas[rng.IntN(2)]
		u, a := users[rng.IntN(len(users))], addrs[rng.IntN(len(addrs))]
		switch rng.IntN(3) {
		case 0:
			memory.Failure(u, a, now)
			r.Failure(u, a, now)
		case 1:
			memory.Success(now, u)
			r.Success(now, u)
		}
		want := memory.Check(u, a, now)
		got := r.Check(u, a, now)
		if want != nil {
			locked++
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("step %d (%q, %q): the replica says %v, one gateway %v", i, u, a, got, want)
		}
	}
	if locked < 50 || locked > 550 {
		t.Errorf("%d of 600 checks locked: the sequence tests too little", locked)
	}
	if users, addrs := replicas[0].len(); users+addrs != 0 {
		t.Errorf("a replica counted in memory while the store answered: %d users, %d addresses", users, addrs)
	}
}

func quietStoreLog() logrus.FieldLogger {
	l, _ := test.NewNullLogger()
	return l
}

type downStore struct{ err error }

func (d *downStore) AddLoginFailure(context.Context, string, int, time.Duration, time.Duration, time.Time) error {
	return d.err
}
func (d *downStore) LoginLockedUntil(context.Context, []string, time.Time) (time.Time, error) {
	return time.Time{}, d.err
}
func (d *downStore) ClearLoginFailures(context.Context, []string, time.Time) error { return d.err }

// A store that does not answer leaves the lockout counting in memory, says
// so once, and says so again when the store is back.
func TestSharedLockoutStoreDown(t *testing.T) {
	log, hook := test.NewNullLogger()
	fs := &downStore{err: errors.New("connection refused")}
	l := newTestLockout(t, 3)
	l.Share(fs, log)
	t0 := time.Unix(1_700_000_000, 0)
	for i := 0; i < 3; i++ {
		l.Failure("alice", "192.0.2.1", t0)
	}
	if l.Check("alice", "", t0) == nil {
		t.Fatal("with the store down, three failures did not lock")
	}
	if n := len(hook.AllEntries()); n != 1 {
		t.Errorf("%d log lines for one outage, want 1", n)
	}
	fs.err = nil
	if l.Check("alice", "", t0) == nil {
		t.Error("a lock counted during the outage was forgotten when the store came back")
	}
	if e := hook.LastEntry(); len(hook.AllEntries()) != 2 || e.Level != logrus.WarnLevel {
		t.Errorf("recovery not logged: %v", hook.AllEntries())
	}
}
