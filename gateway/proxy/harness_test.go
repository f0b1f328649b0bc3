package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/livygate/livygate/gateway/audit/audittest"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/auth/authtest"
	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/server"
	"github.com/livygate/livygate/livy/livytest"
)

// users is the unit tests' directory: Basic user → identity (password "pw").
var users = map[string]*auth.Identity{
	"alice": {User: "alice", Groups: []string{"analysts"}},
	"bob":   {User: "bob", Groups: []string{"analysts"}},
	"carol": {User: "carol", Groups: []string{"livygate-admins"}, Admin: true},
}

type harness struct {
	t       testing.TB
	livy    *livytest.Fake
	gateway *httptest.Server
	audit   *audittest.Recorder
	logs    *test.Hook
	proxy   *proxy.Proxy
}

type option func(*proxy.Options, *policy.Config)

func withAdminImpersonation(o *proxy.Options, _ *policy.Config) { o.AdminsMayImpersonate = true }

func newHarness(t testing.TB, opts ...option) *harness {
	t.Helper()
	fake := livytest.New()
	t.Cleanup(fake.Close)
	return newHarnessFor(t, fake, fake.URL(), opts...)
}

func newHarnessFor(t testing.TB, fake *livytest.Fake, upstream string, opts ...option) *harness {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	pcfg := policy.Default()
	o := proxy.Options{
		Upstream:      u,
		Transport:     &http.Transport{ResponseHeaderTimeout: 2 * time.Second},
		Timeout:       2 * time.Second,
		MaxBodyBytes:  1 << 20,
		OwnerCacheTTL: time.Minute,
	}
	for _, opt := range opts {
		opt(&o, &pcfg)
	}
	pol, err := policy.New(pcfg)
	if err != nil {
		t.Fatal(err)
	}
	o.Policy = pol
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	o.Log = log
	p := proxy.New(o)
	sink := &audittest.Recorder{}
	srv := server.New(server.Options{
		Listen: server.Default(), Realm: "livygate", Authn: authtest.Static{Users: users, Password: "pw"},
		Livy: p, Ready: p.Livy(), Audit: sink, Log: log,
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &harness{t: t, livy: fake, gateway: ts, audit: sink, logs: hook, proxy: p}
}

// answer is a gateway response, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, a.body)
	}
	return m
}

func (a answer) msg(t testing.TB) string {
	t.Helper()
	m, _ := a.json(t)["msg"].(string)
	return m
}

// do sends a request as user ("" for none) with an optional JSON body.
func (h *harness) do(user, method, path string, body any, headers ...string) answer {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = strings.NewReader(string(raw))
	}
	req, err := http.NewRequest(method, h.gateway.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-By", "sparkmagic")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if user != "" {
		req.SetBasicAuth(user, "pw")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// createAs makes a session through the gateway and returns its id.
func (h *harness) createAs(user string, body map[string]any) int {
	h.t.Helper()
	a := h.do(user, http.MethodPost, "/sessions", body)
	if a.status != http.StatusCreated {
		h.t.Fatalf("create as %s: %d %s", user, a.status, a.body)
	}
	return int(a.json(h.t)["id"].(float64))
}

// statusOf sends req and returns its answer's status.
func statusOf(t *testing.T, req *http.Request) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func expectStatus(t *testing.T, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Fatalf("status %d, want %d; body %s", a.status, want, a.body)
	}
}
