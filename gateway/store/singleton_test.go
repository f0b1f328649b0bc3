package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/livygate/livygate/gateway/clocktest"
)

// Two replicas on one database, each with its own Singleton for the same
// job: one runs it at every tick, the other never, until the holder dies
// (its lease expires) or hands the lease over.
func testSingletons(t *testing.T, b backend) {
	ctx := context.Background()
	c := clocktest.New(time.Now().Add(48 * time.Hour).Truncate(time.Millisecond))
	sa, sb := b.replicas(t, Options{Now: c.Now})
	logA, hookA := logtest.NewNullLogger()
	logB, hookB := logtest.NewNullLogger()
	const ttl = time.Minute
	a := NewSingleton(sa, "sync", "replica-a", ttl, logA)
	bb := NewSingleton(sb, "sync", "replica-b", ttl, logB)
	a.now, bb.now = c.Now, c.Now

	var runsA, runsB int
	tick := func() {
		a.Do(ctx, func(context.Context) { runsA++ })
		bb.Do(ctx, func(context.Context) { runsB++ })
		c.Add(ttl / 2) // the interval: ttl is two of them
	}
	for i := 0; i < 5; i++ {
		tick()
	}
	if runsA != 5 || runsB != 0 {
		t.Fatalf("5 intervals ran the job %d times on A and %d on B, want 5 and 0", runsA, runsB)
	}
	if !hasLog(hookA, "lease: taken") || hasLog(hookB, "lease: taken") {
		t.Errorf("A should log taking the lease, B nothing: A %v, B %v", messages(hookA), messages(hookB))
	}

	// A dies: it stops trying. B takes over once A's lease has expired,
	// not before.
	bb.Do(ctx, func(context.Context) { runsB++ })
	if runsB != 0 {
		t.Fatal("B ran while A's lease was still valid")
	}
	c.Add(ttl)
	bb.Do(ctx, func(context.Context) { runsB++ })
	if runsB != 1 || !hasLog(hookB, "lease: taken") {
		t.Fatalf("B did not take over after A's lease expired (runs %d, logs %v)", runsB, messages(hookB))
	}
	// A comes back: B holds it now, and A logs that it lost it.
	if a.Do(ctx, func(context.Context) { runsA++ }) || runsA != 5 {
		t.Fatal("A ran again although B holds the lease")
	}
	if !hasLog(hookA, "lease: lost") {
		t.Errorf("A did not log losing the lease: %v", messages(hookA))
	}

	// A graceful stop hands over at once.
	bb.Release(ctx)
	if !a.Do(ctx, func(context.Context) { runsA++ }) {
		t.Fatal("A could not take the lease B released")
	}
}

// Ticks at the same moment on both replicas, many times over: never both.
func testSingletonsRace(t *testing.T, b backend) {
	sa, sb := b.replicas(t, Options{})
	one := NewSingleton(sa, "reaper", "replica-a", time.Minute, quietLog())
	two := NewSingleton(sb, "reaper", "replica-b", time.Minute, quietLog())
	var ran [2]atomic.Int32
	for i := 0; i < 20; i++ {
		var wg sync.WaitGroup
		for j, s := range []*Singleton{one, two} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.Do(context.Background(), func(context.Context) { ran[j].Add(1) })
			}()
		}
		wg.Wait()
	}
	if a, b := ran[0].Load(), ran[1].Load(); a+b != 20 || (a != 0 && b != 0) {
		t.Errorf("20 simultaneous ticks ran the job %d times on one replica and %d on the other; want 20 on exactly one", a, b)
	}
}

func hasLog(h *logtest.Hook, prefix string) bool {
	for _, e := range h.AllEntries() {
		if strings.HasPrefix(e.Message, prefix) {
			return true
		}
	}
	return false
}

func messages(h *logtest.Hook) []string {
	var out []string
	for _, e := range h.AllEntries() {
		out = append(out, e.Message)
	}
	return out
}

// fakeLeases answers as told.
type fakeLeases struct {
	mu       sync.Mutex
	take     bool
	renew    bool
	err      error
	renewals int
}

func (f *fakeLeases) TryLease(context.Context, string, string, time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.take, f.err
}

func (f *fakeLeases) RenewLease(context.Context, string, string, time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.renewals++
	return f.renew, f.err
}

func (f *fakeLeases) ReleaseLease(context.Context, string, string) error { return nil }

