package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/clocktest"
	"github.com/livygate/livygate/gateway/provision"
	"github.com/livygate/livygate/hdfs"
)

// runConformance runs every behaviour the Store promises against b, so
// that SQLite and PostgreSQL are held to the same tests.
func runConformance(t *testing.T, b backend) {
	for _, c := range []struct {
		name string
		test func(*testing.T, backend)
	}{
		{"MigrationsIdempotent", testMigrationsIdempotent},
		{"NewerSchemaRefused", testNewerSchemaRefused},
		{"AuditFiltersAndPaging", testAuditFiltersAndPaging},
		{"RetentionByAgeAndCount", testRetentionByAgeAndCount},
		{"QueueFullDropsAndNeverBlocks", testQueueFullDropsAndNeverBlocks},
		{"CloseDrains", testCloseDrains},
		{"SaveRunAndHomes", testSaveRunAndHomes},
		{"CreatedAt", testCreatedAt},
		{"AnonymousEventsDisplaceNothing", testAnonymousEventsDisplaceNothing},
		{"UISessions", testUISessions},
		{"LoginFailures", testLoginFailures},
		{"Leases", testLeases},
		{"IDs", testIDs},
		{"Singletons", testSingletons},
		{"SingletonsRace", testSingletonsRace},
		{"WarmSessions", testWarmSessions},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, b) })
	}
}

func testMigrationsIdempotent(t *testing.T, b backend) {
	o := b.fresh(t)
	for i := 0; i < 3; i++ {
		s, err := o(Options{Log: quietLog()})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		v, err := s.SchemaVersion(context.Background())
		if err != nil || v != len(migrations) {
			t.Fatalf("open %d: version %d, %v", i, v, err)
		}
		s.Record(event("alice", "POST", "/batches", "ok", time.Now()))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s := reopen(t, o, Options{})
	_, total, err := s.Audit(context.Background(), AuditQuery{})
	if err != nil || total != 3 {
		t.Fatalf("events kept across re-opens: %d, %v", total, err)
	}
	var n int
	_ = s.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
	if n != len(migrations) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(migrations))
	}
}

func testNewerSchemaRefused(t *testing.T, b backend) {
	o := b.fresh(t)
	s := reopen(t, o, Options{})
	_, _ = s.db.Exec(`INSERT INTO schema_migrations VALUES (99, 0)`)
	s.Close()
	if _, err := o(Options{Log: quietLog()}); err == nil {
		t.Fatal("a database from a newer livygate opened")
	}
}

func testAuditFiltersAndPaging(t *testing.T, b backend) {
	s := open(t, b, Options{})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	for i := 0; i < 30; i++ {
		user := []string{"alice", "bob", "carol"}[i%3]
		outcome := "ok"
		if i%5 == 0 {
			outcome = "refused"
		}
		s.Record(event(user, "POST", "/batches", outcome, base.Add(time.Duration(i)*time.Minute)))
		n++
	}
	s.Record(event("alice", "DELETE", "/batches/3", "ok", base.Add(time.Hour)))
	n++
	flush(t, s, uint64(n))
	ctx := context.Background()
	cases := []struct {
		q     AuditQuery
		total int
	}{
		{AuditQuery{}, 31},
		{AuditQuery{User: "alice"}, 11},
		{AuditQuery{Action: "delete batch"}, 1},
		{AuditQuery{Action: "create batch", Outcome: "refused"}, 6},
		{AuditQuery{From: base.Add(10 * time.Minute), To: base.Add(20 * time.Minute)}, 10},
		{AuditQuery{User: "nobody"}, 0},
	}
	for _, c := range cases {
		got, total, err := s.Audit(ctx, c.q)
		if err != nil || total != c.total || len(got) != min(c.total, 100) {
			t.Errorf("%+v: total %d, %d rows, %v; want %d", c.q, total, len(got), err, c.total)
		}
	}
	page, total, _ := s.Audit(ctx, AuditQuery{Limit: 10, Offset: 10})
	if total != 31 || len(page) != 10 || !page[0].Time.Equal(base.Add(20*time.Minute)) {
		t.Errorf("page 2: total %d, %d rows, first %v", total, len(page), page[0].Time)
	}
	last, _ := s.LastActivity(ctx, []string{"alice", "bob", "nobody"})
	if !last["alice"].Equal(base.Add(time.Hour)) || !last["bob"].Equal(base.Add(28*time.Minute)) || len(last) != 2 {
		t.Errorf("last activity: %v", last)
	}
}

