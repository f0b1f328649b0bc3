package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus/hooks/test"

	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/ui"
)

// Two replicas keep logins in one store: a login on A works on B, with the
// same CSRF token, and a logout on B ends it on A too.
func TestLoginsSharedAcrossReplicas(t *testing.T) {
	log, _ := test.NewNullLogger()
	shared, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "shared.db"), store.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shared.Close() })
	share := func(o *ui.Options) { o.Sessions = shared }
	a, b := newHarness(t, share), newHarness(t, share)

	c, ans := login(t, a, adminUser, adminPass)
	if ans.status != http.StatusSeeOther {
		t.Fatalf("login on A: %d", ans.status)
	}
	// The cookie jar ignores ports: c sends A's cookie to B as a browser
	// would to one load-balanced address.
	page := b.do(c, "GET", "/admin/ui/sync", "", "", nil)
	if page.status != 200 || !strings.Contains(page.body, adminUser) {
		t.Fatalf("A's login on B: %d", page.status)
	}
	token := csrf(t, page.body)
	if token != csrf(t, a.do(c, "GET", "/admin/ui/sync", "", "", nil).body) {
		t.Error("the replicas show different CSRF tokens for one login")
	}
	if out := b.do(c, "POST", "/admin/ui/logout", "", "", url.Values{"csrf": {token}}); out.status != http.StatusSeeOther {
		t.Fatalf("logout on B: %d", out.status)
	}
	// The logout cleared the browser's cookie; an old copy of it is dead on A too.
	checked := false
	for _, ck := range (&http.Response{Header: ans.header}).Cookies() {
		if ck.Name == "livygate_admin" {
			checked = true
			req, _ := http.NewRequest("GET", a.srv.URL+"/admin/ui/sync", nil)
			req.AddCookie(ck)
			resp, err := a.client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Errorf("A still honours a login ended on B: %d", resp.StatusCode)
			}
		}
	}
	if !checked {
		t.Error("the login set no session cookie")
	}
}
