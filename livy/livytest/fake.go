// Package livytest is an in-memory stand-in for Livy's REST API, for unit
// tests and benchmarks only: it records every request it receives, so tests
// assert on exactly what Livy saw. Integration tests use the real Livy.
package livytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is one request as the fake received it.
type Request struct {
	Method string
	Path   string
	// RawURI is the request line's target as sent, escapes included.
	RawURI string
	Query  string
	Header http.Header
	Body   []byte
}

// Fake is a Livy that keeps sessions and batches in memory.
type Fake struct {
	// ImpersonationOff makes the fake ignore proxyUser, as Livy does with
	// livy.impersonation.enabled=false: sessions then run as "livy".
	ImpersonationOff bool
	// NoRecord stops the fake from keeping requests (benchmarks).
	NoRecord bool
	// LogLines are appended to every session's log (to test redaction of
	// echoed conf).
	LogLines []string
	// CreateDelay makes a create answer late, after the session exists, as
	// a slow Livy does.
	CreateDelay time.Duration
	// Version is what GET /version answers; empty is a 0.9.0 fake.
	Version string

	Server *httptest.Server

	mu       sync.Mutex
	requests []Request
	nextID   map[string]int
	items    map[string]map[int]*item // resource → id → item
	// names indexes items by name, as Livy's session manager does: the
	// gateway names every create, and a scan per create made a long
	// benchmark slower by the minute.
	names map[string]map[string]int // resource → name → id
}

type item struct {
	obj        map[string]any
	statements []map[string]any
}

// New starts a fake Livy on a loopback port; Close it when done.
func New() *Fake {
	f := &Fake{nextID: map[string]int{}, items: map[string]map[int]*item{"sessions": {}, "batches": {}},
		names: map[string]map[string]int{"sessions": {}, "batches": {}}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// URL is the fake's base URL.
func (f *Fake) URL() string { return f.Server.URL }

// Close stops the fake.
func (f *Fake) Close() { f.Server.Close() }

// Requests returns a copy of what the fake received so far.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Last returns the last request received, or a zero Request.
func (f *Fake) Last() Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return Request{}
	}
	return f.requests[len(f.requests)-1]
}

// Reset forgets recorded requests (sessions stay).
func (f *Fake) Reset() {
	f.mu.Lock()
	f.requests = nil
	f.mu.Unlock()
}

// Count returns how many sessions or batches exist.
func (f *Fake) Count(resource string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.items[resource])
}

// Restart forgets every session and starts ids from 0 again, as a Livy
// restarted without session recovery does.
func (f *Fake) Restart() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID = map[string]int{}
	f.items = map[string]map[int]*item{"sessions": {}, "batches": {}}
	f.names = map[string]map[string]int{"sessions": {}, "batches": {}}
}

// Add creates a session directly, as if another client had made it.
func (f *Fake) Add(resource string, body map[string]any) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.create(resource, body)
}

// Remove deletes a session or batch directly, as if Livy had dropped it.
func (f *Fake) Remove(resource string, id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop(resource, id)
}

// drop removes an item and its name. f.mu is held.
func (f *Fake) drop(res string, id int) {
	if it := f.items[res][id]; it != nil {
		if name, ok := it.obj["name"].(string); ok && f.names[res][name] == id {
			delete(f.names[res], name)
		}
	}
	delete(f.items[res], id)
}

// SetState sets a session's or batch's state (busy, dead, …), as Livy
// would as it runs.
func (f *Fake) SetState(resource string, id int, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if it := f.items[resource][id]; it != nil {
		it.obj["state"] = state
	}
}

