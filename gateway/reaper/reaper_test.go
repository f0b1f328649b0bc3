package reaper

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/audit/audittest"
	"github.com/livygate/livygate/gateway/clocktest"
	"github.com/livygate/livygate/gateway/logging/logtest"
	"github.com/livygate/livygate/jupyterhub"
	"github.com/livygate/livygate/jupyterhub/hubtest"
	"github.com/livygate/livygate/livy"
	"github.com/livygate/livygate/livy/livytest"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

type rig struct {
	r     *Reaper
	livy  *livytest.Fake
	hub   *hubtest.Fake
	clock *clocktest.Clock
	audit *audittest.Recorder
}

func livyClient(t testing.TB, base string) *livy.Client {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return &livy.Client{BaseURL: u, HTTP: &http.Client{Timeout: 5 * time.Second}}
}

func newRig(t testing.TB, cfg Config) *rig {
	t.Helper()
	fake := livytest.New()
	t.Cleanup(fake.Close)
	hub := hubtest.NewFake("svc")
	t.Cleanup(hub.Close)
	hc, err := jupyterhub.New(hub.URL(), "svc", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	hc.Retries = 0
	clk := clocktest.New(t0)
	log := logtest.Discard()
	s := &audittest.Recorder{}
	deps := Deps{Livy: livyClient(t, fake.URL()), Audit: s, Log: log, Now: clk.Now}
	if cfg.OrphanAfter > 0 {
		deps.Hub = hc
	}
	r, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{r: r, livy: fake, hub: hub, clock: clk, audit: s}
}

func cfgWith(idle, orphan time.Duration) Config {
	c := Default()
	c.IdleAfter, c.OrphanAfter = idle, orphan
	return c
}

func (g *rig) pass(t *testing.T) []Action {
	t.Helper()
	return g.r.Pass(context.Background())
}

func ids(actions []Action) []int {
	var out []int
	for _, a := range actions {
		out = append(out, a.SessionID)
	}
	return out
}

// Activity is what the user did (statements, completions), not polling; a
// busy session is never idle; only the list endpoint is polled.
func TestIdleSessionIsReapedBusyOneIsNot(t *testing.T) {
	g := newRig(t, cfgWith(30*time.Minute, 0))
	a := g.livy.Add("sessions", map[string]any{"proxyUser": "alice", "name": "nb1", "kind": "pyspark"})
	b := g.livy.Add("sessions", map[string]any{"proxyUser": "bob", "kind": "pyspark"})
	g.livy.Add("batches", map[string]any{"proxyUser": "alice"})
	g.livy.SetState("sessions", b, "busy")
	g.pass(t) // first sight
	g.clock.Add(20 * time.Minute)
	g.r.Used(livy.Sessions, a, "POST", "statements")
	g.clock.Add(15 * time.Minute)
	for i := 0; i < 50; i++ {
		g.r.Used(livy.Sessions, a, "GET", "statements/0") // polling is not activity
		g.r.Used(livy.Sessions, a, "GET", "")
	}
	if got := g.pass(t); len(got) != 0 {
		t.Fatalf("reaped after 15m idle: %+v", got)
	}
	if idle, ok := g.r.IdleFor(a); !ok || idle != 15*time.Minute {
		t.Errorf("IdleFor = %v %v", idle, ok)
	}
	if _, ok := g.r.IdleFor(b); ok {
		t.Error("a busy session has an idle time")
	}
	g.clock.Add(16 * time.Minute)
	got := g.pass(t)
	if len(got) != 1 || got[0].SessionID != a || got[0].Reason != ReasonIdle || got[0].Detail != "idle for 31m (reaper.idle_after 30m)" {
		t.Fatalf("pass: %+v", got)
	}
	if g.livy.Count("sessions") != 1 || g.livy.Count("batches") != 1 {
		t.Errorf("left %d sessions, %d batches", g.livy.Count("sessions"), g.livy.Count("batches"))
	}
	// bob's session finishes its statement: its idle clock starts then.
	g.livy.SetState("sessions", b, "idle")
	g.clock.Add(29 * time.Minute)
	if got := g.pass(t); len(got) != 0 {
		t.Errorf("bob's session reaped 29m after its last busy pass: %+v", got)
	}
	for _, r := range g.livy.Requests() {
		if r.Method == "GET" && r.Path != "/sessions" {
			t.Errorf("the reaper asked %s %s (only the list may be polled)", r.Method, r.Path)
		}
	}
	// The next request is told why, by id and by name, for the owner.
	owner, msg, ok := g.r.Ended(livy.Sessions, "0")
	if !ok || owner != "alice" || !strings.HasPrefix(msg, "Session '0' was ended by livygate at 2026-11-30 12:51 UTC: idle for 31m (reaper.idle_after 30m).") {
		t.Errorf("Ended(0) = %q %q %v", owner, msg, ok)
	}
	if _, msg, ok := g.r.Ended(livy.Sessions, "nb1"); !ok || !strings.HasPrefix(msg, "Session 'nb1' (0) was ended by livygate") {
		t.Errorf("Ended(nb1) = %q %v", msg, ok)
	}
	if _, _, ok := g.r.Ended(livy.Batches, "0"); ok {
		t.Error("a batch is explained as reaped")
	}
	ev := g.audit.All()
	if len(ev) != 1 || ev[0].User != AuditUser || ev[0].ProxyUser != "alice" || ev[0].Method != "DELETE" || ev[0].Path != "/sessions/0" ||
		ev[0].Outcome != "ok" || !strings.Contains(ev[0].Reason, "reaper: idle: idle for 31m") {
		t.Errorf("audit: %+v", ev)
	}
	if acts := g.r.Actions(); len(acts) != 1 || acts[0].Owner != "alice" {
		t.Errorf("history: %+v", acts)
	}
	// Forgotten after reaper.remember.
	g.clock.Add(25 * time.Hour)
	if _, _, ok := g.r.Ended(livy.Sessions, "0"); ok {
		t.Error("remembered past reaper.remember")
	}
}

func TestOrphanedSessionsAreReaped(t *testing.T) {
	g := newRig(t, cfgWith(0, 10*time.Minute))
	g.hub.StartServer("alice", t0)
	g.hub.AddUser("bob")                         // never had a server: uses Livy from elsewhere
	g.hub.StopServer("dave", t0.Add(-time.Hour)) // stopped before the gateway started
	alice := g.livy.Add("sessions", map[string]any{"proxyUser": "alice"})
	busy := g.livy.Add("sessions", map[string]any{"proxyUser": "alice"})
	g.livy.SetState("sessions", busy, "busy")
	g.livy.Add("sessions", map[string]any{"proxyUser": "bob"})
	g.livy.Add("sessions", map[string]any{"proxyUser": "dave"})
	g.livy.Add("batches", map[string]any{"proxyUser": "alice"})

	// dave's session was first seen after his server stopped: it may come
	// from anywhere, so it is not taken for an orphan (idle_after still
	// applies to it).
	if got := g.pass(t); len(got) != 0 {
		t.Fatalf("first pass: %+v", got)
	}
	if nb := g.r.NotebookOf("alice"); nb.State != "running" {
		t.Errorf("alice's notebook: %+v", nb)
	}
	if nb := g.r.NotebookOf("bob"); nb.State != "none" {
		t.Errorf("bob's notebook: %+v", nb)
	}
	if nb := g.r.NotebookOf("dave"); nb.State != "stopped" || !nb.Since.Equal(t0.Add(-time.Hour)) {
		t.Errorf("dave's notebook: %+v", nb)
	}
	g.clock.Add(time.Minute)
	g.hub.StopServer("alice", g.clock.Now())
	g.clock.Add(5 * time.Minute)
	if got := g.pass(t); len(got) != 0 {
		t.Fatalf("reaped too early: %+v", got)
	}
	if nb := g.r.NotebookOf("alice"); nb.State != "stopped" || !nb.Since.Equal(t0) {
		t.Errorf("alice's notebook: %+v", nb)
	}
	// A session alice makes after her server stopped (from a script) is
	// not the stopped notebook's.
	later := g.livy.Add("sessions", map[string]any{"proxyUser": "alice"})
	g.clock.Add(5 * time.Minute)
	got := g.pass(t)
	want := map[int]bool{alice: true, busy: true}
	if len(got) != 2 || !want[got[0].SessionID] || !want[got[1].SessionID] || got[0].Reason != ReasonOrphan {
		t.Fatalf("second pass: %+v", got)
	}
	if got[0].Detail != "its owner's notebook server has been stopped for 11m (reaper.orphan_after 10m)" {
		t.Errorf("detail: %q", got[0].Detail)
	}
	if g.livy.Count("sessions") != 3 || g.livy.Count("batches") != 1 {
		t.Errorf("left %d sessions (bob's, dave's, alice's later one), %d batches", g.livy.Count("sessions"), g.livy.Count("batches"))
	}
	if _, msg, ok := g.r.Ended(livy.Sessions, "0"); !ok || !strings.Contains(msg, "its owner's notebook server has been stopped for 11m (reaper.orphan_after 10m)") {
		t.Errorf("Ended: %q", msg)
	}
	if _, _, ok := g.r.Ended(livy.Sessions, strconv.Itoa(later)); ok {
		t.Error("the later session is explained as reaped")
	}
	// A server running again stops the reaping.
	g.hub.StartServer("alice", g.clock.Now())
	g.clock.Add(time.Hour)
	if got := g.pass(t); len(got) != 0 {
		t.Errorf("reaped with the server running: %+v", got)
	}
}

// The reaper survives Livy or the Hub being down, and reaps nothing it
// cannot be sure of: a Hub that does not answer makes nobody an orphan.
func TestBackendsDownReapNothing(t *testing.T) {
	g := newRig(t, cfgWith(0, 10*time.Minute))
	g.hub.StartServer("alice", t0)
	g.livy.Add("sessions", map[string]any{"proxyUser": "alice"})
	g.pass(t)
	g.clock.Add(time.Minute)
	g.hub.StopServer("alice", g.clock.Now())
	g.hub.SetDown(true)
	g.clock.Add(20 * time.Minute)
	if got := g.pass(t); len(got) != 0 {
		t.Fatalf("reaped with the Hub down: %+v", got)
	}
	if st := g.r.Status(); st.HubError == "" {
		t.Error("the Hub's failure is not shown")
	}
	g.hub.SetDown(false)
	if got := g.pass(t); len(got) != 1 || got[0].Reason != ReasonOrphan {
		t.Fatalf("the Hub back: %+v", got)
	}
	g.livy.Add("sessions", map[string]any{"proxyUser": "bob"})
	g.livy.Close()
	g.clock.Add(time.Hour)
	if got := g.pass(t); got != nil {
		t.Fatalf("reaped with Livy down: %+v", got)
	}
	if st := g.r.Status(); st.LivyError == "" || st.LastPass == "" {
		t.Errorf("status: %+v", st)
	}
}

func TestIdleReapingGoesOnWithTheHubDown(t *testing.T) {
	g := newRig(t, cfgWith(30*time.Minute, 10*time.Minute))
	g.livy.Add("sessions", map[string]any{"proxyUser": "alice"})
	g.hub.SetDown(true)
	g.pass(t)
	g.clock.Add(31 * time.Minute)
	if got := g.pass(t); len(got) != 1 || got[0].Reason != ReasonIdle {
		t.Fatalf("%+v", got)
	}
}

func TestDryRunReportsOnceAndDeletesNothing(t *testing.T) {
	cfg := cfgWith(30*time.Minute, 0)
	cfg.DryRun = true
	g := newRig(t, cfg)
	g.livy.Add("sessions", map[string]any{"proxyUser": "alice"})
	g.pass(t)
	g.clock.Add(31 * time.Minute)
	got := g.pass(t)
	if len(got) != 1 || !got[0].DryRun {
		t.Fatalf("%+v", got)
	}
	g.clock.Add(time.Minute)
	if got := g.pass(t); len(got) != 0 {
		t.Errorf("reported twice: %+v", got)
	}
	if g.livy.Count("sessions") != 1 || len(g.audit.All()) != 0 {
		t.Errorf("dry run deleted or audited: %d sessions, %v", g.livy.Count("sessions"), g.audit.All())
	}
	if _, _, ok := g.r.Ended(livy.Sessions, "0"); ok {
		t.Error("a dry run explains a session as ended")
	}
	if acts := g.r.Actions(); len(acts) != 1 || !acts[0].DryRun {
		t.Errorf("history: %+v", acts)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	cfg := cfgWith(time.Minute, 0)
	cfg.History = 3
	g := newRig(t, cfg)
	for i := 0; i < 5; i++ {
		g.livy.Add("sessions", map[string]any{"proxyUser": "alice"})
	}
	g.pass(t)
	g.clock.Add(2 * time.Minute)
	if got := g.pass(t); len(got) != 5 {
		t.Fatalf("%v", ids(got))
	}
	if acts := g.r.Actions(); len(acts) != 3 {
		t.Errorf("history holds %d", len(acts))
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	cfg := cfgWith(time.Hour, 0)
	cfg.Interval = time.Second
	g := newRig(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.r.Run(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestValidate(t *testing.T) {
	bad := Config{Interval: 10 * time.Millisecond, IdleAfter: -1, OrphanAfter: -1}
	err := bad.Validate()
	for _, want := range []string{"reaper.interval", "reaper.idle_after", "reaper.orphan_after", "reaper.remember", "reaper.history"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %s in %v", want, err)
		}
	}
	off := Default()
	off.Interval, off.IdleAfter = 0, time.Hour
	if err := off.Validate(); err == nil || !strings.Contains(err.Error(), "is 0 (off)") {
		t.Errorf("interval 0 with idle_after: %v", err)
	}
	if err := Default().Validate(); err != nil || Default().Enabled() {
		t.Errorf("defaults: %v, enabled %v", err, Default().Enabled())
	}
}

func TestShort(t *testing.T) {
	for d, want := range map[time.Duration]string{45 * time.Second: "45s", 31 * time.Minute: "31m", 90 * time.Second: "1m30s",
		2*time.Hour + 5*time.Minute: "2h5m", 3*24*time.Hour + 4*time.Hour: "3d4h", time.Hour: "1h"} {
		if got := Short(d); got != want {
			t.Errorf("Short(%v) = %q, want %q", d, got, want)
		}
	}
}

// countingGate lets a pass run only when open, and counts the ticks.
type countingGate struct {
	open  bool
	ticks atomic.Int32
}

func (g *countingGate) Do(ctx context.Context, job func(context.Context)) bool {
	g.ticks.Add(1)
	if g.open {
		job(ctx)
	}
	return g.open
}

// With a Gate (the store's lease, with several replicas), a replica that
// does not hold it reaps nothing: not even the list call is made.
func TestRunAsksItsGate(t *testing.T) {
	for _, open := range []bool{false, true} {
		cfg := cfgWith(time.Hour, 0)
		cfg.Interval = time.Second
		g := newRig(t, cfg)
		gate := &countingGate{open: open}
		g.r.deps.Gate = gate
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { g.r.Run(ctx); close(done) }()
		deadline := time.Now().Add(10 * time.Second)
		for gate.ticks.Load() < 2 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		<-done
		if gate.ticks.Load() < 2 {
			t.Fatalf("gate asked %d times in 10 s at a 1 s interval", gate.ticks.Load())
		}
		if calls := len(g.livy.Requests()); (calls > 0) != open {
			t.Errorf("gate open %v: Livy got %d requests", open, calls)
		}
	}
}

// A session the gateway spares (a warm session not adopted yet) is never
// reaped, idle or orphaned; once spared no more, its idle clock decides.
func TestSparedSessionIsNotReaped(t *testing.T) {
	g := newRig(t, cfgWith(30*time.Minute, time.Minute))
	spared := true
	g.r.SetSpare(func(name string) bool { return spared && name == "alice~~warm-1" })
	w := g.livy.Add("sessions", map[string]any{"proxyUser": "alice", "name": "alice~~warm-1", "kind": "pyspark"})
	g.hub.StopServer("alice", t0)
	g.pass(t)
	g.clock.Add(time.Hour)
	if got := g.pass(t); len(got) != 0 {
		t.Fatalf("reaped a spared session: %+v", got)
	}
	spared = false
	g.r.Used(livy.Sessions, w, "POST", "statements") // adopted, then used
	g.clock.Add(31 * time.Minute)
	if got := g.pass(t); len(got) != 1 || got[0].SessionID != w {
		t.Fatalf("after adoption: %+v", got)
	}
}
