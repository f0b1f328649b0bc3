//go:build integration

package gateway_test

// Faults (issue 15): each backend fails under a running gateway, wired from
// configuration as `livygate serve` wires it, with real components where
// there is one to start here (slapd, JupyterHub, PostgreSQL). Livy itself
// runs only in the dev stack, so its faults are tested here against the
// fake Livy behind a listener the test kills and restarts, and end to end
// against the real Livy in deploy/dev/e2e/test_faults_e2e.py.
//
// Every fault asserts, besides what the issue says: no hang (every call has
// a deadline well under the test's), no goroutine leak (the count settles
// back near the baseline taken before the fault), and the service resumes
// by itself (the next call after recovery succeeds on the same gateway).

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/livygate/livygate/gateway"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/ldap/ldaptest"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/store/pgtest"
	"github.com/livygate/livygate/jupyterhub/hubtest"
	"github.com/livygate/livygate/livy/livytest"
)

// callTimeout bounds every call a fault test makes: a hang fails the test
// instead of stalling it.
const callTimeout = 15 * time.Second

// faultGateway is a gateway under test and a client with its own
// connections, so idle ones can be closed before goroutines are counted.
type faultGateway struct {
	t      *testing.T
	gw     *gateway.Gateway
	url    string
	client *http.Client
	hook   *test.Hook
	base   int // goroutines once warm
}

func startFaultGateway(t *testing.T, cfg config.Config) *faultGateway {
	t.Helper()
	if cfg.Store.Driver != store.DriverPostgres && cfg.Store.Path == "" {
		cfg.Store.Path = filepath.Join(t.TempDir(), "livygate.db")
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	g, err := gateway.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Server.Handler())
	f := &faultGateway{t: t, gw: g, url: srv.URL, hook: hook,
		client: &http.Client{Transport: &http.Transport{}, Timeout: callTimeout}}
	t.Cleanup(func() {
		f.client.CloseIdleConnections()
		srv.Close()
		_ = g.Close()
	})
	return f
}

// call makes one request and reports its status, body and how long it took.
func (f *faultGateway) call(user, password, method, path, body string) (int, string, time.Duration) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-By", "test")
	switch {
	case strings.HasPrefix(user, "token "):
		req.Header.Set("Authorization", user)
	case user != "":
		req.SetBasicAuth(user, password)
	}
	start := time.Now()
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v (after %v): a hang or a dropped connection", method, path, err, time.Since(start))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

// baseline records the goroutine count once the gateway is warm.
func (f *faultGateway) baseline() {
	f.client.CloseIdleConnections()
	time.Sleep(100 * time.Millisecond)
	f.base = runtime.NumGoroutine()
}

// noLeak waits for the goroutine count to come back near the baseline (idle
// keep-alive connections on either side account for a few) and dumps every
// stack when it does not.
func (f *faultGateway) noLeak() {
	f.t.Helper()
	const slack = 6
	var n int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		f.client.CloseIdleConnections()
		if n = runtime.NumGoroutine(); n <= f.base+slack {
			return
		}
	}
	buf := make([]byte, 1<<20)
	f.t.Errorf("goroutine leak: %d goroutines, %d before the fault\n%s", n, f.base, buf[:runtime.Stack(buf, true)])
}

// logged counts the log entries whose message contains s.
func (f *faultGateway) logged(s string) int {
	n := 0
	for _, e := range f.hook.AllEntries() {
		if strings.Contains(e.Message, s) {
			n++
		}
	}
	return n
}

func ldapAuth(dir *ldaptest.Server) auth.LDAPConfig {
	a := ldapLogin(dir)
	a.Timeout = 2 * time.Second
	return a
}

