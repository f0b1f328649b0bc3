package route

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/livy"
)

// VirtualURL is where the proxy and the gateway's Livy clients are pointed
// when the Router is their transport: it is never dialled.
var VirtualURL = &url.URL{Scheme: "http", Host: "livy-backends"}

// Deps are what a Router needs besides its configuration.
type Deps struct {
	// IDs draws and keeps the gateway's ids (the store; MemoryIDs in tests).
	IDs store.IDs
	// Transport makes a backend's transport; nil clones the default one
	// with the backend's timeout on response headers and MaxConnections.
	Transport func(timeout time.Duration) http.RoundTripper
	// MaxConnections caps each backend's connections (livy.max_connections);
	// 0 leaves them uncapped.
	MaxConnections int
	Log            logrus.FieldLogger
	Now            func() time.Time
}

// Router is one Livy made of several: the gateway's ids outside, each
// backend's own ids inside. It is an http.RoundTripper, so the proxy's
// reverse proxy and every livy.Client in the gateway use it unchanged.
type Router struct {
	backends []*backend
	byName   map[string]*backend
	pins     []Pin
	ids      *registry
	log      logrus.FieldLogger
	now      func() time.Time
}

// New builds a Router from a validated Config with its backends' defaults
// filled in; it resolves their passwords and dials nothing.
func New(cfg Config, deps Deps) (*Router, error) {
	if deps.IDs == nil {
		return nil, errors.New("livy.backends: needs the store's id registry")
	}
	if deps.Log == nil {
		deps.Log = logrus.StandardLogger()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Transport == nil {
		deps.Transport = func(timeout time.Duration) http.RoundTripper { return defaultTransport(timeout, deps.MaxConnections) }
	}
	r := &Router{byName: map[string]*backend{}, pins: cfg.Placement.Pin, ids: newRegistry(deps.IDs), log: deps.Log, now: deps.Now}
	for i, bc := range cfg.Backends {
		b, err := newBackend(bc, deps.Transport(bc.Timeout), deps.Now)
		if err != nil {
			return nil, fmt.Errorf("livy.backends[%d]: %w", i, err)
		}
		r.backends = append(r.backends, b)
		r.byName[b.name] = b
	}
	return r, nil
}

// defaultTransport is the proxy's transport (which imports this package).
func defaultTransport(timeout time.Duration, maxConns int) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = timeout
	t.MaxIdleConnsPerHost = 64
	if maxConns > 0 {
		t.MaxConnsPerHost, t.MaxIdleConnsPerHost = maxConns, maxConns
	}
	return t
}

// RoundTrip serves one request to the routed Livy.
func (r *Router) RoundTrip(req *http.Request) (*http.Response, error) {
	lp, ok := livy.ParsePath(req.URL.Path)
	switch {
	case !ok:
		return r.anyBackend(req)
	case lp.Item == "" && req.Method == http.MethodGet:
		return r.list(req, lp.Resource)
	case lp.Item == "" && req.Method == http.MethodPost:
		return r.create(req, lp.Resource)
	case lp.Item == "":
		return r.backends[0].send(req, req.URL.Path)
	}
	return r.item(req, lp)
}

// anyBackend serves what is no session's (/version, Livy's UI): the first
// backend that answers a read, so readiness holds while one Livy is up.
func (r *Router) anyBackend(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return r.backends[0].send(req, req.URL.Path)
	}
	var firstErr error
	for _, b := range r.backends {
		resp, err := b.send(req, req.URL.Path)
		if err == nil {
			return resp, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

// Status is one backend as the admin UI shows it.
type Status struct {
	Name, URL string
	// Down is set by a failed connection and cleared by any answer.
	Down  bool
	Error string
	Since time.Time
}

// Status reports every backend, in configuration order.
func (r *Router) Status() []Status {
	out := make([]Status, len(r.backends))
	for i, b := range r.backends {
		out[i] = b.status()
	}
	return out
}

// BackendOf names the backend a gateway id is on, as far as this replica
// has seen it; "" when it has not.
func (r *Router) BackendOf(res livy.Resource, id int) string {
	if m, ok := r.ids.cached(id); ok && m.Resource == string(res) {
		return m.Backend
	}
	return ""
}

// Client is one backend's own Livy client, for what is asked of each
// backend apart (its version, its reachability).
type Client struct {
	Name string
	// Release is the configured version ("" asks Livy).
	Release string
	*livy.Client
}

// Clients are the backends' own clients, in configuration order.
func (r *Router) Clients() []Client {
	out := make([]Client, len(r.backends))
	for i, b := range r.backends {
		out[i] = Client{Name: b.name, Release: b.version, Client: b.client}
	}
	return out
}

// itemPath is a Livy path of one item.
func itemPath(res livy.Resource, id int, rest string) string {
	p := fmt.Sprintf("/%s/%d", res, id)
	if rest != "" {
		p += "/" + rest
	}
	return p
}
