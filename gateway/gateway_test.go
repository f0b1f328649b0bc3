package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/logging/logtest"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/livy/livytest"
)

// TestWiring checks what gateway.New puts together for the admin UI: the
// UI mounted beside the JSON admin endpoint, and audit events reaching the
// store as well as the log.
func TestWiring(t *testing.T) {
	cfg := fakeLivyConfig(t)
	cfg.Store.Path = filepath.Join(t.TempDir(), "livygate.db")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := logtest.Discard()
	g, err := gateway.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Server.Handler())
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(method, path string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader("{}"))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get("GET", "/admin/ui/login"); r.StatusCode != 200 || r.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("login form: %d", r.StatusCode)
	}
	if r := get("GET", "/admin/ui/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("UI without login: %d", r.StatusCode)
	}
	if r := get("GET", "/admin/sync"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("JSON admin endpoint without credentials: %d", r.StatusCode)
	}
	if r := get("POST", "/batches"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /batches without credentials: %d", r.StatusCode)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		events, _, err := g.Store.Audit(context.Background(), store.AuditQuery{Action: "create batch"})
		if err == nil && len(events) == 1 && events[0].Outcome == "refused" && events[0].Reason == "no credentials" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the refused POST did not reach the store: %+v, %v", events, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStoreOffMeansNoUI(t *testing.T) {
	cfg := fakeLivyConfig(t)
	cfg.Store.Path, cfg.UI.Enabled = "", false
	log := logtest.Discard()
	g, err := gateway.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if g.Store != nil {
		t.Error("a store without store.path")
	}
	w := httptest.NewRecorder()
	g.Server.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/admin/ui/login", nil))
	if w.Code != http.StatusUnauthorized { // the /admin/ JSON routes' authentication answers
		t.Errorf("/admin/ui/login with the UI off: %d", w.Code)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}

// fakeLivyConfig is the default configuration in front of a fake Livy
// (closed when the test ends), with an LDAP authenticator never dialled.
func fakeLivyConfig(t *testing.T) config.Config {
	fake := livytest.New()
	t.Cleanup(fake.Close)
	cfg := config.Default()
	cfg.Livy.URL = fake.URL()
	withUnusedLDAP(&cfg)
	return cfg
}

// withUnusedLDAP configures the one authenticator a gateway needs, never
// dialled by these tests.
func withUnusedLDAP(cfg *config.Config) {
	cfg.Auth.LDAP.URL = "ldap://127.0.0.1:1"
	cfg.Auth.LDAP.AllowInsecure = true
	cfg.Auth.LDAP.UserBaseDN = "ou=people,dc=x"
}