// LDAP down: logins the gateway has verified keep working until their cache
// TTL; any other login is a quick 503 (never a 401, which would count
// towards a lockout); a cached login past its TTL is a 503 too; and once the
// directory is back every login works again without touching the gateway.
func TestFaultLDAPDown(t *testing.T) {
	dir := ldaptest.Start(t)
	fake := livytest.New()
	defer fake.Close()
	const ttl = 3 * time.Second
	cfg := config.Default()
	cfg.Livy.URL = fake.URL()
	cfg.Auth.LDAP = ldapAuth(dir)
	cfg.Auth.Cache.TTL = ttl
	f := startFaultGateway(t, cfg)
	pw := dir.Passwords

	if st, body, _ := f.call("alice", pw["alice"], "GET", "/sessions", ""); st != 200 {
		t.Fatalf("alice before the fault: %d %s", st, body)
	}
	cachedAt := time.Now()
	f.baseline()

	dir.Stop()
	if st, body, _ := f.call("alice", pw["alice"], "GET", "/sessions", ""); st != 200 {
		t.Errorf("alice's cached login with LDAP down: %d %s, want 200", st, body)
	}
	for _, c := range []struct{ user, password string }{{"bob", pw["bob"]}, {"alice", "not-her-password"}} {
		st, body, took := f.call(c.user, c.password, "GET", "/sessions", "")
		if st != 503 || !strings.Contains(body, `"msg"`) {
			t.Errorf("%s, not cached, LDAP down: %d %s, want a 503 with a message", c.user, st, body)
		}
		if took > 2*time.Second+time.Second {
			t.Errorf("%s with LDAP down took %v: more than the LDAP timeout", c.user, took)
		}
	}
	time.Sleep(time.Until(cachedAt.Add(ttl + 200*time.Millisecond)))
	if st, body, _ := f.call("alice", pw["alice"], "GET", "/sessions", ""); st != 503 {
		t.Errorf("alice past her cache TTL, LDAP down: %d %s, want 503", st, body)
	}

	dir.Restart()
	for _, u := range []string{"alice", "bob"} {
		if st, body, _ := f.call(u, pw[u], "GET", "/sessions", ""); st != 200 {
			t.Errorf("%s after LDAP is back: %d %s, want 200", u, st, body)
		}
	}
	if st, _, _ := f.call("bob", "wrong", "GET", "/sessions", ""); st != 401 {
		t.Errorf("a wrong password after LDAP is back: %d, want 401", st)
	}
	f.noLeak()
}

// Hub down: a JupyterHub token the gateway has not verified is a quick 503;
// when the Hub is back the same token logs in, on the same gateway. The
// sync's side (exit 2, nothing changed) is in cmd/livygate.
func TestFaultHubDown(t *testing.T) {
	hub := hubtest.Start(t, 50, "alice", "bob")
	fake := livytest.New()
	defer fake.Close()
	tokenFile := filepath.Join(t.TempDir(), "hub-token")
	if err := os.WriteFile(tokenFile, []byte(hub.ServiceToken), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Livy.URL = fake.URL()
	cfg.Auth.HubToken.Enabled = true
	cfg.Auth.HubToken.CacheTTL = time.Minute
	cfg.JupyterHub.URL = hub.URL
	cfg.JupyterHub.Timeout = 2 * time.Second
	cfg.JupyterHub.Token = secrets.Ref{File: tokenFile}
	f := startFaultGateway(t, cfg)
	alice, bob := "token "+hub.TokenFor(t, "alice"), "token "+hub.TokenFor(t, "bob")

	if st, body, _ := f.call(alice, "", "GET", "/sessions", ""); st != 200 {
		t.Fatalf("alice's token before the fault: %d %s", st, body)
	}
	f.baseline()

	hub.Stop(t)
	if st, body, _ := f.call(alice, "", "GET", "/sessions", ""); st != 200 {
		t.Errorf("alice's token, verified before the Hub went down: %d %s, want 200 (cached)", st, body)
	}
	st, body, took := f.call(bob, "", "GET", "/sessions", "")
	if st != 503 || !strings.Contains(body, `"msg"`) {
		t.Errorf("bob's token with the Hub down: %d %s, want a 503 with a message", st, body)
	}
	if took > 3*time.Second {
		t.Errorf("bob's token with the Hub down took %v: more than the Hub timeout", took)
	}

	hub.Restart(t)
	if st, body, _ := f.call(bob, "", "GET", "/sessions", ""); st != 200 {
		t.Errorf("bob's token after the Hub is back: %d %s, want 200", st, body)
	}
	if st, _, _ := f.call("token not-a-token", "", "GET", "/sessions", ""); st != 401 {
		t.Errorf("a bad token after the Hub is back: %d, want 401", st)
	}
	f.noLeak()
}

// killableLivy serves the fake Livy on a fixed address that the test can
// kill (listener and every open connection, as a crashed JVM does) and
// bring back on the same port. Requests to a path containing "/slow" are
// held until released or until the connection dies; delay slows every
// answer.
type killableLivy struct {
	fake  *livytest.Fake
	addr  string
	mu    sync.Mutex
	srv   *http.Server
	delay atomic.Int64 // nanoseconds
	held  chan struct{}
}

func newKillableLivy(t *testing.T) *killableLivy {
	k := &killableLivy{fake: livytest.New(), held: make(chan struct{}, 16)}
	t.Cleanup(k.fake.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k.addr = ln.Addr().String()
	k.serve(ln)
	t.Cleanup(k.kill)
	return k
}

func (k *killableLivy) URL() string { return "http://" + k.addr }

func (k *killableLivy) serve(ln net.Listener) {
	h := k.fake.Server.Config.Handler
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/slow") {
			k.held <- struct{}{}
			<-r.Context().Done() // until the connection dies
			return
		}
		if d := time.Duration(k.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		h.ServeHTTP(w, r)
	})}
	k.mu.Lock()
	k.srv = srv
	k.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// kill closes the listener and every connection at once.
