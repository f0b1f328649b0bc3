// Package proxy is the Livy-facing half of the gateway: it forwards an
// authenticated caller's request to Livy after forcing proxyUser, checking
// ownership and the conf policy, and masks secrets in what Livy answers.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/respond"
	"github.com/livygate/livygate/gateway/scope"
	"github.com/livygate/livygate/livy"
)

// Options configure a Proxy.
type Options struct {
	Upstream *url.URL
	// Transport reaches Livy; its ResponseHeaderTimeout bounds a slow Livy.
	Transport http.RoundTripper
	// Timeout is reported in 504 answers and bounds the gateway's own calls.
	Timeout time.Duration
	// Username and Password authenticate the gateway to Livy, when set.
	Username, Password string

	Policy               *policy.Policy
	AdminsMayImpersonate bool
	MaxBodyBytes         int64
	OwnerCacheTTL        time.Duration
	// FinishConf, when set, completes a create's Spark conf after the policy
	// passed it and just before Livy gets it (secret references, token
	// delivery).
	FinishConf ConfFinisher
	// Governor, when set, applies session governance (limits, the reaper's
	// activity and explanations); see governor.go.
	Governor Governor
	Log      logrus.FieldLogger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ConfFinisher completes the conf of a session or batch that will run as
// runAs. An error that has an HTTPStatus method sets the answer's status;
// any other is a 503.
type ConfFinisher func(ctx context.Context, caller *auth.Identity, runAs string, conf map[string]string) (map[string]string, error)

// Proxy serves Livy's REST API to authenticated callers.
type Proxy struct {
	opts   Options
	rp     *httputil.ReverseProxy
	livy   *livy.Client
	owners *ownerCache
}

// ownerCacheMax bounds the owner cache; Livy servers hold far fewer sessions.
const ownerCacheMax = 100_000

// New builds a Proxy.
func New(opts Options) *Proxy {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Proxy{
		opts: opts,
		livy: &livy.Client{
			BaseURL:  opts.Upstream,
			HTTP:     &http.Client{Transport: opts.Transport, Timeout: opts.Timeout},
			Username: opts.Username,
			Password: opts.Password,
		},
		owners: newOwnerCache(opts.OwnerCacheTTL, ownerCacheMax, opts.Now),
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      opts.Transport,
		ModifyResponse: runAfterHook,
		ErrorHandler:   p.upstreamError,
		BufferPool:     newBufferPool(),
	}
	return p
}

// Livy returns the client the proxy uses for its own calls (readiness).
func (p *Proxy) Livy() *livy.Client { return p.livy }

// ServeHTTP routes by Livy's URL structure. The caller is already
// authenticated: scope.From(ctx).Identity is set.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sc := scope.From(r.Context())
	if sc.Identity == nil {
		respond.Error(w, r, http.StatusUnauthorized, "not authenticated")
		return
	}
	if isFormBody(r) {
		// Livy reads doAs from form bodies too (servlet getParameter); its API
		// takes JSON, so a form body has no honest use.
		sc.Refuse("form-encoded body")
		respond.Error(w, r, http.StatusBadRequest, "form-encoded bodies are not accepted: send JSON")
		return
	}
	if r.ContentLength > p.opts.MaxBodyBytes {
		sc.Refuse("body too large")
		respond.Error(w, r, http.StatusRequestEntityTooLarge, p.tooLargeMsg())
		return
	}
	// Bodies without a Content-Length are cut at the same size (413 below).
	r.Body = http.MaxBytesReader(w, r.Body, p.opts.MaxBodyBytes)
	if hasDotSegment(r.URL.Path) {
		sc.Refuse("dot or empty path segment")
		respond.Error(w, r, http.StatusBadRequest, "the path must not contain empty, '.' or '..' segments")
		return
	}
	lp, ok := livy.ParsePath(r.URL.Path)
	if !ok {
		// Livy's UI, /metrics and /version show every user's sessions.
		if !sc.Identity.Admin {
			sc.Refuse("Livy's own pages are for admins")
			respond.Error(w, r, http.StatusForbidden, fmt.Sprintf("%s is only for gateway admins", r.URL.Path))
			return
		}
		p.forward(w, r, nil)
		return
	}
	switch {
	case lp.Item == "" && r.Method == http.MethodGet:
		p.list(w, r, lp.Resource)
	case lp.Item == "" && r.Method == http.MethodPost:
		p.create(w, r, lp.Resource)
	case lp.Item == "":
		p.forward(w, r, nil) // Livy answers other methods itself
	default:
		p.item(w, r, lp)
	}
}

func (p *Proxy) tooLargeMsg() string {
	return fmt.Sprintf("request body is larger than %d bytes", p.opts.MaxBodyBytes)
}

