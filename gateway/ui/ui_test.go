package ui_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/provision"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/ui"
	"github.com/livygate/livygate/hdfs"
)

// pages are every GET page with a text it must show to an admin.
var pages = []struct{ path, want string }{
	{"/admin/ui/", "Reachability"},
	{"/admin/ui/users", "HDFS home"},
	{"/admin/ui/users?q=bo", "bob"},
	{"/admin/ui/sessions", "Spark UI"},
	{"/admin/ui/sessions/batches/0/kill", "Kill batch 0"},
	{"/admin/ui/sync", "Sync now"},
	{"/admin/ui/sync/1", "/user/alice"},
	{"/admin/ui/audit", "Export"},
	{"/admin/ui/keys", "No signing keys are configured"},
}

func seed(t *testing.T, h *harness) {
	t.Helper()
	h.livy.Add("batches", map[string]any{"proxyUser": "alice", "name": "pi"})
	now := time.Now()
	if _, err := h.store.SaveRun(context.Background(), &provision.Run{Started: now, Finished: now, Users: 2,
		Summary: map[hdfs.Action]int{hdfs.ActionCreated: 1, hdfs.ActionDrift: 1},
		Results: []hdfs.Result{{User: "alice", Path: "/user/alice", Action: hdfs.ActionCreated},
			{User: "bob", Path: "/user/bob", Action: hdfs.ActionDrift, Detail: "mode 0777, want 0750"}}}, "timer"); err != nil {
		t.Fatal(err)
	}
}

func wantSecurityHeaders(t *testing.T, path string, a answer) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := a.header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", path, k, got, v)
		}
	}
}

func TestPagesForAdmins(t *testing.T) {
	h := newHarness(t)
	seed(t, h)
	for _, p := range pages {
		a := h.admin("GET", p.path, nil)
		if a.status != 200 || !strings.Contains(a.body, p.want) {
			t.Errorf("GET %s: %d, want 200 with %q:\n%.2000s", p.path, a.status, p.want, a.body)
		}
		if ct := a.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", p.path, ct)
		}
		wantSecurityHeaders(t, p.path, a)
	}
}

func TestNonAdminRefused(t *testing.T) {
	h := newHarness(t)
	seed(t, h)
	for _, p := range pages {
		a := h.do(nil, "GET", p.path, userUser, userPass, nil)
		if a.status != 403 || !strings.Contains(a.body, "only for gateway administrators") {
			t.Errorf("alice GET %s: %d", p.path, a.status)
		}
		wantSecurityHeaders(t, p.path, a)
	}
	for _, path := range []string{"/admin/ui/sessions/batches/0/kill", "/admin/ui/sync/run", "/admin/ui/sync/dry-run"} {
		if a := h.do(nil, "POST", path, userUser, userPass, url.Values{"csrf": {"x"}}); a.status != 403 {
			t.Errorf("alice POST %s: %d", path, a.status)
		}
	}
	if h.livy.Count("batches") != 1 || len(h.sync.calls) != 0 {
		t.Error("a non-admin's POST acted")
	}
	refused := h.audit.Find("admin kill batch")
	if len(refused) != 1 || refused[0].Outcome != "refused" || refused[0].User != "alice" || refused[0].Reason != "admins only" {
		t.Errorf("refusal audit: %+v", refused)
	}
}