// serve routes as Livy's router (Scalatra) does: the path is cut at the
// first ';' of the raw request line, then unescaped, and a POST takes its
// method from a _method parameter. Requests are recorded as received.
func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	if !f.NoRecord {
		f.requests = append(f.requests, Request{
			Method: r.Method, Path: r.URL.Path, RawURI: r.RequestURI, Query: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: body,
		})
	}
	rawPath, _, _ := strings.Cut(r.RequestURI, "?")
	rawPath, _, _ = strings.Cut(rawPath, ";")
	routed := r.Clone(r.Context())
	if p, err := url.PathUnescape(rawPath); err == nil {
		routed.URL.Path = p
	}
	if m := r.URL.Query().Get("_method"); m != "" && r.Method == http.MethodPost {
		routed.Method = strings.ToUpper(m)
	}
	rec := httptest.NewRecorder()
	created := f.route(rec, routed, body)
	f.mu.Unlock()
	if created {
		time.Sleep(f.CreateDelay)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// route answers one request; it reports a create. f.mu is held.
func (f *Fake) route(w http.ResponseWriter, r *http.Request, body []byte) (created bool) {
	if r.URL.Path == "/version" {
		v := f.Version
		if v == "" {
			v = "0.9.0-incubating-fake"
		}
		writeJSON(w, 200, map[string]any{"version": v})
		return false
	}
	if r.URL.Path == "/metrics" { // Livy's Dropwizard registry, abridged
		writeJSON(w, 200, map[string]any{"version": "4.0.0", "gauges": map[string]any{}, "counters": map[string]any{}})
		return false
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	res := segs[0]
	if _, ok := f.items[res]; !ok {
		writeJSON(w, 404, map[string]any{"msg": "not found"})
		return false
	}
	if len(segs) == 1 {
		switch r.Method {
		case http.MethodGet:
			f.list(w, r, res)
		case http.MethodPost:
			var req map[string]any
			if err := json.Unmarshal(body, &req); err != nil {
				writeJSON(w, 400, map[string]any{"msg": "Rejected, Reason: bad json"})
				return false
			}
			if name, ok := req["name"].(string); ok {
				if it, id := f.find(res, name); it != nil && it.obj["name"] == name {
					writeJSON(w, 400, map[string]any{"msg": fmt.Sprintf("Rejected, Reason: Duplicate session name: Some(%s) for session %d", name, id)})
					return false
				}
			}
			id := f.create(res, req)
			w.Header().Set("Location", fmt.Sprintf("/%s/%d", res, id))
			writeJSON(w, 201, f.items[res][id].obj)
			return true
		case http.MethodHead:
			f.list(w, r, res) // Scalatra answers HEAD as GET
		default:
			writeJSON(w, 405, map[string]any{"msg": "method not allowed"})
		}
		return false
	}
	it, id := f.find(res, segs[1])
	if it == nil {
		writeJSON(w, 404, map[string]any{"msg": fmt.Sprintf("Session '%s' not found.", segs[1])})
		return false
	}
	rest := strings.Join(segs[2:], "/")
	switch {
	case rest == "" && r.Method == http.MethodGet:
		writeJSON(w, 200, it.obj)
	case rest == "" && r.Method == http.MethodDelete:
		f.drop(res, id)
		writeJSON(w, 200, map[string]any{"msg": "deleted"})
	case rest == "state":
		writeJSON(w, 200, map[string]any{"id": id, "state": it.obj["state"]})
	case rest == "log":
		lines := it.obj["log"]
		writeJSON(w, 200, map[string]any{"id": id, "from": 0, "total": len(lines.([]string)), "log": lines})
	case rest == "statements" && r.Method == http.MethodPost:
		var req map[string]any
		_ = json.Unmarshal(body, &req)
		st := statement(len(it.statements), fmt.Sprint(req["code"]))
		it.statements = append(it.statements, st)
		writeJSON(w, 201, st)
	case rest == "statements":
		writeJSON(w, 200, map[string]any{"total_statements": len(it.statements), "statements": it.statements})
	case strings.HasPrefix(rest, "statements/"):
		n, err := strconv.Atoi(strings.Split(strings.TrimPrefix(rest, "statements/"), "/")[0])
		if err != nil || n >= len(it.statements) {
			writeJSON(w, 404, map[string]any{"msg": "Statement not found"})
			return false
		}
		writeJSON(w, 200, it.statements[n])
	default:
		writeJSON(w, 200, map[string]any{"msg": "ok"})
	}
	return false
}

// find resolves as Livy does: all digits is an id, anything else a name.
func (f *Fake) find(res, idOrName string) (*item, int) {
	if strings.Trim(idOrName, "0123456789") == "" {
		id, err := strconv.Atoi(idOrName)
		if err != nil {
			return nil, 0
		}
		return f.items[res][id], id
	}
	if id, ok := f.names[res][idOrName]; ok {
		if it := f.items[res][id]; it != nil && it.obj["name"] == idOrName {
			return it, id
		}
	}
	return nil, 0
}

func (f *Fake) create(res string, req map[string]any) int {
	id := f.nextID[res]
	f.nextID[res]++
	var proxyUser any = req["proxyUser"]
	if f.ImpersonationOff {
		proxyUser = "livy"
	}
	conf, _ := req["conf"].(map[string]any)
	if conf == nil {
		conf = map[string]any{}
	}
	obj := map[string]any{
		"id": id, "name": req["name"], "appId": "application_1_000" + strconv.Itoa(id),
		"owner": nil, "proxyUser": proxyUser, "state": "idle", "kind": req["kind"],
		"appInfo": map[string]any{"driverLogUrl": "http://nm/logs", "sparkUiUrl": "http://rm/proxy"},
		"log":     append([]string{"stdout: ", "\nstderr: "}, f.LogLines...),
		"conf":    conf,
	}
	if res == "batches" {
		obj["state"] = "running"
		delete(obj, "kind")
	}
	f.items[res][id] = &item{obj: obj}
	if name, ok := req["name"].(string); ok {
		f.names[res][name] = id
	}
	return id
}

func (f *Fake) list(w http.ResponseWriter, r *http.Request, res string) {
	q := r.URL.Query()
	from, size := 0, 100
	if v := q.Get("from"); v != "" {
		from, _ = strconv.Atoi(v)
	}
	if v := q.Get("size"); v != "" {
		size, _ = strconv.Atoi(v)
	}
	ids := make([]int, 0, len(f.items[res]))
	for id := range f.items[res] {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	all := make([]any, 0, len(ids))
	for _, id := range ids {
		all = append(all, f.items[res][id].obj)
	}
	end := min(from+size, len(all))
	page := []any{}
	if from < end {
		page = all[from:end]
	}
	writeJSON(w, 200, map[string]any{"from": from, "total": len(all), "sessions": page})
}

func statement(id int, code string) map[string]any {
	return map[string]any{
		"id": id, "code": code, "state": "available", "progress": 1.0,
		"output": map[string]any{
			"status": "ok", "execution_count": id,
			"data": map[string]any{"text/plain": "result of " + code},
		},
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
