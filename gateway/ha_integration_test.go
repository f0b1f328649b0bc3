//go:build integration

package gateway_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus/hooks/test"

	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/ldap/ldaptest"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/store/pgtest"
	"github.com/livygate/livygate/livy/livytest"
)

// TestIntegrationPostgresOutage runs the gateway on a real PostgreSQL store
// and stops PostgreSQL in the middle of traffic: polls of an existing
// session and logins the credential cache knows keep answering 200 without
// waiting on the database, mutating calls are still served (their audit
// events are counted as dropped and logged), a failed login is still
// refused and counted in memory; when PostgreSQL comes back the store
// writes again by itself.
func TestIntegrationPostgresOutage(t *testing.T) {
	pg := pgtest.Start(t)
	dsn := pg.NewDatabase(t)
	dir := ldaptest.Start(t)
	fake := livytest.New()
	defer fake.Close()

	t.Setenv("LIVYGATE_TEST_STORE_URL", dsn)
	cfg := config.Default()
	cfg.Livy.URL = fake.URL()
	cfg.Auth.LDAP = ldapLogin(dir)
	cfg.Auth.AdminGroup = ldaptest.AdminGroup
	cfg.Store.Driver = store.DriverPostgres
	cfg.Store.URL = secrets.Ref{Env: "LIVYGATE_TEST_STORE_URL"}
	g, gw, hook := serveGateway(t, cfg)
	client := &http.Client{Timeout: 10 * time.Second}
	pw := dir.Passwords

	call := func(user, password, method, path, body string) (int, string, time.Duration) {
		t.Helper()
		req, _ := http.NewRequest(method, gw.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Requested-By", "test")
		req.SetBasicAuth(user, password)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), time.Since(start)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// auditRows counts the statements' audit events; -1 while the
	// database does not answer (this test's own pool reconnects too).
	auditRows := func() int {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE path = '/sessions/0/statements' AND method = 'POST'`).Scan(&n); err != nil {
			return -1
		}
		return n
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Before the outage: a session, a statement, and the statement's audit
	// event in PostgreSQL.
	if status, body, _ := call("alice", pw["alice"], "POST", "/sessions", `{"kind":"pyspark"}`); status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	if status, body, _ := call("alice", pw["alice"], "POST", "/sessions/0/statements", `{"code":"1+1"}`); status != 201 {
		t.Fatalf("statement: %d %s", status, body)
	}
	waitFor("the statement's audit event in PostgreSQL", func() bool { return auditRows() == 1 })
	// bob's login is cached too, and then he gets a password wrong once.
	if status, _, _ := call("bob", pw["bob"], "GET", "/sessions", ""); status != 200 {
		t.Fatalf("bob: %d", status)
	}

	pg.Stop()
	stats0 := g.Store.Stats()

	// Polls through the outage, as a notebook's: each answers 200, and
	// fast (no wait on the database).
	var slowest time.Duration
	for i := 0; i < 50; i++ {
		for _, path := range []string{"/sessions/0", "/sessions/0/state", "/sessions/0/statements/0", "/sessions"} {
			status, body, took := call("alice", pw["alice"], "GET", path, "")
			if status != 200 {
				t.Fatalf("poll %s with PostgreSQL down: %d %s", path, status, body)
			}
			slowest = max(slowest, took)
		}
	}
	if slowest > 500*time.Millisecond {
		t.Errorf("slowest poll with PostgreSQL down took %v; a poll must not wait on the database", slowest)
	}
	t.Logf("200 polls with PostgreSQL down, slowest %v", slowest)
	if status, _, _ := call("bob", pw["bob"], "GET", "/sessions", ""); status != 200 {
		t.Errorf("bob's cached login with PostgreSQL down: %d", status)
	}
	// A mutating call is served; its audit event cannot be stored: counted
	// and logged, never a failure for the caller.
	if status, body, took := call("alice", pw["alice"], "POST", "/sessions/0/statements", `{"code":"2+2"}`); status != 201 || took > time.Second {
		t.Errorf("statement with PostgreSQL down: %d %s in %v", status, body, took)
	}
	waitFor("the dropped audit event to be counted", func() bool { return g.Store.Stats().Dropped > stats0.Dropped })
	if !logged(hook, "store: writing audit events failed") {
		t.Error("the failed audit write was not logged")
	}
	// A wrong password is still refused, and counted in memory.
	if status, _, took := call("bob", "wrong", "GET", "/sessions", ""); status != 401 || took > 3*time.Second {
		t.Errorf("wrong password with PostgreSQL down: %d in %v", status, took)
	}
	if !logged(hook, "auth: the store does not answer") {
		t.Error("the lockout's fallback to memory was not logged")
	}

	// PostgreSQL comes back: the next write is stored, without a restart
	// of the gateway (the pool's dead connections are replaced).
	// Both events made during the outage (the statement, the refused
	// login) have been tried and dropped before PostgreSQL comes back.
	waitFor("the outage's two events to be dropped", func() bool {
		st := g.Store.Stats()
		return st.Queued == 0 && st.Dropped == stats0.Dropped+2
	})
	dropped := g.Store.Stats().Dropped
	pg.Restart()
	if status, body, _ := call("alice", pw["alice"], "POST", "/sessions/0/statements", `{"code":"3+3"}`); status != 201 {
		t.Fatalf("statement after the restart: %d %s", status, body)
	}
	waitFor("the first event after the restart in PostgreSQL", func() bool { return auditRows() == 2 })
	if !logged(hook, "store: writing audit events again") {
		t.Error("the store's recovery was not logged")
	}
	if d := g.Store.Stats().Dropped; d != dropped {
		t.Errorf("%d events dropped after PostgreSQL came back", d-dropped)
	}
	t.Logf("store stats after the outage: %+v", g.Store.Stats())
}

func logged(h *test.Hook, prefix string) bool {
	for _, e := range h.AllEntries() {
		if strings.HasPrefix(e.Message, prefix) {
			return true
		}
	}
	return false
}
