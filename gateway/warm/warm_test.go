package warm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/audit/audittest"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/auth/authtest"
	"github.com/livygate/livygate/gateway/clocktest"
	"github.com/livygate/livygate/gateway/limits"
	"github.com/livygate/livygate/gateway/logging/logtest"
	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/server"
	"github.com/livygate/livygate/gateway/warm"
	"github.com/livygate/livygate/jupyterhub"
	"github.com/livygate/livygate/jupyterhub/hubtest"
	"github.com/livygate/livygate/livy"
	"github.com/livygate/livygate/livy/livytest"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

var users = map[string]*auth.Identity{
	"alice": {User: "alice", Groups: []string{"analysts"}},
	"bob":   {User: "bob", Groups: []string{"analysts"}},
	"carol": {User: "carol", Groups: []string{"admins"}, Admin: true},
}

// governor is the gateway's: limits, warm creates uncounted.
type governor struct{ l *limits.Limiter }

func (g governor) Admit(ctx context.Context, res livy.Resource, c *auth.Identity, runAs string, req map[string]json.RawMessage) (func(), error) {
	return g.l.Admit(ctx, res, limits.Caller{User: c.User, Groups: c.Groups, Admin: c.Admin, Uncounted: proxy.IsWarmCreate(ctx)}, runAs, req)
}
func (governor) Used(livy.Resource, int, string, string)            {}
func (governor) Ended(livy.Resource, string) (string, string, bool) { return "", "", false }

// hook is the proxy's Warm over a Manager built after the proxy.
type hook struct{ m *warm.Manager }

func (h *hook) Adopt(ctx context.Context, runAs string, req map[string]json.RawMessage) (*livy.Session, []byte, bool) {
	return h.m.Adopt(ctx, runAs, req)
}
func (h *hook) Hidden(name string) bool { return h.m.Hidden(name) }

type rig struct {
	t       *testing.T
	livy    *livytest.Fake
	hub     *hubtest.Fake
	clock   *clocktest.Clock
	audit   *audittest.Recorder
	records warm.Records
	gateway *httptest.Server
	m       *warm.Manager
}

func newRig(t *testing.T, cfg warm.Config) *rig {
	fake, hub, records := newShared(t)
	return newReplica(t, cfg, fake, hub, records)
}

// newShared is what replicas share: Livy, the Hub and the warm records.
func newShared(t *testing.T) (*livytest.Fake, *hubtest.Fake, warm.Records) {
	fake := livytest.New()
	t.Cleanup(fake.Close)
	hub := hubtest.NewFake("svc")
	t.Cleanup(hub.Close)
	return fake, hub, warm.NewMemory()
}