// hasDotSegment reports "//", "/./" or "/../" anywhere in a path, which Livy's
// server would resolve to another path than the one the gateway checked.
func hasDotSegment(path string) bool {
	for _, seg := range strings.Split(strings.TrimSuffix(path, "/"), "/")[1:] {
		if seg == "" || seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

func isFormBody(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// item serves /{sessions,batches}/{id or name}[/…] to the owner or an admin.
// Anyone else gets exactly Livy's 404, so existence does not leak.
func (p *Proxy) item(w http.ResponseWriter, r *http.Request, lp livy.Path) {
	sc := scope.From(r.Context())
	sc.SessionID = lp.Item
	o, err := p.lookup(r.Context(), lp.Resource, lp.Item)
	switch {
	case errors.Is(err, errNotFound):
		msg, ended := p.endedMsg(sc, lp.Resource, lp.Item)
		if !ended {
			msg = lp.Resource.NotFoundMessage(lp.Item)
		}
		respond.LivyError(w, http.StatusNotFound, msg)
		return
	case err != nil:
		p.upstreamError(w, r, err)
		return
	}
	sc.ProxyUser = o.user
	if !sc.Identity.Admin && o.user != sc.Identity.User {
		sc.Refuse("not the owner")
		respond.LivyError(w, http.StatusNotFound, lp.Resource.NotFoundMessage(lp.Item))
		return
	}
	p.used(lp.Resource, o, r, lp.Rest)
	p.forward(w, r, func(resp *http.Response) error {
		switch {
		case r.Method == http.MethodDelete && resp.StatusCode/100 == 2,
			resp.StatusCode == http.StatusNotFound:
			p.owners.evict(lp.Resource, o)
		}
		if p.explainGone(resp, sc, lp) {
			return nil
		}
		return p.redactBody(resp, o.secrets)
	})
}

var errNotFound = errors.New("no such session")

// lookup finds who owns a session, from the cache or from Livy.
func (p *Proxy) lookup(ctx context.Context, res livy.Resource, item string) (*owner, error) {
	if o := p.owners.get(res, item); o != nil {
		return o, nil
	}
	if _, ok := cacheKey(res, item); !ok {
		return nil, errNotFound // an id Livy cannot parse names nothing
	}
	s, _, err := p.livy.Get(ctx, res, item)
	if livy.IsNotFound(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	o := p.ownerOf(s)
	p.owners.put(res, o)
	return &o, nil
}

func (p *Proxy) ownerOf(s *livy.Session) owner {
	return owner{
		user:    s.User(),
		id:      s.ID,
		name:    s.SessionName(),
		secrets: p.opts.Policy.SensitiveValues(s.Conf),
	}
}

// afterHook runs on Livy's answer before it is copied to the client. An
// error it returns becomes the client's answer instead (see upstreamError).
type afterHook func(*http.Response) error

type afterHookKey struct{}

func runAfterHook(resp *http.Response) error {
	if h, ok := resp.Request.Context().Value(afterHookKey{}).(afterHook); ok && h != nil {
		return h(resp)
	}
	return nil
}

// forward proxies r to Livy, running after on the answer.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, after afterHook) {
	if after != nil {
		r = r.WithContext(context.WithValue(r.Context(), afterHookKey{}, after))
	}
	p.rp.ServeHTTP(w, r)
}

// forwardedHeaders are the only client headers Livy sees. An allow list,
// because identity headers come in endless spellings (X-Forwarded-User,
// Remote-User, X-Remote-User, X-Auth-Request-User, …), and the client's
// Authorization is for the gateway, not for Livy. Accept-Encoding is left
// out on purpose: Go's transport then asks for gzip itself and hands the
// gateway plain bytes it can redact.
var forwardedHeaders = []string{
	"Accept", "Accept-Language", "Cache-Control",
	"Content-Type", "Content-Encoding", "User-Agent", "X-Requested-By",
	"If-None-Match", "If-Modified-Since",
}

// identityParams are query parameters Livy (doAs) and Hadoop's auth filter
// (user.name) read as the user to act as.
var identityParams = []string{"doas", "user.name"}

func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	in, out := pr.In, pr.Out
	// Send Livy exactly the path the gateway checked: re-escape it from the
	// decoded form so an encoded slash cannot name another item upstream.
	out.URL.RawPath = ""
	pr.SetURL(p.opts.Upstream)
	if out.URL.RawQuery != "" { // polls carry none: skip parsing
		out.URL.RawQuery = stripIdentityParams(out.URL.Query()).Encode()
	}

	out.Header = http.Header{}
	for _, h := range forwardedHeaders {
		if v, ok := in.Header[h]; ok {
			out.Header[h] = v
		}
	}
	if p.opts.Username != "" {
		out.SetBasicAuth(p.opts.Username, p.opts.Password)
	}
	if id := scope.From(in.Context()).RequestID; id != "" {
		out.Header.Set("X-Request-Id", id)
	}
}

func stripIdentityParams(q url.Values) url.Values {
	for k := range q {
		for _, bad := range identityParams {
			if strings.EqualFold(k, bad) {
				delete(q, k)
			}
		}
	}
	return q
}

// answerError is an afterHook's verdict: the client gets this status and
// message instead of Livy's answer.
type answerError struct {
	status int
	msg    string
}

func (e *answerError) Error() string { return e.msg }

// upstreamError answers for a Livy that failed or was refused by a hook:
// 504 for a timeout, 502 when Livy cannot be reached; never a hang.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	sc := scope.From(r.Context())
	var ae *answerError
	var ne net.Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		sc.Refuse("body too large")
		respond.Error(w, r, http.StatusRequestEntityTooLarge, p.tooLargeMsg())
	case errors.As(err, &ae):
		sc.Fail(ae.msg)
		respond.Error(w, r, ae.status, ae.msg)
	case errors.Is(r.Context().Err(), context.Canceled):
		sc.Fail("client went away")
		w.WriteHeader(499) // nobody reads it; the access log does
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		sc.Fail("livy timed out")
		respond.Error(w, r, http.StatusGatewayTimeout,
			fmt.Sprintf("Livy did not answer within %s", p.opts.Timeout))
	default:
		var se *livy.StatusError
		if errors.As(err, &se) {
			sc.Fail(se.Error())
			respond.Error(w, r, http.StatusBadGateway, "Livy failed: "+se.Msg)
			return
		}
		sc.Fail("livy unreachable")
		p.opts.Log.WithField("request_id", sc.RequestID).WithError(err).Warn("livy unreachable")
		respond.Error(w, r, http.StatusBadGateway, "Livy is unreachable: "+errorCause(err))
	}
}

// errorCause keeps the innermost reason ("connection refused") without the
// URL noise of net/http's wrapping.
func errorCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
