package proxy

// Warm sessions (gateway/warm): the proxy creates them through its own
// create path, hands one over on an equivalent create, and keeps one not
// yet adopted out of its user's sight.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/scope"
	"github.com/livygate/livygate/livy"
)

// Warm is the warm sessions as the proxy sees them.
type Warm interface {
	// Adopt hands runAs a warm session equivalent to req (a create already
	// completed by policy and limits, without name or proxyUser), with
	// Livy's answer for it; ok false when there is none.
	Adopt(ctx context.Context, runAs string, req map[string]json.RawMessage) (s *livy.Session, raw []byte, ok bool)
	// Hidden reports whether the session of this Livy name is a warm one
	// not adopted yet: its user does not see it.
	Hidden(name string) bool
}

// warmKey marks the context of a warm create.
type warmKey struct{}

type warmCreate struct {
	name      string
	completed []byte
}

// IsWarmCreate reports whether ctx is a warm create's (the Governor then
// does not count it against the user's limits: warm.max_total caps it).
func IsWarmCreate(ctx context.Context) bool {
	_, ok := ctx.Value(warmKey{}).(*warmCreate)
	return ok
}

// warmCreate is the Livy name of a warm create (and records its completed
// body), or false for any other create.
func (p *Proxy) warmCreate(ctx context.Context, res livy.Resource, req map[string]json.RawMessage) (string, bool) {
	wc, ok := ctx.Value(warmKey{}).(*warmCreate)
	if !ok || res != livy.Sessions {
		return "", false
	}
	wc.completed = completedBody(req)
	return wc.name, true
}

// completedBody is a create's body as adoption compares it.
func completedBody(req map[string]json.RawMessage) []byte {
	c := make(map[string]json.RawMessage, len(req))
	for k, v := range req {
		if k != "name" && k != "proxyUser" {
			c[k] = v
		}
	}
	b, _ := json.Marshal(c)
	return b
}

// adoptWarm asks for a warm session for an unnamed session create by a
// caller for themselves.
func (p *Proxy) adoptWarm(ctx context.Context, res livy.Resource, sc *scope.Scope, runAs string, req map[string]json.RawMessage) (*livy.Session, []byte, bool) {
	if p.opts.Warm == nil || res != livy.Sessions || runAs != sc.Identity.User {
		return nil, nil, false
	}
	if raw, ok := req["name"]; ok && string(raw) != "null" {
		return nil, nil, false
	}
	var c map[string]json.RawMessage
	_ = json.Unmarshal(completedBody(req), &c)
	return p.opts.Warm.Adopt(ctx, runAs, c)
}

// answerAdopted answers a create with the warm session it adopted, as
// Livy answers a create: 201, the session, its Location.
func (p *Proxy) answerAdopted(w http.ResponseWriter, r *http.Request, plan *createPlan) {
	s := plan.adopted
	// Its idle time starts now, not when it was started ahead of time.
	if g := p.opts.Governor; g != nil {
		g.Used(livy.Sessions, s.ID, http.MethodPost, "statements")
	}
	p.answerCreated(w, r, s, plan.adoptedRaw, livy.Sessions, plan)
}

// hidden reports a warm session not adopted yet.
func (p *Proxy) hidden(name string) bool {
	return p.opts.Warm != nil && p.opts.Warm.Hidden(name)
}

// CreateWarm creates a warm session for user, named name, from body,
// through the same create path as the user's own creates: the policy, the
// limits (counts aside), conf completion and proxyUser forced to user. It
// returns the session's id and its completed body.
func (p *Proxy) CreateWarm(ctx context.Context, id *auth.Identity, name string, body []byte) (int, []byte, error) {
	wc := &warmCreate{name: name}
	sc := &scope.Scope{RequestID: "warm-" + name, Identity: id}
	ctx = context.WithValue(scope.With(ctx, sc), warmKey{}, wc)
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/sessions", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	// Livy's CSRF protection wants the header Sparkmagic sends.
	r.Header.Set("X-Requested-By", "livygate-warm")
	rec := &recorder{header: http.Header{}}
	p.create(rec, r, livy.Sessions)
	if rec.status != http.StatusCreated {
		var e livy.ErrorBody
		_ = json.Unmarshal(rec.body.Bytes(), &e)
		return 0, nil, fmt.Errorf("the create was answered %d: %s", rec.status, e.Msg)
	}
	var s struct {
		ID *int `json:"id"`
	}
	if json.Unmarshal(rec.body.Bytes(), &s) != nil || s.ID == nil {
		return 0, nil, fmt.Errorf("the create's answer has no id")
	}
	return *s.ID, wc.completed, nil
}

// recorder is the ResponseWriter of a create the gateway makes itself.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
