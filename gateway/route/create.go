package route

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/livygate/livygate/livy"
)

// create places a create on a backend and gives what it made a gateway id.
// The id is drawn first: without the registry nothing is created, so the
// client's retry duplicates nothing. A backend that cannot be connected to
// was sent nothing, and the next one is tried.
func (r *Router) create(req *http.Request, res livy.Resource) (*http.Response, error) {
	ctx := req.Context()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	id, err := r.ids.store.NewID(ctx)
	if err != nil {
		return nil, registryDown(err)
	}
	var firstErr error
	for _, b := range r.place(ctx, res) {
		out := req.Clone(ctx)
		out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		resp, err := b.send(out, "/"+string(res))
		var down *DownError
		if errors.As(err, &down) {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		if err != nil {
			return nil, err
		}
		return r.created(resp, res, b, id)
	}
	return nil, firstErr
}

// created maps a backend's 201 to the gateway id drawn for it. Any other
// answer is passed on as it came (nothing was created).
func (r *Router) created(resp *http.Response, res livy.Resource, b *backend, id int) (*http.Response, error) {
	if resp.StatusCode != http.StatusCreated {
		return resp, nil
	}
	b.added(res)
	body, err := readBody(resp)
	if err != nil {
		return nil, err
	}
	var s livy.Brief
	if json.Unmarshal(body, &s) != nil {
		setBody(resp, body) // not a session: the proxy refuses it
		return resp, nil
	}
	inc := incarnationOf(res, b.name, &s)
	if id, err = r.ids.bind(resp.Request.Context(), id, inc); err != nil {
		r.log.WithError(err).WithField("session_id", id).Error("route: a created session's id is kept in memory only")
	}
	relocate(resp.Header, res, s.ID, id)
	if out, ok := withID(body, id); ok {
		body = out
	}
	setBody(resp, body)
	return resp, nil
}