// A job longer than the lease's ttl renews it while it runs; a job whose
// lease is lost meanwhile has its context cancelled.
func TestSingletonRenewsWhileRunningAndStopsWhenLost(t *testing.T) {
	f := &fakeLeases{take: true, renew: true}
	s := NewSingleton(f, "sync", "me", 30*time.Millisecond, quietLog())
	s.Do(context.Background(), func(ctx context.Context) {
		select {
		case <-ctx.Done():
			t.Error("the job was cancelled although its lease was renewed")
		case <-time.After(100 * time.Millisecond):
		}
	})
	if f.renewals < 2 {
		t.Errorf("%d renewals during a job of three ttls, want at least 2", f.renewals)
	}

	f.renew = false
	log, hook := logtest.NewNullLogger()
	s.Log = log
	done := make(chan struct{})
	s.Do(context.Background(), func(ctx context.Context) {
		select {
		case <-ctx.Done():
			close(done)
		case <-time.After(5 * time.Second):
		}
	})
	select {
	case <-done:
	default:
		t.Fatal("the job went on after its lease was lost")
	}
	if !hasLog(hook, "lease: lost") || s.Held() {
		t.Errorf("losing the lease is not logged or still held: %v", messages(hook))
	}
}

// The store down: the holder goes on until its lease would have expired,
// and a replica that did not hold it does not start.
func TestSingletonStoreDown(t *testing.T) {
	c := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := &fakeLeases{take: true, renew: true}
	holder := NewSingleton(f, "sync", "a", time.Minute, quietLog())
	other := NewSingleton(f, "sync", "b", time.Minute, quietLog())
	holder.now, other.now = c.Now, c.Now
	run := func(context.Context) {}
	if !holder.Do(context.Background(), run) {
		t.Fatal("no lease")
	}
	f.err = errors.New("connection refused")
	c.Add(30 * time.Second)
	if !holder.Do(context.Background(), run) {
		t.Error("the holder stopped at once when the store went down")
	}
	if other.Do(context.Background(), run) {
		t.Error("a replica without the lease ran while the store was down")
	}
	c.Add(31 * time.Second)
	if holder.Do(context.Background(), run) {
		t.Error("the holder still runs after its lease would have expired")
	}
	f.err = nil
	if !holder.Do(context.Background(), run) {
		t.Error("the store is back and the lease free, but the job does not run")
	}
}

// Without a store a nil Singleton runs every time.
func TestNilSingletonRuns(t *testing.T) {
	var s *Singleton
	n := 0
	s.Do(context.Background(), func(context.Context) { n++ })
	s.Release(context.Background())
	if n != 1 || !s.Held() {
		t.Error("a nil Singleton must run the job")
	}
}

func TestNewHolder(t *testing.T) {
	a, b := NewHolder(), NewHolder()
	if a == b || !strings.Contains(a, "-") {
		t.Errorf("holders %q and %q", a, b)
	}
}

// While the database refuses writes, the failures are counted and logged
// once per report interval, not once per batch; the recovery is logged.
func TestWriteFailuresLoggedOncePerIntervalAndRecovery(t *testing.T) {
	c := clocktest.New(time.Now())
	log, hook := logtest.NewNullLogger()
	s := open(t, sqliteBackend(), Options{Now: c.Now, Log: log, ReportEvery: time.Hour})
	if _, err := s.db.Exec(`ALTER TABLE audit_events RENAME TO audit_events_away`); err != nil {
		t.Fatal(err)
	}
	record := func(n int) {
		t.Helper()
		want := s.Stats().Written + s.Stats().Dropped + 1
		s.Record(event("alice", "POST", "/sessions", "ok", c.Now()))
		deadline := time.Now().Add(5 * time.Second)
		for s.Stats().Written+s.Stats().Dropped < want {
			if time.Now().After(deadline) {
				t.Fatalf("event %d neither written nor dropped", n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	failures := func() int {
		n := 0
		for _, e := range hook.AllEntries() {
			if strings.HasPrefix(e.Message, "store: writing audit events failed") {
				n++
			}
		}
		return n
	}
	for i := 0; i < 5; i++ {
		record(i)
	}
	if st := s.Stats(); st.Dropped != 5 || failures() != 1 {
		t.Fatalf("5 failed writes: %+v, %d log lines; want 5 dropped, 1 line", st, failures())
	}
	c.Add(time.Hour)
	record(5)
	if failures() != 2 {
		t.Errorf("a failure an interval later: %d lines, want 2", failures())
	}
	if _, err := s.db.Exec(`ALTER TABLE audit_events_away RENAME TO audit_events`); err != nil {
		t.Fatal(err)
	}
	record(6)
	if st := s.Stats(); st.Written != 1 || !hasLog(hook, "store: writing audit events again") {
		t.Errorf("after recovery: %+v, logs %v", st, messages(hook))
	}
}
