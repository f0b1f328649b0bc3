package ui_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/audit/audittest"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/logging/logtest"
	"github.com/livygate/livygate/gateway/provision"
	"github.com/livygate/livygate/gateway/server"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/ui"
	"github.com/livygate/livygate/hdfs"
	"github.com/livygate/livygate/jupyterhub"
	"github.com/livygate/livygate/livy"
	"github.com/livygate/livygate/livy/livytest"
)

// Demo directory: carol is an admin, alice is not.
const (
	adminUser, adminPass = "carol", "carol-pw"
	userUser, userPass   = "alice", "alice-pw"
)

type directory struct{}

func (directory) Verify(_ context.Context, user, password string) (*auth.Identity, error) {
	switch {
	case user == adminUser && password == adminPass:
		return &auth.Identity{User: user, Groups: []string{"livygate-admins"}, Method: "ldap"}, nil
	case user == userUser && password == userPass:
		return &auth.Identity{User: user, Groups: []string{"analysts"}, Method: "ldap"}, nil
	case user == "down":
		return nil, auth.ErrUnavailable
	}
	return nil, fmt.Errorf("%w: wrong password", auth.ErrBadCredentials)
}

type hub struct{ users []jupyterhub.User }

func (h *hub) ListUsers(context.Context) ([]jupyterhub.User, error) { return h.users, nil }

// syncer is a provision.Syncer stand-in; when gate is set, a run waits on it.
type syncer struct {
	gate  chan struct{}
	calls chan bool
}

func (s *syncer) Run(_ context.Context, dryRun bool) (*provision.Run, error) {
	s.calls <- dryRun
	if s.gate != nil {
		<-s.gate
	}
	now := time.Now()
	action := hdfs.ActionCreated
	if dryRun {
		action = hdfs.ActionWouldCreate
	}
	return &provision.Run{Started: now, Finished: now, DryRun: dryRun, Users: 1,
		Summary: map[hdfs.Action]int{action: 1},
		Results: []hdfs.Result{{User: "dave", Path: "/user/dave", Action: action}}}, nil
}

type keys []ui.KeyInfo

func (k keys) List() []ui.KeyInfo { return k }

type harness struct {
	t     *testing.T
	srv   *httptest.Server
	livy  *livytest.Fake
	store *store.SQL
	audit *audittest.Recorder
	hub   *hub
	sync  *syncer
	runs  chan *provision.Run
}

type option func(*ui.Options)

func newHarness(t *testing.T, opts ...option) *harness {
	t.Helper()
	log := logtest.Discard()
	h := &harness{t: t, livy: livytest.New(), audit: &audittest.Recorder{}, runs: make(chan *provision.Run, 10),
		sync: &syncer{calls: make(chan bool, 10)}}
	t.Cleanup(h.livy.Close)
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "ui.db"), store.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h.store = st
	h.hub = &hub{users: []jupyterhub.User{{Name: "alice"}, {Name: "bob"}, {Name: "carol", Admin: true}, {Name: "svc", Kind: "service"}}}
	cfg := auth.Default()
	cfg.Lockout.MaxFailures = 3
	basic, err := auth.NewBasic(cfg, directory{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(h.livy.URL())
	o := ui.Options{
		Authn: auth.Chain{basic},
		Store: st,
		Livy:  &livy.Client{BaseURL: u, HTTP: http.DefaultClient},
		Hub:   h.hub,
		Sync:  h.sync,
		OnRun: func(r *provision.Run, trigger string) {
			if _, err := st.SaveRun(context.Background(), r, trigger); err != nil {
				t.Error(err)
			}
			h.runs <- r
		},
		Probes: []ui.Probe{
			{Name: "Livy", Check: func(context.Context) error { return nil }},
			{Name: "HDFS", Check: func(context.Context) error { return errors.New("connection refused") }},
		},
		SessionTTL: time.Hour,
		Log:        log,
	}
	for _, f := range opts {
		f(&o)
	}
	handler, err := ui.New(o)
	if err != nil {
		t.Fatal(err)
	}
	s := server.New(server.Options{
		Listen: server.Default(), Realm: "livygate", Authn: o.Authn,
		Livy: http.NotFoundHandler(), UI: handler,
		Ready: o.Livy.(*livy.Client), Audit: audit.Multi{h.audit, st}, Log: log,
	})
	h.srv = httptest.NewServer(s.Handler())
	t.Cleanup(h.srv.Close)
	return h
}

// client never follows redirects, so tests see them.
func (h *harness) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type answer struct {
	status int
	header http.Header
	body   string
}

// do sends a request; user "" sends no credentials.
func (h *harness) do(c *http.Client, method, path, user, password string, form url.Values) answer {
	h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	if c == nil {
		c = h.client()
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func (h *harness) admin(method, path string, form url.Values) answer {
	h.t.Helper()
	return h.do(nil, method, path, adminUser, adminPass, form)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the token from a page's form.
func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", page)
	}
	return m[1]
}

// waitWritten waits until the store has written n events.
func (h *harness) waitWritten(n uint64) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.store.Stats().Written < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("store wrote %d events, want %d", h.store.Stats().Written, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type jupyterUserT = jupyterhub.User

func jupyterUser(name string) jupyterhub.User { return jupyterhub.User{Name: name} }