func (k *killableLivy) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.srv != nil {
		_ = k.srv.Close()
		k.srv = nil
	}
}

// restart listens on the same address again; Livy comes back without its
// sessions, as a Livy without session recovery does.
func (k *killableLivy) restart(t *testing.T) {
	t.Helper()
	k.fake.Restart()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ln, err = net.Listen("tcp", k.addr); err == nil {
			k.serve(ln)
			return
		}
	}
	t.Fatalf("listening on %s again: %v", k.addr, err)
}

// startLivyFaultGateway starts a gateway in front of livy (with that
// timeout) and a real slapd, creates a session as alice before the fault
// and takes the goroutine baseline. It returns alice's password.
func startLivyFaultGateway(t *testing.T, livy *killableLivy, timeout time.Duration) (*faultGateway, string) {
	t.Helper()
	dir := ldaptest.Start(t)
	cfg := config.Default()
	cfg.Livy.URL = livy.URL()
	cfg.Livy.Timeout = timeout
	cfg.Auth.LDAP = ldapAuth(dir)
	f := startFaultGateway(t, cfg)
	pw := dir.Passwords["alice"]
	if st, body, _ := f.call("alice", pw, "POST", "/sessions", `{"kind":"pyspark"}`); st != 201 {
		t.Fatalf("create before the fault: %d %s", st, body)
	}
	f.baseline()
	return f, pw
}