func TestAnonymous(t *testing.T) {
	h := newHarness(t)
	seed(t, h)
	for _, p := range pages {
		a := h.do(nil, "GET", p.path, "", "", nil)
		loc := a.header.Get("Location")
		if a.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/ui/login?next=") {
			t.Errorf("anonymous GET %s: %d to %q", p.path, a.status, loc)
		}
	}
	if a := h.do(nil, "POST", "/admin/ui/sync/run", "", "", url.Values{}); a.status != 401 {
		t.Errorf("anonymous POST: %d", a.status)
	}
	if a := h.do(nil, "GET", "/admin/ui/users", adminUser, "wrong", nil); a.status != 401 {
		t.Errorf("wrong Basic password: %d", a.status)
	}
	// The login form and the stylesheet need no login.
	if a := h.do(nil, "GET", "/admin/ui/login", "", "", nil); a.status != 200 || !strings.Contains(a.body, `type="password"`) {
		t.Errorf("login form: %d", a.status)
	}
	a := h.do(nil, "GET", "/admin/ui/static/style.css", "", "", nil)
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/css") || a.header.Get("Cache-Control") != "public, max-age=3600" {
		t.Errorf("stylesheet: %d %v", a.status, a.header)
	}
	if a := h.do(nil, "GET", "/admin/ui/static/", "", "", nil); a.status != 404 || strings.Contains(a.body, "style.css") {
		t.Errorf("static directory listing: %d %s", a.status, a.body)
	}
	if a := h.do(nil, "GET", "/admin/ui/static/favicon.svg", "", "", nil); a.status != 200 {
		t.Errorf("favicon: %d", a.status)
	}
	if a := h.do(nil, "GET", "/admin/ui", "", "", nil); a.status != http.StatusMovedPermanently {
		t.Errorf("/admin/ui: %d", a.status)
	}
}

// login signs in through the form and returns the client holding the cookie.
func login(t *testing.T, h *harness, user, password string) (*http.Client, answer) {
	t.Helper()
	c := h.client()
	form := h.do(c, "GET", "/admin/ui/login?next=/admin/ui/audit", "", "", nil)
	a := h.do(c, "POST", "/admin/ui/login", "", "", url.Values{
		"user": {user}, "password": {password}, "csrf": {csrf(t, form.body)}, "next": {"/admin/ui/audit"}})
	return c, a
}

func TestLoginForm(t *testing.T) {
	h := newHarness(t)
	c, a := login(t, h, adminUser, adminPass)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/admin/ui/audit" {
		t.Fatalf("login: %d to %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	var session *http.Cookie
	for _, ck := range (&http.Response{Header: a.header}).Cookies() {
		if ck.Name == "livygate_admin" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/admin" ||
		session.Secure || session.MaxAge != 3600 || len(session.Value) < 40 {
		t.Fatalf("session cookie: %+v", session)
	}
	if strings.Contains(a.header.Get("Set-Cookie"), adminPass) {
		t.Fatal("password in a cookie")
	}
	page := h.do(c, "GET", "/admin/ui/sync", "", "", nil)
	if page.status != 200 || !strings.Contains(page.body, "carol") {
		t.Fatalf("with the cookie: %d", page.status)
	}
	// Logging out ends the session on the server, not just in the browser.
	out := h.do(c, "POST", "/admin/ui/logout", "", "", url.Values{"csrf": {csrf(t, page.body)}})
	if out.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", out.status)
	}
	replay := h.client()
	u, _ := url.Parse(h.srv.URL + "/admin/")
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "livygate_admin", Value: session.Value}})
	if a := h.do(replay, "GET", "/admin/ui/", "", "", nil); a.status != http.StatusSeeOther {
		t.Errorf("old session cookie after logout: %d", a.status)
	}
	logins := h.audit.Find("admin login")
	if len(logins) != 1 || logins[0].User != adminUser || logins[0].Outcome != "ok" {
		t.Errorf("login audit: %+v", logins)
	}
}

