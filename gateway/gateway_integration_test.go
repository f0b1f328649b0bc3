//go:build integration

package gateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus/hooks/test"

	"github.com/livygate/livygate/gateway"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/ldap/ldaptest"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/livy/livytest"
)

// ldapLogin is the auth.ldap section for slapd dir, its bind password read
// from the file the server wrote.
func ldapLogin(dir *ldaptest.Server) auth.LDAPConfig {
	return auth.LDAPConfig{Config: dir.Config(), BindPassword: secrets.Ref{File: dir.BindPasswordFile}}
}

// serveGateway builds the gateway from cfg as `livygate serve` does, after
// the same validation, logging to the returned hook, and serves it; both
// are closed when the test ends.
func serveGateway(t *testing.T, cfg config.Config) (*gateway.Gateway, *httptest.Server, *test.Hook) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	log, hook := test.NewNullLogger()
	g, err := gateway.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	gw := httptest.NewServer(g.Server.Handler())
	t.Cleanup(gw.Close)
	return g, gw, hook
}

// TestIntegrationGatewayWithRealLDAP wires the gateway from configuration,
// exactly as `livygate serve` does, in front of a real slapd and a fake Livy:
// the caller LDAP names is the one Livy runs the session as, the LDAP admin
// group makes an admin, and a directory outage is a 503.
func TestIntegrationGatewayWithRealLDAP(t *testing.T) {
	dir := ldaptest.Start(t)
	fake := livytest.New()
	defer fake.Close()

	cfg := config.Default()
	cfg.Livy.URL = fake.URL()
	cfg.Auth.LDAP = ldapLogin(dir)
	cfg.Auth.AdminGroup = ldaptest.AdminGroup
	cfg.Store.Path = filepath.Join(t.TempDir(), "livygate.db")
	_, gw, hook := serveGateway(t, cfg)

	call := func(user, password, method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, gw.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Requested-By", "test")
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	pw := dir.Passwords

	status, body := call("alice", pw["alice"], "POST", "/sessions", `{"kind":"pyspark","proxyUser":"alice"}`)
	if status != 201 {
		t.Fatalf("alice create: %d %s", status, body)
	}
	var sent map[string]any
	_ = json.Unmarshal(fake.Last().Body, &sent)
	if sent["proxyUser"] != "alice" || fake.Last().Header.Get("Authorization") != "" {
		t.Errorf("Livy received %v with headers %v", sent, fake.Last().Header)
	}
	if status, _ := call("bob", pw["bob"], "POST", "/sessions", `{"kind":"pyspark"}`); status != 201 {
		t.Fatalf("bob create: %d", status)
	}
	// The user name as typed may differ in case; the session runs as the
	// directory's canonical name.
	if status, body := call("ALICE", pw["alice"], "GET", "/sessions", ""); status != 200 || strings.Count(body, `"proxyUser":"alice"`) != 1 || strings.Contains(body, "bob") {
		t.Errorf("alice's list: %d %s", status, body)
	}
	if status, body := call("carol", pw["carol"], "GET", "/sessions", ""); status != 200 || !strings.Contains(body, `"total":2`) {
		t.Errorf("admin carol's list: %d %s", status, body)
	}
	if status, _ := call(ldaptest.Dave, pw[ldaptest.Dave], "GET", "/sessions", ""); status != 200 {
		t.Errorf("user with LDAP-special characters: %d", status)
	}
	for _, bad := range []struct{ user, password string }{
		{"alice", "wrong"}, {"alice", ""}, {"*", pw["alice"]}, {"*)(uid=*", pw["alice"]}, {"nobody", "x"},
	} {
		if status, body := call(bad.user, bad.password, "GET", "/sessions", ""); status != 401 || !strings.Contains(body, `"msg"`) {
			t.Errorf("%q/%q: %d %s", bad.user, bad.password, status, body)
		}
	}

	// The sync's admin endpoint: admins only.
	if status, body := call("carol", pw["carol"], "GET", "/admin/sync", ""); status != 200 || !strings.Contains(body, `"runs":[]`) {
		t.Errorf("admin carol on /admin/sync: %d %s", status, body)
	}
	if status, _ := call("alice", pw["alice"], "GET", "/admin/sync", ""); status != 403 {
		t.Errorf("alice on /admin/sync: %d, want 403", status)
	}

	dir.Stop()
	if status, body := call("bob", pw["bob"]+"-not-cached", "GET", "/sessions", ""); status != 503 {
		t.Errorf("LDAP down: %d %s, want 503", status, body)
	}
	for _, e := range hook.AllEntries() {
		line, _ := e.String()
		for _, p := range pw {
			if strings.Contains(line, p) {
				t.Fatalf("a password reached the log: %s", line)
			}
		}
	}
}