// Livy killed mid-request and restarted: the request in flight is answered
// at once with a 502 (not held until a timeout, not a 401), every call while
// Livy is gone is a quick 502/503 and /readyz says not ready; once Livy
// listens again the same gateway serves again, creates included.
func TestFaultLivyKilledMidRequest(t *testing.T) {
	livy := newKillableLivy(t)
	f, pw := startLivyFaultGateway(t, livy, 10*time.Second)

	type answer struct {
		status int
		body   string
		took   time.Duration
	}
	inflight := make(chan answer, 1)
	go func() {
		st, body, took := f.call("alice", pw, "GET", "/sessions/0/slow", "")
		inflight <- answer{st, body, took}
	}()
	select {
	case <-livy.held:
	case <-time.After(callTimeout):
		t.Fatal("the request never reached Livy")
	}
	killed := time.Now()
	livy.kill()
	select {
	case a := <-inflight:
		if a.status != 502 || !strings.Contains(a.body, `"msg"`) {
			t.Errorf("the request in flight when Livy died: %d %s, want a 502 with a message", a.status, a.body)
		}
		if since := time.Since(killed); since > 2*time.Second {
			t.Errorf("the request in flight was answered %v after Livy died, want at once", since)
		}
	case <-time.After(callTimeout):
		t.Fatal("the request in flight when Livy died hangs")
	}

	for _, c := range []struct{ method, path, body string }{
		{"GET", "/sessions", ""}, {"GET", "/sessions/0", ""}, {"POST", "/sessions", `{"kind":"pyspark"}`},
	} {
		st, body, took := f.call("alice", pw, c.method, c.path, c.body)
		if (st != 502 && st != 503) || took > 2*time.Second {
			t.Errorf("%s %s with Livy down: %d in %v %s, want a quick 502/503", c.method, c.path, st, took, body)
		}
	}
	if st, _, _ := f.call("", "", "GET", "/readyz", ""); st != 503 {
		t.Errorf("/readyz with Livy down: %d, want 503", st)
	}

	livy.restart(t)
	if st, _, _ := f.call("", "", "GET", "/readyz", ""); st != 200 {
		t.Errorf("/readyz after Livy is back: %d, want 200", st)
	}
	if st, body, _ := f.call("alice", pw, "POST", "/sessions", `{"kind":"pyspark"}`); st != 201 || !strings.Contains(body, `"proxyUser":"alice"`) {
		t.Errorf("create after Livy is back: %d %s, want 201", st, body)
	}
	if st, body, _ := f.call("alice", pw, "GET", "/sessions", ""); st != 200 || !strings.Contains(body, `"total":1`) {
		t.Errorf("list after Livy is back: %d %s, want alice's one new session", st, body)
	}
	f.noLeak()
}

// Livy slow: an answer slower than livy.timeout is a 504 at that timeout,
// not a hang; one just under it goes through; a client that gives up on a
// slow call frees everything it held; when Livy is quick again so is the
// gateway.
func TestFaultLivySlow(t *testing.T) {
	livy := newKillableLivy(t)
	const timeout = time.Second
	f, pw := startLivyFaultGateway(t, livy, timeout)

	livy.delay.Store(int64(timeout / 2))
	if st, body, took := f.call("alice", pw, "GET", "/sessions/0", ""); st != 200 || took < timeout/2 {
		t.Errorf("Livy slow but within the timeout: %d in %v %s, want 200", st, took, body)
	}
	livy.delay.Store(int64(3 * timeout))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, body, took := f.call("alice", pw, "GET", "/sessions/0", "")
			if st != 504 || !strings.Contains(body, `"msg"`) || took > timeout+time.Second {
				t.Errorf("Livy slower than livy.timeout: %d in %v %s, want a 504 at the timeout", st, took, body)
			}
		}()
	}
	wg.Wait()
	// A client that gives up before Livy answers.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	req, _ := http.NewRequestWithContext(ctx, "GET", f.url+"/sessions/0", nil)
	req.SetBasicAuth("alice", pw)
	if _, err := f.client.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a client giving up: %v", err)
	}
	cancel()

	livy.delay.Store(0)
	if st, body, took := f.call("alice", pw, "GET", "/sessions/0", ""); st != 200 || took > timeout/2 {
		t.Errorf("Livy quick again: %d in %v %s, want a quick 200", st, took, body)
	}
	f.noLeak()
}

