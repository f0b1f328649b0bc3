package hubtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fake is an in-memory JupyterHub for unit tests: users whose default
// notebook server runs, was stopped, or never existed, served as the Hub's
// REST API does (GET /hub/api/users with ?state=active and pagination,
// GET /hub/api/users/{name} with ?include_stopped_servers). Integration
// tests use the real Hub (Start).
type Fake struct {
	Server *httptest.Server
	// Token is the service token the fake accepts.
	Token string

	mu    sync.Mutex
	users map[string]*fakeUser
	down  bool
	calls []string
}

type fakeUser struct {
	server       bool // the Hub has a server record
	running      bool
	lastActivity time.Time
}

// NewFake starts a fake Hub accepting token; Close it when done.
func NewFake(token string) *Fake {
	f := &Fake{Token: token, users: map[string]*fakeUser{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// URL is the fake Hub's base URL.
func (f *Fake) URL() string { return f.Server.URL }

// Close stops the fake.
func (f *Fake) Close() { f.Server.Close() }

// AddUser adds a user without a server.
func (f *Fake) AddUser(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.users[name] == nil {
		f.users[name] = &fakeUser{}
	}
}

// StartServer marks a user's server running.
func (f *Fake) StartServer(name string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[name] = &fakeUser{server: true, running: true, lastActivity: at}
}

// StopServer marks a user's server stopped at at.
func (f *Fake) StopServer(name string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[name]
	if u == nil {
		u = &fakeUser{}
		f.users[name] = u
	}
	u.server, u.running, u.lastActivity = true, false, at
}

// SetDown makes every call fail with 503, as a Hub being restarted does.
func (f *Fake) SetDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

// Calls lists the paths (with query) the fake was asked, in order.
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.URL.RequestURI())
	w.Header().Set("Content-Type", "application/json")
	if f.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status": 503, "message": "down"}`))
		return
	}
	if r.Header.Get("Authorization") != "token "+f.Token {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"status": 403, "message": "Action is not authorized"}`))
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/hub/api/")
	switch {
	case path == "users":
		f.list(w, r)
	case strings.HasPrefix(path, "users/") && !strings.Contains(strings.TrimPrefix(path, "users/"), "/"):
		u := f.users[strings.TrimPrefix(path, "users/")]
		if u == nil {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"status": 404, "message": "Not Found"}`))
			return
		}
		_, stopped := r.URL.Query()["include_stopped_servers"]
		_ = json.NewEncoder(w).Encode(f.model(strings.TrimPrefix(path, "users/"), u, stopped))
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"status": 404, "message": "Not Found"}`))
	}
}

func (f *Fake) model(name string, u *fakeUser, includeStopped bool) map[string]any {
	servers := map[string]any{}
	if !u.server && includeStopped {
		// As the Hub does: a never-started default server, with no times.
		servers[""] = map[string]any{"name": "", "ready": false, "pending": nil, "stopped": true, "started": nil, "last_activity": nil}
	}
	if u.server && (u.running || includeStopped) {
		servers[""] = map[string]any{
			"name": "", "ready": u.running, "pending": nil, "stopped": !u.running,
			"started": u.lastActivity.Format(time.RFC3339Nano), "last_activity": u.lastActivity.Format(time.RFC3339Nano),
		}
	}
	return map[string]any{"name": name, "kind": "user", "admin": false, "servers": servers}
}

func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	names := make([]string, 0, len(f.users))
	for n, u := range f.users {
		if q.Get("state") == "active" && !u.running {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	items := []any{}
	for i := offset; i < len(names) && i < offset+limit; i++ {
		items = append(items, f.model(names[i], f.users[names[i]], false))
	}
	var next any
	if offset+limit < len(names) {
		next = map[string]any{"offset": offset + limit, "limit": limit}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"items": items,
		"_pagination": map[string]any{"offset": offset, "limit": limit, "total": len(names), "next": next}})
}
