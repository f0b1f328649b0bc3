// Package ui is the administrators' web UI: server-rendered pages
// (html/template, embedded, no JavaScript) over the store and live views of
// Livy, the Hub, HDFS and LDAP. It is mounted under /admin/ui/ and does its
// own login (a form that sets a session cookie, or Basic through the same
// authenticator chain), CSRF checks and security headers.
package ui

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/provision"
	"github.com/livygate/livygate/gateway/reaper"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/warm"
	"github.com/livygate/livygate/jupyterhub"
	"github.com/livygate/livygate/livy"
)

// Prefix is where the UI is mounted.
const Prefix = "/admin/ui/"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Livy is what the UI needs of Livy: list and kill.
type Livy interface {
	List(ctx context.Context, res livy.Resource) ([]livy.Entry, error)
	Delete(ctx context.Context, res livy.Resource, id int) error
}

// HubUsers lists the Hub's users.
type HubUsers interface {
	ListUsers(ctx context.Context) ([]jupyterhub.User, error)
}

// Syncer runs one user sync (provision.Syncer).
type Syncer interface {
	Run(ctx context.Context, dryRun bool) (*provision.Run, error)
}

// Keys lists the token signing keys. The token code implements it; nil
// means no signing keys are configured.
type Keys interface {
	List() []KeyInfo
}

// KeyInfo describes one signing key; never the private key.
type KeyInfo struct {
	Kid       string
	Algorithm string
	Created   time.Time
	NotAfter  time.Time
	// Signing is true for the key new tokens are signed with; false for a
	// key kept only to verify tokens it signed before a rotation.
	Signing   bool
	PublicPEM []byte
}

// Reaper is the session reaper's view for the Sessions page: each
// session's idle time, its owner's notebook server and the recent reaps.
type Reaper interface {
	IdleFor(id int) (time.Duration, bool)
	NotebookOf(user string) reaper.Notebook
	Status() reaper.Status
}

// Warm is the warm sessions' view for the Sessions page: those waiting
// for their user, their age, and how many were adopted.
type Warm interface {
	Status(ctx context.Context) warm.Status
	Config() warm.Config
}

// Probe checks that one backend is reachable.
type Probe struct {
	Name  string
	Check func(ctx context.Context) error
}

// Options are what the UI is built from. Store and Authn are required;
// a nil Livy, Hub, Sync or Keys shows as "not configured".
type Options struct {
	Authn auth.Authenticator
	Store store.Store
	Livy  Livy
	Hub   HubUsers
	Sync  Syncer
	// OnRun records a finished sync run (history, log line, store); the
	// trigger says who asked ("admin:carol").
	OnRun  func(run *provision.Run, trigger string)
	Keys   Keys
	Probes []Probe
	// Reaper, when set, adds idle times, notebook states and the reaper's
	// recent actions to the Sessions page; nil shows the reaper as off.
	Reaper Reaper
	// Warm, when set, adds the warm sessions to the Sessions page.
	Warm Warm
	// BackendOf, with several Livy backends, names the one a session or
	// batch is on (a column of the Sessions page); nil is one Livy.
	BackendOf func(res livy.Resource, id int) string
	// SessionTTL is how long a login lasts.
	SessionTTL time.Duration
	// Sessions, when set, keeps logins where every gateway replica finds
	// them (the store); nil keeps them in this process's memory.
	Sessions store.UISessions
	// Secure marks cookies Secure (the gateway serves TLS).
	Secure bool
	// SyncTimeout bounds a sync started from the UI.
	SyncTimeout time.Duration
	Log         logrus.FieldLogger
	Now         func() time.Time
}

// UI is the admin UI's http.Handler.
type UI struct {
	opts     Options
	mux      *http.ServeMux
	pages    map[string]*template.Template
	sessions *sessions
	hub      *hubCache
	livy     *livyCache
	probes   *probeCache
	sync     *syncState
}

// New builds the UI.
func New(opts Options) (*UI, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 8 * time.Hour
	}
	if opts.SyncTimeout <= 0 {
		opts.SyncTimeout = time.Hour
	}
	if opts.Log == nil {
		opts.Log = logrus.StandardLogger()
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	u := &UI{
		opts:     opts,
		pages:    pages,
		sessions: newSessions(opts.SessionTTL, opts.Now),
		hub:      &hubCache{hub: opts.Hub, ttl: 30 * time.Second, now: opts.Now},
		livy:     &livyCache{livy: opts.Livy, ttl: 5 * time.Second, now: opts.Now},
		probes:   &probeCache{probes: opts.Probes, ttl: 10 * time.Second, timeout: 2 * time.Second, now: opts.Now},
		sync:     &syncState{},
	}
	if opts.Sessions != nil {
		u.sessions.shared = &sharedSessions{store: opts.Sessions, log: opts.Log}
	}
	u.routes()
	return u, nil
}

func (u *UI) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", cacheable(http.FileServerFS(static))))
	m.HandleFunc("GET "+Prefix+"login", u.loginForm)
	m.HandleFunc("POST "+Prefix+"login", u.login)
	m.Handle("POST "+Prefix+"logout", u.admin(u.logout))
	m.Handle("GET "+Prefix+"{$}", u.admin(u.overview))
	m.Handle("GET "+Prefix+"users", u.admin(u.users))
	m.Handle("GET "+Prefix+"sessions", u.admin(u.sessionsPage))
	m.Handle("GET "+Prefix+"sessions/{res}/{id}/kill", u.admin(u.killConfirm))
	m.Handle("POST "+Prefix+"sessions/{res}/{id}/kill", u.admin(u.kill))
	m.Handle("GET "+Prefix+"sync", u.admin(u.syncPage))
	m.Handle("GET "+Prefix+"sync/{id}", u.admin(u.syncRun))
	m.Handle("POST "+Prefix+"sync/run", u.admin(u.syncNow(false)))
	m.Handle("POST "+Prefix+"sync/dry-run", u.admin(u.syncNow(true)))
	m.Handle("GET "+Prefix+"audit", u.admin(u.auditPage))
	m.Handle("GET "+Prefix+"keys", u.admin(u.keysPage))
	m.Handle("GET "+Prefix+"keys/{file}", u.admin(u.keyPEM))
	m.Handle(Prefix, u.admin(func(w http.ResponseWriter, r *http.Request, _ *viewer) {
		u.errorPage(w, r, nil, http.StatusNotFound, "There is no such page.")
	}))
	u.mux = m
}

// ServeHTTP implements http.Handler: every answer carries the security
// headers; pages with data are never cached.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if r.URL.Path == "/admin/ui" {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	u.mux.ServeHTTP(w, r)
}

// cacheable lets the browser keep the (data-free) stylesheet and icon for
// an hour; it serves files only, never a directory listing.
func cacheable(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}