// newReplica is one gateway over the given Livy, Hub and warm records
// (replicas share them).
func newReplica(t *testing.T, cfg warm.Config, fake *livytest.Fake, hub *hubtest.Fake, records warm.Records) *rig {
	t.Helper()
	u, _ := url.Parse(fake.URL())
	pol, err := policy.New(policy.Default())
	if err != nil {
		t.Fatal(err)
	}
	lc := &livy.Client{BaseURL: u, HTTP: &http.Client{Timeout: 5 * time.Second}}
	h := &hook{}
	lim, err := limits.New(limits.Config{AdminsExempt: true, Default: limits.Set{MaxSessions: 1}, Timeouts: limits.Timeouts{OverMax: "clamp"}},
		limits.Deps{Livy: lc, Version: func(context.Context) (livy.Version, error) { return livy.Version{Major: 0, Minor: 9}, nil }, Log: logtest.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	lim.SetUncounted(h.Hidden)
	clk := clocktest.New(t0)
	p := proxy.New(proxy.Options{
		Upstream: u, Transport: &http.Transport{ResponseHeaderTimeout: 2 * time.Second}, Timeout: 2 * time.Second,
		MaxBodyBytes: 1 << 20, OwnerCacheTTL: time.Minute, Policy: pol, Governor: governor{lim}, Warm: h,
		Log: logtest.Discard(), Now: clk.Now,
	})
	hc, err := jupyterhub.New(hub.URL(), "svc", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	hc.Retries = 0
	sink := &audittest.Recorder{}
	m, err := warm.New(cfg, warm.Deps{
		Livy: lc, Hub: hc, Records: records, Audit: sink, Log: logtest.Discard(), Now: clk.Now,
		Create: func(ctx context.Context, user, name string, body []byte) (warm.Created, error) {
			id, completed, err := p.CreateWarm(ctx, &auth.Identity{User: user, Groups: users[user].Groups}, name, body)
			return warm.Created{ID: id, Body: completed}, err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
	srv := server.New(server.Options{Listen: server.Default(), Realm: "livygate", Authn: authtest.Static{Users: users}, Livy: p, Ready: lc, Audit: sink, Log: logtest.Discard()})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &rig{t: t, livy: fake, hub: hub, clock: clk, audit: sink, records: records, gateway: ts, m: m}
}

func config() warm.Config {
	c := warm.Default()
	c.Enabled = true
	c.Body = map[string]any{"driverMemory": "1g", "conf": map[string]any{"spark.executor.instances": "1"}}
	return c
}

func (r *rig) do(user, method, path string, body any) (int, map[string]any) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, r.gateway.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-By", "sparkmagic")
	req.SetBasicAuth(user, "pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (r *rig) pass() { r.m.Pass(context.Background()) }

// newRigWarmForAlice is a rig on the default config after one pass with
// alice's server running, and the id of the warm session started for her.
func newRigWarmForAlice(t *testing.T) (*rig, int) {
	t.Helper()
	r := newRig(t, config())
	r.hub.StartServer("alice", t0)
	r.pass()
	id, ok := r.warmOf("alice")
	if !ok {
		t.Fatal("no warm session started for alice")
	}
	return r, id
}

// warmOf is the one warm session recorded for user.
func (r *rig) warmOf(user string) (id int, ok bool) {
	r.t.Helper()
	recs, err := r.records.WarmList(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	n := 0
	for _, w := range recs {
		if w.Owner == user && w.Adopted.IsZero() {
			id, ok = w.SessionID, true
			n++
		}
	}
	if n > 1 {
		r.t.Fatalf("%d warm sessions for %s", n, user)
	}
	return id, ok
}

// livySessions lists what the fake Livy holds, live.
func (r *rig) livySessions() []livy.Brief {
	r.t.Helper()
	u, _ := url.Parse(r.livy.URL())
	all, err := (&livy.Client{BaseURL: u, HTTP: http.DefaultClient}).ListAll(context.Background(), livy.Sessions)
	if err != nil {
		r.t.Fatal(err)
	}
	var live []livy.Brief
	for _, b := range all {
		if limits.Live(b.State) {
			live = append(live, b)
		}
	}
	return live
}

func (r *rig) reasons() []string {
	var out []string
	for _, e := range r.audit.All() {
		out = append(out, e.Reason)
	}
	return out
}

func TestStartOnServerStart(t *testing.T) {
	r := newRig(t, config())
	r.hub.AddUser("alice")
	r.pass()
	if n := len(r.livySessions()); n != 0 {
		t.Fatalf("no server running, %d sessions started", n)
	}
	r.hub.StartServer("alice", t0)
	r.pass()
	s := r.livySessions()
	if len(s) != 1 {
		t.Fatalf("alice's server runs: %d sessions, want 1", len(s))
	}
	if s[0].User() != "alice" || s[0].Kind != "pyspark" || !warm.IsName(s[0].SessionName()) || !strings.HasPrefix(s[0].SessionName(), "alice~~warm-") {
		t.Fatalf("warm session %+v: want pyspark as alice named alice~~warm-…", s[0])
	}
	// What Livy got: proxyUser forced, the warm body, the limits' completion.
	var body map[string]any
	for _, req := range r.livy.Requests() {
		if req.Method == http.MethodPost && req.Path == "/sessions" {
			_ = json.Unmarshal(req.Body, &body)
		}
	}
	if body["proxyUser"] != "alice" || body["driverMemory"] != "1g" || body["conf"].(map[string]any)["spark.executor.instances"] != "1" {
		t.Fatalf("Livy got %v", body)
	}
	r.pass()
	if n := len(r.livySessions()); n != 1 {
		t.Fatalf("a second pass started another: %d sessions", n)
	}
	if _, ok := r.warmOf("alice"); !ok {
		t.Fatal("no warm record for alice")
	}
	if got := r.reasons(); len(got) != 1 || !strings.HasPrefix(got[0], "warm: start") {
		t.Fatalf("audit %q, want one start", got)
	}
}

func TestAdoption(t *testing.T) {
	r, id := newRigWarmForAlice(t)
	// Sparkmagic's create: the kind only (alice's limit is 1 session; the
	// warm one does not count until it is hers).
	st, got := r.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
	if st != http.StatusCreated || int(got["id"].(float64)) != id {
		t.Fatalf("create: %d %v, want 201 with the warm session %d", st, got, id)
	}
	if got["name"] != nil || got["proxyUser"] != "alice" {
		t.Fatalf("adopted session shows %v", got)
	}
	if n := len(r.livySessions()); n != 1 {
		t.Fatalf("%d sessions in Livy after adoption, want the warm one only", n)
	}
	if st, _ := r.do("alice", http.MethodGet, "/sessions/"+itoa(id), nil); st != http.StatusOK {
		t.Fatalf("alice's GET of her adopted session: %d", st)
	}
	if st, _ := r.do("alice", http.MethodPost, "/sessions/"+itoa(id)+"/statements", map[string]any{"code": "1+1"}); st != http.StatusCreated {
		t.Fatalf("statement: %d", st)
	}
	_, list := r.do("alice", http.MethodGet, "/sessions", nil)
	if list["total"].(float64) != 1 {
		t.Fatalf("alice's list after adoption: %v", list)
	}
	// Now hers: it counts against her limit, and no new warm one starts.
	if st, _ := r.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"}); st != http.StatusTooManyRequests {
		t.Fatalf("second create over max_sessions 1: %d", st)
	}
	r.pass()
	if n := len(r.livySessions()); n != 1 {
		t.Fatalf("a pass after adoption started another: %d", n)
	}
	found := false
	for _, reason := range r.reasons() {
		found = found || strings.HasPrefix(reason, "warm: adoption")
	}
	if !found {
		t.Fatalf("no adoption audit event: %q", r.reasons())
	}
	if s := r.m.Status(context.Background()); s.Started != 1 || s.Adopted != 1 || s.AdoptionRate() != 1 || len(s.Sessions) != 0 {
		t.Fatalf("status %+v", s)
	}
	// A create with no kind is equivalent too (the next warm one, after the
	// adopted one is gone).
	r.do("alice", http.MethodDelete, "/sessions/"+itoa(id), nil)
	r.pass()
	id2, ok := r.warmOf("alice")
	if !ok {
		t.Fatal("no new warm session after alice's was deleted")
	}
	if st, got := r.do("alice", http.MethodPost, "/sessions", map[string]any{"conf": map[string]string{"spark.executor.instances": "1"}}); st != http.StatusCreated || int(got["id"].(float64)) != id2 {
		t.Fatalf("create without kind, conf within the warm one's: %d %v, want %d", st, got, id2)
	}
}

func TestMismatchCreatesNormally(t *testing.T) {
	r, id := newRigWarmForAlice(t)
	for _, body := range []map[string]any{
		{"kind": "spark"},
		{"kind": "pyspark", "conf": map[string]string{"spark.executor.memory": "2g"}},
		{"kind": "pyspark", "driverMemory": "2g"},
		{"kind": "pyspark", "name": "mine"},
	} {
		st, got := r.do("alice", http.MethodPost, "/sessions", body)
		if st != http.StatusCreated || int(got["id"].(float64)) == id {
			t.Fatalf("create %v: %d %v, want a new session, not the warm %d", body, st, got, id)
		}
		r.do("alice", http.MethodDelete, "/sessions/"+itoa(int(got["id"].(float64))), nil)
	}
	if got, ok := r.warmOf("alice"); !ok || got != id {
		t.Fatal("the warm session did not stay for a later match")
	}
}

func TestExpiry(t *testing.T) {
	cfg := config()
	cfg.ExpireAfter = 10 * time.Minute
	r := newRig(t, cfg)
	r.hub.StartServer("alice", t0)
	r.hub.StartServer("bob", t0)
	r.pass()
	r.clock.Add(5 * time.Minute)
	r.hub.StopServer("bob", r.clock.Now())
	r.pass()
	if _, ok := r.warmOf("bob"); ok {
		t.Fatal("bob's server stopped, his warm session stayed")
	}
	if _, ok := r.warmOf("alice"); !ok {
		t.Fatal("alice's warm session ended early")
	}
	r.clock.Add(5 * time.Minute)
	r.pass() // expires alice's
	if n := len(r.livySessions()); n != 0 {
		t.Fatalf("%d sessions after expiry, want 0", n)
	}
	r.pass() // no fresh one while the same server runs
	if _, ok := r.warmOf("alice"); ok {
		t.Fatal("a fresh warm session for a server that did not use the last one")
	}
	r.hub.StopServer("alice", r.clock.Now())
	r.pass()
	r.hub.StartServer("alice", r.clock.Now())
	r.pass()
	if _, ok := r.warmOf("alice"); !ok {
		t.Fatal("no warm session when alice's server started again")
	}
	var expiries []string
	for _, reason := range r.reasons() {
		if strings.HasPrefix(reason, "warm: expiry") {
			expiries = append(expiries, reason)
		}
	}
	if len(expiries) != 2 || !strings.Contains(expiries[0], warm.ReasonStopped) || !strings.Contains(expiries[1], warm.ReasonUnused) {
		t.Fatalf("expiry events %q", expiries)
	}
}

func TestCap(t *testing.T) {
	cfg := config()
	cfg.MaxTotal = 1
	r := newRig(t, cfg)
	r.hub.StartServer("alice", t0)
	r.hub.StartServer("bob", t0)
	r.pass()
	r.pass()
	if n := len(r.livySessions()); n != 1 {
		t.Fatalf("%d warm sessions, want warm.max_total 1", n)
	}
	id, ok := r.warmOf("alice")
	if !ok {
		t.Fatal("alice (first by name) has none")
	}
	r.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"}) // adopted: no longer under the cap
	r.pass()
	if _, ok := r.warmOf("bob"); !ok {
		t.Fatalf("bob got no warm session once alice adopted hers (%d)", id)
	}
}

func TestDeadIsNeverHandedOver(t *testing.T) {
	r, id := newRigWarmForAlice(t)
	r.livy.SetState("sessions", id, "dead")
	st, got := r.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
	if st != http.StatusCreated || int(got["id"].(float64)) == id {
		t.Fatalf("create: %d %v; the dead warm session %d must not be handed over", st, got, id)
	}
	if _, ok := r.warmOf("alice"); ok {
		t.Fatal("the dead warm session is still recorded")
	}
	// Dead before anyone asked: the pass forgets it.
	r.do("alice", http.MethodDelete, "/sessions/"+itoa(int(got["id"].(float64))), nil)
	r.pass()
	id2, _ := r.warmOf("alice")
	r.livy.Remove("sessions", id2)
	r.pass()
	if got, ok := r.warmOf("alice"); ok && got == id2 {
		t.Fatal("a warm session gone from Livy is still recorded")
	}
}

// statementsSent are the statement codes Livy got for session id.
func (r *rig) statementsSent(id int) []string {
	var codes []string
	for _, req := range r.livy.Requests() {
		if req.Method == http.MethodPost && req.Path == "/sessions/"+itoa(id)+"/statements" {
			var b map[string]any
			_ = json.Unmarshal(req.Body, &b)
			codes = append(codes, fmt.Sprint(b["code"]))
		}
	}
	return codes
}

func TestPrime(t *testing.T) {
	r, id := newRigWarmForAlice(t)
	r.livy.SetState("sessions", id, "starting")
	r.pass()
	if got := r.statementsSent(id); len(got) != 0 {
		t.Fatalf("primed while starting: %q", got)
	}
	r.livy.SetState("sessions", id, "idle")
	r.pass()
	r.pass()
	if got := r.statementsSent(id); !slices.Equal(got, []string{"spark.range(1).count()"}) {
		t.Fatalf("statements sent to the idle warm session: %q, want the pyspark warm-up once", got)
	}
	// Busy with it, it is still handed over; the user's statement queues.
	r.livy.SetState("sessions", id, "busy")
	st, got := r.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
	if st != http.StatusCreated || int(got["id"].(float64)) != id {
		t.Fatalf("create while the warm-up runs: %d %v, want the warm session %d", st, got, id)
	}
	r.livy.SetState("sessions", id, "idle")
	r.pass()
	if got := r.statementsSent(id); len(got) != 1 {
		t.Fatalf("statements after adoption: %q; an adopted session is never primed", got)
	}
}

func TestPrimeOncePerSessionAcrossRestarts(t *testing.T) {
	fake, hub, records := newShared(t)
	first := newReplica(t, config(), fake, hub, records)
	hub.StartServer("alice", t0)
	first.pass()
	first.pass()
	id, _ := first.warmOf("alice")
	// A new process (no memory of having primed) sees the statement in Livy.
	second := newReplica(t, config(), fake, hub, records)
	second.pass()
	if got := second.statementsSent(id); len(got) != 1 {
		t.Fatalf("statements after a restart: %q, want the one warm-up", got)
	}
}

func TestPrimeNoneForAnEmptyStatement(t *testing.T) {
	cfg := config()
	cfg.Prime = map[string]string{"pyspark": ""}
	r := newRig(t, cfg)
	r.hub.StartServer("alice", t0)
	r.pass()
	r.pass()
	id, _ := r.warmOf("alice")
	if got := r.statementsSent(id); len(got) != 0 {
		t.Fatalf("prime \"\" sent %q", got)
	}
}

func TestNoCrossUserHandOver(t *testing.T) {
	fake, hub, records := newShared(t)
	a := newReplica(t, config(), fake, hub, records)
	b := newReplica(t, config(), fake, hub, records)
	hub.StartServer("alice", t0)
	a.pass()
	id, _ := a.warmOf("alice")
	// bob (whose server does not run) and carol (an admin) never get it.
	for _, u := range []string{"bob", "carol"} {
		st, got := b.do(u, http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
		if st != http.StatusCreated || int(got["id"].(float64)) == id || got["proxyUser"] != u {
			t.Fatalf("%s's create: %d %v (warm %d is alice's)", u, st, got, id)
		}
	}
	if st, _ := b.do("bob", http.MethodGet, "/sessions/"+itoa(id), nil); st != http.StatusNotFound {
		t.Fatalf("bob GETs alice's warm session: %d", st)
	}
	// Adopted once, across replicas: the second create is a new session.
	st, got := b.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
	if st != http.StatusCreated || int(got["id"].(float64)) != id {
		t.Fatalf("alice on replica b: %d %v, want %d", st, got, id)
	}
	a.do("alice", http.MethodDelete, "/sessions/"+itoa(id), nil)
	st, got = a.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
	if st != http.StatusCreated || int(got["id"].(float64)) == id {
		t.Fatalf("alice's second create on replica a: %d %v", st, got)
	}
}

func TestHiddenUntilAdopted(t *testing.T) {
	r, id := newRigWarmForAlice(t)
	if _, list := r.do("alice", http.MethodGet, "/sessions", nil); list["total"].(float64) != 0 {
		t.Fatalf("alice's list shows her warm session before adoption: %v", list)
	}
	if st, _ := r.do("alice", http.MethodGet, "/sessions/"+itoa(id), nil); st != http.StatusNotFound {
		t.Fatalf("alice GETs her warm session before adoption: %d", st)
	}
	if st, _ := r.do("alice", http.MethodPost, "/sessions/"+itoa(id)+"/statements", map[string]any{"code": "1"}); st != http.StatusNotFound {
		t.Fatalf("a statement to a warm session before adoption: %d", st)
	}
	// Admins see every session, warm ones too.
	if _, list := r.do("carol", http.MethodGet, "/sessions", nil); list["total"].(float64) != 1 {
		t.Fatalf("the admin's list: %v", list)
	}
	if s := r.m.Status(context.Background()); len(s.Sessions) != 1 || s.Sessions[0].Owner != "alice" {
		t.Fatalf("status %+v", s)
	}
}

func TestEquivalent(t *testing.T) {
	w := []byte(`{"kind":"pyspark","driverMemory":"1g","conf":{"a":"1","b":"2"},"heartbeatTimeoutInSecond":60}`)
	for _, c := range []struct {
		req  string
		want bool
	}{
		{`{"kind":"pyspark"}`, true},
		{`{}`, true},
		{`{"kind":"pyspark","conf":{"a":"1"},"heartbeatTimeoutInSecond":60}`, true},
		{`{"kind":"spark"}`, false},
		{`{"conf":{"a":"2"}}`, false},
		{`{"conf":{"c":"1"}}`, false},
		{`{"driverMemory":"2g"}`, false},
		{`{"executorCores":2}`, false},
		{`{"kind":null,"conf":null}`, true},
	} {
		var req map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c.req), &req); err != nil {
			t.Fatal(err)
		}
		if got := warm.Equivalent(req, w); got != c.want {
			t.Errorf("Equivalent(%s) = %v, want %v", c.req, got, c.want)
		}
	}
}

func TestNames(t *testing.T) {
	n := warm.NewName("alice")
	if !warm.IsName(n) || warm.IsName("alice~~0123abcd") || warm.IsName("alice~mine") || warm.IsName("~~warm-x") {
		t.Fatal("IsName")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := warm.Default().Validate(); err != nil {
		t.Fatal(err)
	}
	c := warm.Default()
	c.Enabled, c.Kinds, c.MaxTotal = true, []string{"python", "pyspark", "pyspark"}, 0
	c.Body = map[string]any{"proxyUser": "x"}
	c.Prime["scala"] = "1"
	err := c.Validate()
	for _, want := range []string{`warm.kinds: "python"`, `"pyspark" is named twice`, "warm.body.proxyUser", "warm.max_total", `warm.prime: "scala"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want %q", err, want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