// Store unwritable (PostgreSQL stopped): proxying goes on (creates, lists,
// deletes answer as usual, logins too); every audit event the store could
// not take is counted in its Stats and in livygate_store_dropped_total; the
// outage is one log line, not one per request, and its end one more; when
// PostgreSQL is back events are written again without touching the gateway.
func TestFaultStoreUnwritable(t *testing.T) {
	dir := ldaptest.Start(t)
	pg := pgtest.Start(t)
	fake := livytest.New()
	defer fake.Close()
	dsnFile := filepath.Join(t.TempDir(), "store-url")
	if err := os.WriteFile(dsnFile, []byte(pg.NewDatabase(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Livy.URL = fake.URL()
	cfg.Auth.LDAP = ldapAuth(dir)
	cfg.Auth.AdminGroup = ldaptest.AdminGroup
	cfg.Store.Driver = store.DriverPostgres
	cfg.Store.Path = ""
	cfg.Store.URL = secrets.Ref{File: dsnFile}
	f := startFaultGateway(t, cfg)
	pw := dir.Passwords
	stats := f.gw.Store.Stats
	waitWritten := func(what string, want uint64) {
		t.Helper()
		for deadline := time.Now().Add(callTimeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if st := stats(); st.Queued == 0 && st.Written+st.Dropped >= want {
				return
			}
		}
		t.Fatalf("%s: the store's queue did not settle: %+v", what, stats())
	}

	if st, body, _ := f.call("alice", pw["alice"], "POST", "/sessions", `{"kind":"pyspark"}`); st != 201 {
		t.Fatalf("create before the fault: %d %s", st, body)
	}
	waitWritten("before the fault", 1)
	before := stats()
	if before.Written == 0 || before.Dropped != 0 {
		t.Fatalf("store before the fault: %+v", before)
	}
	f.baseline()

	pg.Stop()
	const n = 5
	for i := 0; i < n; i++ {
		st, body, took := f.call("alice", pw["alice"], "POST", "/sessions", `{"kind":"pyspark"}`)
		if st != 201 || took > 3*time.Second {
			t.Errorf("create %d with the store down: %d in %v %s, want 201", i, st, took, body)
		}
		if st, _, _ := f.call("alice", pw["alice"], "GET", "/sessions", ""); st != 200 {
			t.Errorf("list with the store down: %d", st)
		}
	}
	if st, _, took := f.call("alice", "wrong", "GET", "/sessions", ""); st != 401 || took > 5*time.Second {
		t.Errorf("a wrong password with the store down: %d in %v, want 401 (counted in memory)", st, took)
	}
	waitWritten("store down", before.Written+n)
	down := stats()
	if down.Dropped < n || down.Written != before.Written {
		t.Errorf("store down: %+v, want at least %d dropped and nothing more written", down, n)
	}
	if got := f.logged("store: writing audit events failed"); got != 1 {
		t.Errorf("%d log lines for the failed writes, want exactly 1", got)
	}
	// The scrape's own request may add an event (dropped too) while it runs.
	if got, now := metricValue(t, f, "carol", pw["carol"], "livygate_store_dropped_total"), stats().Dropped; got < float64(down.Dropped) || got > float64(now) {
		t.Errorf("livygate_store_dropped_total = %v, want the store's count (%d to %d)", got, down.Dropped, now)
	}

	pg.Restart()
	// The pool's connections died with the server; a write or two may still
	// fail while it notices, so wait for one that lands.
	var after store.Stats
	for deadline := time.Now().Add(callTimeout); ; time.Sleep(100 * time.Millisecond) {
		if st, body, _ := f.call("alice", pw["alice"], "DELETE", "/sessions/0", ""); st != 200 && st != 404 {
			t.Fatalf("delete after the store is back: %d %s", st, body)
		}
		waitWritten("store back", stats().Written+stats().Dropped+1)
		if after = stats(); after.Written > down.Written {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store never took a write again: %+v", after)
		}
	}
	if got := f.logged("store: writing audit events again"); got != 1 {
		t.Errorf("%d log lines for the store's recovery, want 1", got)
	}
	events, total, err := f.gw.Store.Audit(context.Background(), store.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatalf("reading the store after it is back: %v", err)
	}
	if len(events) == 0 || total == 0 {
		t.Error("no audit event in the store after it is back")
	}
	f.noLeak()
}

// metricValue reads one unlabelled series from /metrics, as an admin.
func metricValue(t *testing.T, f *faultGateway, user, password, name string) float64 {
	t.Helper()
	st, body, _ := f.call(user, password, "GET", "/metrics", "")
	if st != 200 {
		t.Fatalf("/metrics: %d %s", st, body)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return x
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