func testRetentionByAgeAndCount(t *testing.T, b backend) {
	c := clocktest.New(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC))
	s := open(t, b, Options{MaxAge: 48 * time.Hour, MaxEvents: 5, MaxRuns: 2, Now: c.Now})
	ctx := context.Background()
	for i := 0; i < 10; i++ { // 10 old events: 9..0 days ago
		s.Record(event("u", "POST", "/batches", "ok", c.Now().Add(-time.Duration(i)*24*time.Hour)))
	}
	flush(t, s, 10)
	if err := s.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	_, total, _ := s.Audit(ctx, AuditQuery{})
	if total != 3 { // today, 1 and 2 days ago (the cutoff is inclusive)
		t.Errorf("after age retention: %d events, want 3", total)
	}
	for i := 0; i < 10; i++ {
		s.Record(event("u", "POST", "/batches", "ok", c.Now()))
	}
	flush(t, s, 20)
	_ = s.Prune(ctx)
	got, total, _ := s.Audit(ctx, AuditQuery{})
	if total != 5 || got[0].ID != 20 {
		t.Errorf("after count retention: %d events (newest id %d), want the newest 5", total, got[0].ID)
	}
	for i := 0; i < 4; i++ {
		if _, err := s.SaveRun(ctx, &provision.Run{Started: c.Now(), Finished: c.Now()}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Prune(ctx)
	runs, _ := s.Runs(ctx, 10, 0)
	if len(runs) != 2 {
		t.Errorf("runs kept: %d, want 2", len(runs))
	}
	c.Add(72 * time.Hour)
	_ = s.Prune(ctx)
	runs, _ = s.Runs(ctx, 10, 0)
	if len(runs) != 0 {
		t.Errorf("old runs kept: %d", len(runs))
	}
}

func testQueueFullDropsAndNeverBlocks(t *testing.T, b backend) {
	log, hook := test.NewNullLogger()
	s := open(t, b, Options{QueueSize: 4, ReportEvery: 20 * time.Millisecond, Log: log})
	release := stickWriter(s, event("u", "POST", "/batches", "ok", time.Now()))
	start := time.Now()
	for i := 0; i < 100; i++ {
		s.Record(event("u", "POST", "/batches", "ok", time.Now()))
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Record blocked for %s with a stuck writer", d)
	}
	if st := s.Stats(); st.Dropped != 96 || st.Queued != 4 {
		t.Fatalf("stats with a stuck writer: %+v, want 96 dropped, 4 queued", st)
	}
	close(release)
	flush(t, s, 101)
	time.Sleep(100 * time.Millisecond)
	warned := 0
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.WarnLevel {
			warned++
			if e.Data["dropped"] != uint64(96) {
				t.Errorf("drop report: %v", e.Data)
			}
		}
	}
	if warned != 1 {
		t.Errorf("%d drop warnings, want exactly 1 for one interval", warned)
	}
	_, total, _ := s.Audit(context.Background(), AuditQuery{})
	if total != 5 {
		t.Errorf("%d events stored, want 5", total)
	}
}