func TestLoginRefusals(t *testing.T) {
	h := newHarness(t)
	if _, a := login(t, h, userUser, userPass); a.status != 403 || !strings.Contains(a.body, "Only gateway administrators") {
		t.Errorf("non-admin login: %d", a.status)
	}
	if _, a := login(t, h, "down", "x"); a.status != 503 {
		t.Errorf("directory down: %d", a.status)
	}
	if _, a := login(t, h, adminUser, ""); a.status != 401 {
		t.Errorf("empty password: %d", a.status)
	}
	// No CSRF value: refused before any credential check.
	a := h.do(nil, "POST", "/admin/ui/login", "", "", url.Values{"user": {adminUser}, "password": {adminPass}})
	if a.status != 403 || strings.Contains(a.header.Get("Set-Cookie"), "livygate_admin=") {
		t.Errorf("login without CSRF: %d %v", a.status, a.header)
	}
	// The same lockout as Basic: 3 failures lock carol out, also for Basic.
	for i := 0; i < 3; i++ {
		if _, a := login(t, h, adminUser, "guess"); a.status != 401 || !strings.Contains(a.body, "Wrong user name or password") {
			t.Fatalf("failure %d: %d", i, a.status)
		}
	}
	if _, a := login(t, h, adminUser, "guess"); a.status != 429 || a.header.Get("Retry-After") == "" {
		t.Errorf("locked out: %d", a.status)
	}
	if a := h.do(nil, "GET", "/admin/ui/", adminUser, "guess-again", nil); a.status != 429 {
		t.Errorf("Basic while locked out: %d", a.status)
	}
	for _, e := range h.audit.Find("admin login") {
		if strings.Contains(fmt.Sprint(e), "guess") {
			t.Errorf("a password reached the audit trail: %+v", e)
		}
	}
}

func TestSecureCookieUnderTLS(t *testing.T) {
	h := newHarness(t, func(o *ui.Options) { o.Secure = true })
	_, a := login(t, h, adminUser, adminPass)
	if !strings.Contains(a.header.Get("Set-Cookie"), "Secure") {
		t.Errorf("cookie without Secure: %s", a.header.Get("Set-Cookie"))
	}
}

func TestPostsNeedCSRF(t *testing.T) {
	h := newHarness(t)
	seed(t, h)
	c, _ := login(t, h, adminUser, adminPass)
	for _, path := range []string{"/admin/ui/sessions/batches/0/kill", "/admin/ui/sync/run", "/admin/ui/sync/dry-run", "/admin/ui/logout"} {
		for _, form := range []url.Values{{}, {"csrf": {"forged"}}} {
			if a := h.do(c, "POST", path, "", "", form); a.status != 403 || !strings.Contains(a.body, "security token") {
				t.Errorf("cookie POST %s %v: %d", path, form, a.status)
			}
			if a := h.admin("POST", path, form); a.status != 403 {
				t.Errorf("Basic POST %s %v: %d", path, form, a.status)
			}
		}
	}
	// A Basic admin's token does not work for a cookie session, and back.
	basicToken := csrf(t, h.admin("GET", "/admin/ui/sync", nil).body)
	if a := h.do(c, "POST", "/admin/ui/sync/run", "", "", url.Values{"csrf": {basicToken}}); a.status != 403 {
		t.Errorf("Basic token with a cookie: %d", a.status)
	}
	if h.livy.Count("batches") != 1 || len(h.sync.calls) != 0 {
		t.Error("a POST without a valid CSRF token acted")
	}
	for _, r := range h.livy.Requests() {
		if r.Method == "DELETE" {
			t.Errorf("Livy saw %s %s", r.Method, r.Path)
		}
	}
}

