package route

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/livygate/livygate/livy"
)

// backend is one Livy server and what the Router last saw of it.
type backend struct {
	name    string
	base    *url.URL
	version string
	// rt reaches the server and keeps its status (see watched).
	rt     http.RoundTripper
	client *livy.Client
	now    func() time.Time

	mu        sync.Mutex
	downErr   error
	downSince time.Time
	counts    map[livy.Resource]liveCount
}

// liveCount is a backend's live sessions (or batches) when last listed.
type liveCount struct {
	n  int
	at time.Time
}

func newBackend(c Backend, rt http.RoundTripper, now func() time.Time) (*backend, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, err
	}
	password, err := c.Password.Resolve()
	if err != nil {
		return nil, err
	}
	b := &backend{name: c.Name, base: u, version: c.Version, now: now, counts: map[livy.Resource]liveCount{}}
	b.rt = &watched{b: b, next: rt, username: c.Username, password: password}
	b.client = &livy.Client{BaseURL: u, HTTP: &http.Client{Transport: b.rt}, Timeout: c.Timeout}
	return b, nil
}

// send forwards req to the backend at path (unescaped), with the query
// as it is. The answer's Request is req, as its hooks expect.
func (b *backend) send(req *http.Request, path string) (*http.Response, error) {
	out := req.Clone(req.Context())
	u := *b.base
	u.Path = strings.TrimRight(b.base.Path, "/") + path
	u.RawPath = strings.TrimRight(b.base.EscapedPath(), "/") + livy.EscapePath(path)
	u.RawQuery = req.URL.RawQuery
	out.URL, out.Host = &u, ""
	resp, err := b.rt.RoundTrip(out)
	if resp != nil {
		resp.Request = req
	}
	return resp, err
}

// watched is a backend's transport: it adds the gateway's credentials and
// records whether the backend answers.
type watched struct {
	b                  *backend
	next               http.RoundTripper
	username, password string
}

func (w *watched) RoundTrip(req *http.Request) (*http.Response, error) {
	if w.username != "" {
		req = req.Clone(req.Context())
		req.SetBasicAuth(w.username, w.password)
	}
	resp, err := w.next.RoundTrip(req)
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	switch {
	case err == nil:
		w.b.downErr = nil
	case unreached(err):
		if w.b.downErr == nil {
			w.b.downSince = w.b.now()
		}
		w.b.downErr = err
		return nil, &DownError{Backend: w.b.name, Err: err}
	}
	return resp, err
}

// unreached reports an error that left the request unsent: the backend
// could not be connected to.
func unreached(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// DownError is a request that never reached its backend. The proxy answers
// it with its HTTPStatus and message: the client learns which Livy is down.
type DownError struct {
	Backend string
	Err     error
}

func (e *DownError) Error() string {
	return fmt.Sprintf("Livy backend '%s' is not reachable: %s", e.Backend, innermost(e.Err))
}

func (e *DownError) Unwrap() error { return e.Err }

// HTTPStatus is the answer's status: the backend is unavailable.
func (e *DownError) HTTPStatus() int { return http.StatusServiceUnavailable }

// unavailable is a request the Router could not route (the id registry
// did not answer); nothing reached Livy.
type unavailable struct{ msg string }

func (e *unavailable) Error() string   { return e.msg }
func (e *unavailable) HTTPStatus() int { return http.StatusServiceUnavailable }

func registryDown(err error) error {
	return &unavailable{msg: "the gateway's session id registry is not reachable: " + innermost(err)}
}

// innermost keeps the reason ("connection refused") without the wrapping.
func innermost(err error) string {
	for next := errors.Unwrap(err); next != nil; next = errors.Unwrap(err) {
		err = next
	}
	return err.Error()
}

func (b *backend) status() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Status{Name: b.name, URL: b.base.Redacted(), Down: b.downErr != nil}
	if s.Down {
		s.Error, s.Since = innermost(b.downErr), b.downSince
	}
	return s
}

func (b *backend) down() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.downErr != nil
}

// remember keeps a backend's count of live items from a list.
func (b *backend) remember(res livy.Resource, live int) {
	b.mu.Lock()
	b.counts[res] = liveCount{n: live, at: b.now()}
	b.mu.Unlock()
}

// added counts a create placed here, until the next list.
func (b *backend) added(res livy.Resource) {
	b.mu.Lock()
	c := b.counts[res]
	c.n++
	b.counts[res] = c
	b.mu.Unlock()
}

// count is the last count of live items, if it is younger than maxAge.
func (b *backend) count(res livy.Resource, maxAge time.Duration) (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.counts[res]
	return c.n, ok && b.now().Sub(c.at) < maxAge
}