func testCloseDrains(t *testing.T, b backend) {
	o := b.fresh(t)
	s := reopen(t, o, Options{QueueSize: 5000})
	for i := 0; i < 3000; i++ {
		s.Record(event(fmt.Sprint("u", i), "POST", "/batches", "ok", time.Now()))
	}
	s.RecordMint(MintRecord{JTI: "j1", User: "alice", Kid: "k1", IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
	if err := s.Close(); err != nil { // the cleanup's second Close is a no-op
		t.Fatal(err)
	}
	if st := s.Stats(); st.Dropped != 0 {
		t.Fatalf("dropped %d", st.Dropped)
	}
	s = reopen(t, o, Options{})
	_, total, _ := s.Audit(context.Background(), AuditQuery{})
	mints, _ := s.Mints(context.Background(), 10)
	if total != 3000 || len(mints) != 1 || mints[0].Kid != "k1" {
		t.Errorf("after Close: %d events, mints %+v", total, mints)
	}
}

func testSaveRunAndHomes(t *testing.T, b backend) {
	s := open(t, b, Options{})
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run := &provision.Run{Started: t0, Finished: t0.Add(time.Second), Users: 4,
		Summary: map[hdfs.Action]int{hdfs.ActionCreated: 1, hdfs.ActionDrift: 1, hdfs.ActionRefused: 1, hdfs.ActionUnchanged: 1},
		Results: []hdfs.Result{
			{User: "alice", Path: "/user/alice", Action: hdfs.ActionCreated},
			{User: "bob", Path: "/user/bob", Action: hdfs.ActionDrift, Detail: "mode 0777, want 0750"},
			{User: "Bad Name", Action: hdfs.ActionRefused, Detail: "not a safe name"},
			{User: "carol", Path: "/user/carol", Action: hdfs.ActionUnchanged},
		}, Orphans: []string{"/user/old"}}
	id, err := s.SaveRun(ctx, run, "timer")
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Run(ctx, id)
	if err != nil || len(d.Results) != 4 || d.Summary["drift"] != 1 || d.Trigger != "timer" || d.Orphans[0] != "/user/old" {
		t.Fatalf("run back: %+v, %v", d, err)
	}
	if _, err := s.Run(ctx, id+100); err != ErrNotFound {
		t.Errorf("missing run: %v", err)
	}
	homes, _ := s.Homes(ctx, []string{"alice", "bob", "Bad Name", "dave"})
	want := map[string]string{"alice": HomeOK, "bob": HomeDrift, "Bad Name": HomeRefused}
	if len(homes) != 3 {
		t.Errorf("homes: %v", homes)
	}
	for u, st := range want {
		if homes[u].State != st {
			t.Errorf("%s: %q, want %q", u, homes[u].State, st)
		}
	}
	// A later dry run updates the state: bob's home is gone.
	dry := &provision.Run{Started: t0.Add(time.Hour), Finished: t0.Add(time.Hour), DryRun: true,
		Results: []hdfs.Result{{User: "bob", Path: "/user/bob", Action: hdfs.ActionWouldCreate}}}
	if _, err := s.SaveRun(ctx, dry, "admin:carol"); err != nil {
		t.Fatal(err)
	}
	all, _ := s.Homes(ctx, nil)
	if all["bob"].State != HomeMissing || len(all) != 4 {
		t.Errorf("after dry run: %v", all)
	}
	runs, _ := s.Runs(ctx, 10, 0)
	if len(runs) != 2 || !runs[0].DryRun {
		t.Errorf("runs: %+v", runs)
	}
}

func testCreatedAt(t *testing.T, b backend) {
	s := open(t, b, Options{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := event("alice", "POST", "/batches", "ok", t0)
	e.SessionID = "7"
	s.Record(e)
	e.Time = t0.Add(time.Hour) // Livy restarted and reused the id
	s.Record(e)
	e.Path, e.SessionID = "/sessions", "8"
	s.Record(e)
	flush(t, s, 3)
	got, err := s.CreatedAt(context.Background(), "batches", []string{"7", "8"})
	if err != nil || len(got) != 1 || !got["7"].Equal(t0.Add(time.Hour)) {
		t.Errorf("created at: %v, %v", got, err)
	}
}

// Issue 11, item 13: refusals without an identity cannot push
// authenticated users' events out, in retention or in the write queue.
func testAnonymousEventsDisplaceNothing(t *testing.T, b backend) {
	ctx := context.Background()
	s := open(t, b, Options{MaxEvents: 5, MaxAnonymousEvents: 3, Now: time.Now})
	for i := 0; i < 5; i++ {
		s.Record(event("alice", "POST", "/batches", "ok", time.Now()))
	}
	for i := 0; i < 50; i++ {
		s.Record(event("", "GET", "/sessions", "refused", time.Now()))
	}
	flush(t, s, 55)
	if err := s.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := s.Audit(ctx, AuditQuery{User: "alice"}); n != 5 {
		t.Errorf("alice's events kept: %d, want 5", n)
	}
	if _, n, _ := s.Audit(ctx, AuditQuery{}); n != 8 {
		t.Errorf("events kept: %d, want 5 + 3 anonymous", n)
	}

	q := open(t, b, Options{QueueSize: 8})
	release := stickWriter(q, event("bob", "POST", "/batches", "ok", time.Now()))
	for i := 0; i < 100; i++ {
		q.Record(event("", "GET", "/sessions", "refused", time.Now()))
	}
	for i := 0; i < 4; i++ {
		q.Record(event("bob", "POST", "/batches", "ok", time.Now()))
	}
	close(release)
	flush(t, q, 105)
	if _, n, _ := q.Audit(ctx, AuditQuery{User: "bob"}); n != 5 {
		t.Errorf("bob's events stored: %d, want 5 (anonymous ones took the queue)", n)
	}
}

// stickWriter records e and returns once the writer holds it and is stuck
// before writing; closing the returned channel lets it go on.
func stickWriter(s *SQL, e audit.Event) chan struct{} {
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	s.beforeWrite = func() { // read per batch, so set before the first
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
	}
	s.Record(e)
	<-entered
	return release
}