func TestKill(t *testing.T) {
	h := newHarness(t)
	seed(t, h)
	id := h.livy.Add("batches", map[string]any{"proxyUser": "bob", "name": "long"})
	path := fmt.Sprintf("/admin/ui/sessions/batches/%d/kill", id)
	confirm := h.admin("GET", path, nil)
	if confirm.status != 200 || !strings.Contains(confirm.body, "<strong>bob</strong>") {
		t.Fatalf("confirmation: %d\n%s", confirm.status, confirm.body)
	}
	h.livy.Reset()
	a := h.admin("POST", path, url.Values{"csrf": {csrf(t, confirm.body)}})
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/admin/ui/sessions?msg=killed") {
		t.Fatalf("kill: %d %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	var deleted bool
	for _, r := range h.livy.Requests() {
		if r.Method == "DELETE" && r.Path == fmt.Sprintf("/batches/%d", id) {
			deleted = true
		}
	}
	if !deleted || h.livy.Count("batches") != 1 {
		t.Errorf("Livy was not asked to delete the batch: %+v", h.livy.Requests())
	}
	list := h.admin("GET", a.header.Get("Location"), nil)
	if !strings.Contains(list.body, fmt.Sprintf("Batch %d was killed.", id)) || strings.Contains(list.body, ">long<") {
		t.Errorf("list after kill:\n%s", list.body)
	}
	ev := h.audit.Find("admin kill batch")
	if len(ev) != 1 || ev[0].User != adminUser || ev[0].Outcome != "ok" || ev[0].SessionID != fmt.Sprint(id) || ev[0].ProxyUser != "bob" {
		t.Errorf("kill audit: %+v", ev)
	}
	// Killing it again: Livy's 404 is a clear page.
	if a := h.admin("POST", path, url.Values{"csrf": {csrf(t, confirm.body)}}); a.status != 404 {
		t.Errorf("second kill: %d", a.status)
	}
	for _, bad := range []string{"/admin/ui/sessions/jobs/1/kill", "/admin/ui/sessions/batches/01/kill", "/admin/ui/sessions/batches/-1/kill"} {
		if a := h.admin("GET", bad, nil); a.status != 400 {
			t.Errorf("GET %s: %d", bad, a.status)
		}
	}
}

func TestSyncNow(t *testing.T) {
	h := newHarness(t)
	h.sync.gate = make(chan struct{})
	page := h.admin("GET", "/admin/ui/sync", nil)
	token := csrf(t, page.body)
	a := h.admin("POST", "/admin/ui/sync/run", url.Values{"csrf": {token}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/admin/ui/sync?msg=sync-started" {
		t.Fatalf("sync now: %d %q", a.status, a.header.Get("Location"))
	}
	if dry := <-h.sync.calls; dry {
		t.Error("Sync now ran a dry run")
	}
	running := h.admin("GET", "/admin/ui/sync?msg=sync-started", nil)
	if !strings.Contains(running.body, "is running since") || !strings.Contains(running.body, "The sync started") {
		t.Errorf("running state not shown:\n%s", running.body)
	}
	// A second run while one is running is refused.
	if a := h.admin("POST", "/admin/ui/sync/dry-run", url.Values{"csrf": {token}}); a.status != http.StatusConflict {
		t.Errorf("concurrent sync: %d", a.status)
	}
	close(h.sync.gate)
	run := <-h.runs
	if run.DryRun {
		t.Error("recorded a dry run")
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Contains(h.admin("GET", "/admin/ui/sync", nil).body, "is running since") {
		if time.Now().After(deadline) {
			t.Fatal("still running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	list := h.admin("GET", "/admin/ui/sync", nil)
	if !strings.Contains(list.body, "admin:carol") || !strings.Contains(list.body, "created 1") {
		t.Errorf("the run is not listed:\n%s", list.body)
	}
	// The dry-run preview.
	if a := h.admin("POST", "/admin/ui/sync/dry-run", url.Values{"csrf": {token}}); a.status != http.StatusSeeOther {
		t.Fatalf("dry run: %d", a.status)
	}
	if dry := <-h.sync.calls; !dry {
		t.Error("the preview was not a dry run")
	}
	<-h.runs
	ev := h.audit.Find("admin sync now")
	if len(ev) != 1 || ev[0].User != adminUser || ev[0].Outcome != "ok" {
		t.Errorf("sync audit: %+v", ev)
	}
	if ev := h.audit.Find("admin sync dry-run"); len(ev) != 2 || ev[0].Outcome != "refused" || ev[1].Outcome != "ok" {
		t.Errorf("dry-run audit: %+v", ev)
	}
}

func TestSyncNotConfigured(t *testing.T) {
	h := newHarness(t, func(o *ui.Options) { o.Sync = nil })
	page := h.admin("GET", "/admin/ui/sync", nil)
	if !strings.Contains(page.body, "not configured") || strings.Contains(page.body, "Sync now</button>") {
		t.Errorf("sync page without a syncer:\n%s", page.body)
	}
	if a := h.admin("POST", "/admin/ui/sync/run", url.Values{"csrf": {csrf(t, page.body)}}); a.status != http.StatusConflict {
		t.Errorf("sync now without a syncer: %d", a.status)
	}
}

func TestUsersPage(t *testing.T) {
	h := newHarness(t)
	seed(t, h)
	h.store.Record(audit.Event{Time: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), User: "alice", Method: "POST", Path: "/batches", Detail: audit.Detail{Outcome: "ok"}})
	h.waitWritten(1)
	a := h.admin("GET", "/admin/ui/users", nil)
	for _, want := range []string{
		`<span class="home-ok">ok</span>`,                   // alice
		`<span class="home-drift">drift</span> <small>mode`, // bob
		`not synced yet`,       // carol
		`2026-03-04 05:06:07Z`, // alice's last action
		`href="/admin/ui/audit?user=alice"`,
		`3 users`, // the service is not a person
	} {
		if !strings.Contains(a.body, want) {
			t.Errorf("users page lacks %q", want)
		}
	}
	// alice runs one live batch.
	if !strings.Contains(a.body, "<td>1</td>") {
		t.Errorf("live sessions not counted:\n%s", a.body)
	}
	if a := h.admin("GET", "/admin/ui/users?q=zz", nil); !strings.Contains(a.body, "0 users") {
		t.Errorf("search: %s", a.body)
	}
	for _, bad := range []string{"?page=0", "?page=x", "?q=" + url.QueryEscape("a\x00b")} {
		if a := h.admin("GET", "/admin/ui/users"+bad, nil); a.status != 400 {
			t.Errorf("users%s: %d", bad, a.status)
		}
	}
}

func TestUsersPaging(t *testing.T) {
	h := newHarness(t)
	h.hub.users = nil
	for i := 0; i < 250; i++ {
		h.hub.users = append(h.hub.users, jupyterUser(fmt.Sprintf("user%03d", i)))
	}
	a := h.admin("GET", "/admin/ui/users?page=3", nil)
	if !strings.Contains(a.body, "user200") || strings.Contains(a.body, "user199") || !strings.Contains(a.body, "page 3 of 3") ||
		!strings.Contains(a.body, `href="/admin/ui/users?page=2&amp;q="`) {
		t.Errorf("page 3:\n%s", a.body)
	}
}

func TestOverview(t *testing.T) {
	h := newHarness(t)
	seed(t, h)
	a := h.admin("GET", "/admin/ui/", nil)
	for _, want := range []string{"<td>Livy</td>", "reachable", "unreachable</span> connection refused",
		"1 <small>batches</small>", "Run 1", "No signing keys are configured."} {
		if !strings.Contains(a.body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
}

func TestKeysPage(t *testing.T) {
	now := time.Now()
	pem := []byte("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n")
	h := newHarness(t, func(o *ui.Options) {
		o.Keys = keys{{Kid: "k2", Algorithm: "ES256", Created: now, NotAfter: now.Add(time.Hour), Signing: true, PublicPEM: pem},
			{Kid: "k1", Algorithm: "ES256", Created: now.Add(-time.Hour), NotAfter: now.Add(time.Minute), PublicPEM: pem}}
	})
	a := h.admin("GET", "/admin/ui/keys", nil)
	if !strings.Contains(a.body, "<td>k2</td>") || !strings.Contains(a.body, "signing") || !strings.Contains(a.body, "verify only") ||
		!strings.Contains(a.body, `href="/admin/ui/keys/k1.pem"`) {
		t.Errorf("keys page:\n%s", a.body)
	}
	d := h.admin("GET", "/admin/ui/keys/k1.pem", nil)
	if d.status != 200 || d.body != string(pem) || d.header.Get("Content-Type") != "application/x-pem-file" {
		t.Errorf("PEM download: %d %q", d.status, d.body)
	}
	// Mint records (never the token) show under the keys.
	h.store.RecordMint(store.MintRecord{JTI: "jti-1", User: "alice", Kid: "k2", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	h.waitWritten(1)
	if a := h.admin("GET", "/admin/ui/keys", nil); !strings.Contains(a.body, "<td>jti-1</td><td>alice</td><td>k2</td>") {
		t.Errorf("mints on the keys page:\n%s", a.body)
	}
	if d := h.admin("GET", "/admin/ui/keys/nope.pem", nil); d.status != 404 {
		t.Errorf("unknown key: %d", d.status)
	}
	if a := h.admin("GET", "/admin/ui/", nil); !strings.Contains(a.body, "k2 (ES256, signing)") {
		t.Errorf("overview keys:\n%s", a.body)
	}
}

func TestAuditFiltersPagingExport(t *testing.T) {
	h := newHarness(t)
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 250; i++ {
		e := audit.Event{Time: base.Add(time.Duration(i) * time.Minute), RequestID: fmt.Sprint("r", i),
			User: []string{"alice", "bob"}[i%2], Method: "POST", Path: "/batches", Detail: audit.Detail{Outcome: "ok"}, Status: 201}
		if i%10 == 0 {
			e.Outcome, e.Reason, e.Status = "refused", "conf spark.x is not allowed", 403
		}
		if i == 8 {
			e.User = "=HYPERLINK(\"http://evil\")"
		}
		h.store.Record(e)
	}
	h.waitWritten(250)
	a := h.admin("GET", "/admin/ui/audit", nil)
	if !strings.Contains(a.body, "250 events") || !strings.Contains(a.body, "page 1 of 3") {
		t.Fatalf("unfiltered:\n%.3000s", a.body)
	}
	a = h.admin("GET", "/admin/ui/audit?user=alice&outcome=refused", nil)
	if !strings.Contains(a.body, "25 events") || strings.Contains(a.body, "<td>bob</td>") {
		t.Errorf("user+outcome filter:\n%.3000s", a.body)
	}
	a = h.admin("GET", "/admin/ui/audit?action=create+batch&from=2026-02-01T01:00&to=2026-02-01T02:00", nil)
	if !strings.Contains(a.body, "60 events") {
		t.Errorf("time filter:\n%.3000s", a.body)
	}
	a = h.admin("GET", "/admin/ui/audit?user=bob&page=2", nil)
	if !strings.Contains(a.body, "125 events") || !strings.Contains(a.body, "page 2 of 2") || !strings.Contains(a.body, `href="/admin/ui/audit?page=1&amp;user=bob"`) {
		t.Errorf("page 2:\n%.3000s", a.body)
	}
	// CSV: every matching row, formulas defused.
	c := h.admin("GET", "/admin/ui/audit?format=csv", nil)
	rows, err := csv.NewReader(strings.NewReader(c.body)).ReadAll()
	if err != nil || len(rows) != 251 || rows[0][3] != "user" || c.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(c.header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("CSV: %d rows, %v, %v", len(rows), err, c.header)
	}
	var sawFormula bool
	for _, r := range rows {
		if strings.Contains(r[3], "HYPERLINK") {
			sawFormula = true
			if !strings.HasPrefix(r[3], "'=") {
				t.Errorf("formula not defused: %q", r[3])
			}
		}
	}
	if !sawFormula {
		t.Error("the formula row is missing")
	}
	j := h.admin("GET", "/admin/ui/audit?format=json&user=alice&outcome=refused", nil)
	var out []map[string]any
	if err := json.Unmarshal([]byte(j.body), &out); err != nil || len(out) != 25 || out[0]["user"] != "alice" ||
		out[0]["action"] != "create batch" || out[0]["reason"] != "conf spark.x is not allowed" {
		t.Errorf("JSON export: %d rows, %v, %v", len(out), err, out[:min(1, len(out))])
	}
	for _, bad := range []string{"?outcome=maybe", "?from=yesterday", "?format=xml", "?page=-1", "?user=" + url.QueryEscape("a\nb")} {
		if a := h.admin("GET", "/admin/ui/audit"+bad, nil); a.status != 400 {
			t.Errorf("audit%s: %d", bad, a.status)
		}
	}
}

func TestEscaping(t *testing.T) {
	h := newHarness(t)
	h.hub.users = []jupyterUserT{jupyterUser("<script>alert(1)</script>")}
	h.livy.Add("batches", map[string]any{"proxyUser": "x", "name": "<img src=x onerror=alert(1)>"})
	for _, p := range []string{"/admin/ui/users", "/admin/ui/sessions"} {
		a := h.admin("GET", p, nil)
		if strings.Contains(a.body, "<script>alert") || strings.Contains(a.body, "<img src=x") {
			t.Errorf("%s rendered markup from data", p)
		}
	}
	if a := h.admin("GET", "/admin/ui/nope", nil); a.status != 404 {
		t.Errorf("unknown page: %d", a.status)
	}
}

func TestSessionExpires(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	h := newHarness(t, func(o *ui.Options) {
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	c, a := login(t, h, adminUser, adminPass)
	if a.status != http.StatusSeeOther {
		t.Fatalf("login: %d", a.status)
	}
	if a := h.do(c, "GET", "/admin/ui/", "", "", nil); a.status != 200 {
		t.Fatalf("fresh session: %d", a.status)
	}
	mu.Lock()
	now = now.Add(time.Hour) // the harness's SessionTTL
	mu.Unlock()
	if a := h.do(c, "GET", "/admin/ui/", "", "", nil); a.status != http.StatusSeeOther {
		t.Errorf("expired session: %d", a.status)
	}
}

func TestProbeTimeoutAndConcurrency(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	slow := func(context.Context) error { <-block; return nil } // ignores its context, like an HDFS dial
	h := newHarness(t, func(o *ui.Options) {
		o.Probes = []ui.Probe{{Name: "Stuck1", Check: slow}, {Name: "Stuck2", Check: slow}, {Name: "Fast", Check: func(context.Context) error { return nil }}}
	})
	start := time.Now()
	a := h.admin("GET", "/admin/ui/", nil)
	took := time.Since(start)
	if a.status != 200 || strings.Count(a.body, "no answer within 2s") != 2 || !strings.Contains(a.body, "<td>Fast</td>\n<td><span class=\"ok\">reachable") {
		t.Errorf("overview with stuck probes:\n%s", a.body)
	}
	if took > 3500*time.Millisecond { // concurrently: one timeout, not two
		t.Errorf("overview took %s with two stuck probes", took)
	}
	start = time.Now()
	h.admin("GET", "/admin/ui/", nil)
	if d := time.Since(start); d > time.Second {
		t.Errorf("the probe results were not cached: %s", d)
	}
}

// hubTokens stands in for auth.HubToken: "Authorization: token …".
type hubTokens map[string]*auth.Identity

func (h hubTokens) Authenticate(_ context.Context, r *http.Request) (*auth.Identity, error) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if scheme != "token" {
		return nil, auth.ErrNoCredentials
	}
	if id := h[tok]; id != nil {
		return id, nil
	}
	return nil, auth.ErrBadCredentials
}

func TestLoginWithHubToken(t *testing.T) {
	tokens := hubTokens{
		"hub-admin-token": {User: "hubadmin", Admin: true, Method: "jupyterhub"},
		"hub-user-token":  {User: "dave", Method: "jupyterhub"},
	}
	h := newHarness(t, func(o *ui.Options) { o.Authn = append(o.Authn.(auth.Chain), tokens) })
	c, a := login(t, h, "", "hub-admin-token")
	if a.status != http.StatusSeeOther {
		t.Fatalf("Hub admin token: %d\n%s", a.status, a.body)
	}
	if page := h.do(c, "GET", "/admin/ui/sync", "", "", nil); page.status != 200 || !strings.Contains(page.body, "hubadmin") {
		t.Errorf("after a token login: %d", page.status)
	}
	if _, a := login(t, h, "", "hub-user-token"); a.status != 403 {
		t.Errorf("a Hub user's token: %d", a.status)
	}
	if _, a := login(t, h, "", "wrong-token"); a.status != 401 {
		t.Errorf("a wrong token: %d", a.status)
	}
	if _, a := login(t, h, "", ""); a.status != 401 {
		t.Errorf("nothing given: %d", a.status)
	}
}
