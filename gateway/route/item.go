package route

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/livy"
)

// item forwards a request to one session or batch, named by its gateway id
// (or, for look-ups by name, by its Livy name), to its backend.
func (r *Router) item(req *http.Request, lp livy.Path) (*http.Response, error) {
	gid, isID := livy.ParseID(lp.Item)
	if !isID {
		return r.byLivyName(req, lp)
	}
	m, ok, err := r.ids.lookup(req.Context(), gid)
	if err != nil {
		return nil, err
	}
	b := r.byName[m.Backend]
	if !ok || m.Resource != string(lp.Resource) || b == nil {
		return notFound(req, lp.Resource, lp.Item), nil
	}
	resp, err := b.send(req, itemPath(lp.Resource, m.LivyID, lp.Rest))
	if err != nil {
		return nil, err
	}
	return r.answer(resp, lp, m)
}

// answer turns a backend's answer about m into the gateway's: its ids,
// Location and messages. The item itself is checked to be the incarnation
// m stands for: a Livy restarted from 0 holds another session under the
// same Livy id, and the old gateway id must not reach it.
func (r *Router) answer(resp *http.Response, lp livy.Path, m store.IDMapping) (*http.Response, error) {
	relocate(resp.Header, lp.Resource, m.LivyID, m.ID)
	rewrites := resp.Request.Method == http.MethodGet && (lp.Rest == "" || lp.Rest == "state" || lp.Rest == "log")
	switch {
	case resp.StatusCode/100 == 2 && rewrites:
	case resp.StatusCode == http.StatusNotFound:
		body, err := readBody(resp)
		if err != nil {
			return nil, err
		}
		ours := lp.Resource.NotFoundMessage(strconv.Itoa(m.ID))
		setBody(resp, bytes.ReplaceAll(body, []byte(jsonText(lp.Resource.NotFoundMessage(strconv.Itoa(m.LivyID)))), []byte(jsonText(ours))))
		return resp, nil
	default:
		return resp, nil
	}
	body, err := readBody(resp)
	if err != nil {
		return nil, err
	}
	if lp.Rest == "" {
		var s livy.Brief
		if json.Unmarshal(body, &s) != nil || s.ID != m.LivyID {
			setBody(resp, body) // not a session: the proxy refuses it
			return resp, nil
		}
		if inc := incarnationOf(lp.Resource, m.Backend, &s); inc != (incarnation{livy.Resource(m.Resource), m.Backend, m.LivyID, m.Owner, m.Name}) {
			r.sighted(resp.Request.Context(), inc)
			return notFound(resp.Request, lp.Resource, lp.Item), nil
		}
	}
	if out, ok := withID(body, m.ID); ok {
		body = out
	}
	setBody(resp, body)
	return resp, nil
}

// sighted gives a session seen on a backend its gateway id.
func (r *Router) sighted(ctx context.Context, inc incarnation) (int, error) {
	id, err := r.ids.idOf(ctx, inc)
	if err != nil {
		r.log.WithError(err).WithField("backend", inc.backend).Warn("route: a session seen on Livy could not be given a gateway id")
	}
	return id, err
}

// byLivyName finds the backend holding a session by its Livy name (names
// are one namespace per Livy, and the gateway makes them unique), asking
// every backend at once. A name found nowhere while a backend is down may
// be on it: that is the backend's 503, not a 404.
func (r *Router) byLivyName(req *http.Request, lp livy.Path) (*http.Response, error) {
	type found struct {
		b    *backend
		resp *http.Response
		err  error
	}
	probe := req.Clone(req.Context())
	probe.Method, probe.Body, probe.ContentLength, probe.URL.RawQuery = http.MethodGet, nil, 0, ""
	answers := make(chan found, len(r.backends))
	for _, b := range r.backends {
		go func() {
			resp, err := b.send(probe, "/"+string(lp.Resource)+"/"+lp.Item)
			answers <- found{b, resp, err}
		}()
	}
	var hit *found
	var down error
	for range r.backends {
		f := <-answers
		switch {
		case f.err != nil:
			if down == nil {
				down = f.err
			}
		case f.resp.StatusCode == http.StatusOK && hit == nil:
			hit = &f
		default:
			f.resp.Body.Close()
		}
	}
	switch {
	case hit == nil && down != nil:
		return nil, down
	case hit == nil:
		return notFound(req, lp.Resource, lp.Item), nil
	}
	body, err := readBody(hit.resp)
	if err != nil {
		return nil, err
	}
	var s livy.Brief
	if err := json.Unmarshal(body, &s); err != nil {
		setBody(hit.resp, body)
		return hit.resp, nil
	}
	inc := incarnationOf(lp.Resource, hit.b.name, &s)
	id, err := r.sighted(req.Context(), inc)
	if err != nil {
		return nil, err
	}
	if lp.Rest != "" || req.Method != http.MethodGet {
		resp, err := hit.b.send(req, itemPath(lp.Resource, s.ID, lp.Rest))
		if err != nil {
			return nil, err
		}
		return r.answer(resp, livy.Path{Resource: lp.Resource, Item: strconv.Itoa(id), Rest: lp.Rest}, inc.mapping(id))
	}
	if out, ok := withID(body, id); ok {
		body = out
	}
	hit.resp.Request = req
	setBody(hit.resp, body)
	return hit.resp, nil
}

// relocate rewrites a Location naming a backend's item (a create's, a
// statement's) to the gateway's id, without the backend's address.
func relocate(h http.Header, res livy.Resource, livyID, id int) {
	loc := h.Get("Location")
	if loc == "" {
		return
	}
	u, err := url.Parse(loc)
	if err != nil {
		return
	}
	prefix := itemPath(res, livyID, "")
	if rest, ok := strings.CutPrefix(u.Path, prefix); ok && (rest == "" || rest[0] == '/') {
		h.Set("Location", itemPath(res, id, "")+rest)
	}
}

// notFound is Livy's own 404 for an item.
func notFound(req *http.Request, res livy.Resource, item string) *http.Response {
	b, _ := json.Marshal(livy.ErrorBody{Msg: res.NotFoundMessage(item)})
	resp := &http.Response{
		StatusCode: http.StatusNotFound, Status: "404 Not Found",
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Request: req,
	}
	setBody(resp, b)
	return resp
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// maxAnswer bounds an answer the Router reads to rewrite; the proxy's own
// bound is the same order.
const maxAnswer = 64 << 20

func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
}

func setBody(resp *http.Response, b []byte) {
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
}
