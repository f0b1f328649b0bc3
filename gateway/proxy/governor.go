package proxy

// The session-governance hooks: limits on creates (gateway/limits), the
// activity the reaper measures idleness by, and the reaper's explanation of
// a session it ended (gateway/reaper). Kept apart from the create and item
// paths so those only make one call each.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/scope"
	"github.com/livygate/livygate/livy"
)

// Governor is session governance as the proxy sees it.
type Governor interface {
	// Admit checks a create (already rewritten to run as runAs) against the
	// caller's limits and completes its body in place. release runs once
	// Livy has answered. An error with an HTTPStatus method sets the
	// answer's status (429 for a count, 400 for a size); any other is 503.
	Admit(ctx context.Context, res livy.Resource, caller *auth.Identity, runAs string, req map[string]json.RawMessage) (release func(), err error)
	// Used is told of every request to one session or batch the owner (or
	// an admin) makes: the reaper counts statements and completions as
	// activity. It must be cheap: polls pass through it.
	Used(res livy.Resource, id int, method, rest string)
	// Ended explains a session or batch (id or name) the gateway itself
	// ended: the user it ran as and the message for its next request.
	Ended(res livy.Resource, item string) (owner, msg string, ok bool)
}

// admit runs a create's request (already running as runAs) past the
// Governor, which may complete it in place. release runs once Livy has
// answered.
func (p *Proxy) admit(ctx context.Context, res livy.Resource, sc *scope.Scope, runAs string, req map[string]json.RawMessage) (release func(), status int, err error) {
	g := p.opts.Governor
	if g == nil {
		return func() {}, 0, nil
	}
	release, err = g.Admit(ctx, res, sc.Identity, runAs, req)
	if err != nil {
		return nil, statusOf(err), err
	}
	return release, 0, nil
}

// statusOf is the answer's status for a refusal: the error's own
// (HTTPStatus method), else 503.
func statusOf(err error) int {
	var hs interface{ HTTPStatus() int }
	if errors.As(err, &hs) {
		return hs.HTTPStatus()
	}
	return http.StatusServiceUnavailable
}

// confOf is the request's Spark conf (nil when it has none).
func confOf(req map[string]json.RawMessage) (map[string]string, error) {
	var conf map[string]string
	if raw, ok := req["conf"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &conf); err != nil {
			return nil, errors.New("conf must be an object of string values")
		}
	}
	return conf, nil
}

// used tells the Governor of a request to an item the caller may use.
func (p *Proxy) used(res livy.Resource, id int, r *http.Request, rest string) {
	if g := p.opts.Governor; g != nil {
		g.Used(res, id, r.Method, rest)
	}
}

// endedMsg is the Governor's explanation of an item that is gone, for its
// owner or an admin only: anyone else gets Livy's plain 404.
func (p *Proxy) endedMsg(sc *scope.Scope, res livy.Resource, item string) (string, bool) {
	g := p.opts.Governor
	if g == nil {
		return "", false
	}
	owner, msg, ok := g.Ended(res, item)
	if !ok || sc.Identity == nil || (owner != sc.Identity.User && !sc.Identity.Admin) {
		return "", false
	}
	return msg, true
}

// explainGone replaces Livy's 404 for an item (an id or a Livy name) the
// gateway ended with the gateway's explanation.
func (p *Proxy) explainGone(resp *http.Response, sc *scope.Scope, res livy.Resource, item string) bool {
	if resp.StatusCode != http.StatusNotFound {
		return false
	}
	msg, ok := p.endedMsg(sc, res, item)
	if !ok {
		return false
	}
	resp.Body.Close()
	b, _ := json.Marshal(livy.ErrorBody{Msg: msg})
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	resp.Header.Set("Content-Type", "application/json")
	resp.Header.Del("Content-Encoding")
	return true
}
