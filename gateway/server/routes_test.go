package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/sirupsen/logrus/hooks/test"

	"github.com/livygate/livygate/gateway/auth"
)

// echo answers with its name and the "file" path value, so a test sees
// which line of the table took a request.
type echo string

func (e echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, string(e)+r.PathValue("file"))
}

type echoKeys struct{}

func (echoKeys) JWKS(w http.ResponseWriter, r *http.Request)     { echo("jwks").ServeHTTP(w, r) }
func (echoKeys) AllPEM(w http.ResponseWriter, r *http.Request)   { echo("pem").ServeHTTP(w, r) }
func (echoKeys) PEMByKID(w http.ResponseWriter, r *http.Request) { echo("kid:").ServeHTTP(w, r) }
func (echoKeys) OpenIDConfiguration(w http.ResponseWriter, r *http.Request) {
	echo("discovery").ServeHTTP(w, r)
}

func TestRoutingTable(t *testing.T) {
	log, _ := test.NewNullLogger()
	admin := fixedAuth{id: &auth.Identity{User: "carol", Admin: true}}
	full := New(Options{
		Listen: Default(), Authn: admin, Livy: echo("livy"), Ready: okPinger{},
		AdminSync: echo("sync"), AdminReaper: echo("reaper"), UI: echo("ui"), Keys: echoKeys{}, Token: echo("token"),
		Audit: nopSink{}, Log: log,
	})
	bare := newTestServer(admin, echo("livy"), Default())
	cases := []struct {
		srv          *Server
		method, path string
		status       int
		body         string
	}{
		{full, "GET", "/healthz", 200, `{"status":"ok"}`},
		{full, "POST", "/healthz", 200, "livy"},
		{full, "GET", "/.well-known/jwks.json", 200, "jwks"},
		{full, "GET", "/.well-known/openid-configuration", 200, "discovery"},
		{full, "HEAD", "/.well-known/livygate/keys.pem", 200, ""},
		{full, "GET", "/.well-known/livygate/keys/k1.pem", 200, "kid:k1.pem"},
		{full, "GET", "/.well-known/livygate/keys/a/b.pem", 404, `{"msg":"not found"`},
		{full, "POST", "/.well-known/jwks.json", 404, `{"msg":"not found"`},
		{full, "GET", "/.well-known/nothing", 404, `{"msg":"not found"`},
		{full, "POST", "/token", 200, "token"},
		{full, "GET", "/admin/sync", 200, "sync"},
		{full, "GET", "/admin/reaper", 200, "reaper"},
		{full, "POST", "/admin/sync", 404, `{"msg":"no such admin endpoint"`},
		{full, "GET", "/admin/nothing", 404, `{"msg":"no such admin endpoint"`},
		{full, "GET", "/admin/ui/users", 200, "ui"},
		{full, "GET", "/sessions/1", 200, "livy"},
		{bare, "GET", "/.well-known/jwks.json", 200, "livy"},
		{bare, "GET", "/token", 200, "livy"},
		{bare, "GET", "/admin/ui/users", 404, `{"msg":"no such admin endpoint"`},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		c.srv.Handler().ServeHTTP(w, httptest.NewRequest(c.method, c.path, nil))
		if body := w.Body.String(); w.Code != c.status || len(body) < len(c.body) || body[:len(c.body)] != c.body {
			t.Errorf("%s %s: %d %q, want %d %q", c.method, c.path, w.Code, body, c.status, c.body)
		}
	}
}

// The hot path's prefixes come from the table, shortest first wins.
func TestRouterPrefixesComeFromTheTable(t *testing.T) {
	o := Options{Livy: echo("livy"), AdminSync: echo("sync"), UI: echo("ui"), Keys: echoKeys{}, Token: echo("token")}
	r := newRouter(o.routes(), o.guard)
	want := []string{"/healthz", "/readyz", "/.well-known/", "/token", "/admin/"}
	if !slices.Equal(r.prefixes, want) {
		t.Errorf("prefixes %q, want %q", r.prefixes, want)
	}
}
