// Package proxy is the Livy-facing half of the gateway: it forwards an
// authenticated caller's request to Livy after forcing proxyUser, checking
// ownership and the conf policy, and masks secrets in what Livy answers.
package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
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
	// Warm, when set, hands over warm sessions (gateway/warm); see warm.go.
	Warm Warm
	Log  logrus.FieldLogger
	// MaxInFlight, when positive, is how many requests are proxied at once;
	// the rest wait their turn, in order, before any work is done for them.
	MaxInFlight int
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
	// turns admits MaxInFlight requests at a time (nil: no bound);
	// waiting counts the requests waiting for one.
	turns   chan struct{}
	waiting atomic.Int64
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
			HTTP:     &http.Client{Transport: opts.Transport},
			Timeout:  opts.Timeout,
			Username: opts.Username,
			Password: opts.Password,
		},
		owners: newOwnerCache(opts.OwnerCacheTTL, ownerCacheMax, opts.Now),
	}
	if opts.MaxInFlight > 0 {
		p.turns = make(chan struct{}, opts.MaxInFlight)
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

// Load is how many requests are being proxied and how many wait their
// turn (Options.MaxInFlight; both 0 without a bound).
func (p *Proxy) Load() (inFlight, waiting int) {
	return len(p.turns), int(p.waiting.Load())
}

// takeTurn waits for one of Options.MaxInFlight turns, in arrival order; it
// reports false when the client left first. Without a bound it admits at once.
func (p *Proxy) takeTurn(ctx context.Context) bool {
	if p.turns == nil {
		return true
	}
	p.waiting.Add(1)
	defer p.waiting.Add(-1)
	select {
	case p.turns <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// giveTurn hands back the turn takeTurn gave.
func (p *Proxy) giveTurn() {
	if p.turns != nil {
		<-p.turns
	}
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
		p.tooLarge(w, r, r.Body)
		return
	}
	// Bodies without a Content-Length are cut at the same size (413 below).
	if r.ContentLength != 0 {
		cb := &cappedBody{http.MaxBytesReader(w, r.Body, p.opts.MaxBodyBytes), r.Body}
		r.Body = cb
		r = r.WithContext(context.WithValue(r.Context(), cappedKey{}, cb))
	}
	if msg := routingTrick(r); msg != "" {
		sc.Refuse(msg)
		respond.Error(w, r, http.StatusBadRequest, msg)
		return
	}
	if hasDotSegment(r.URL.Path) {
		sc.Refuse("dot or empty path segment")
		respond.Error(w, r, http.StatusBadRequest, "the path must not contain empty, '.' or '..' segments")
		return
	}
	// Only requests that may reach Livy wait their turn (Options.MaxInFlight).
	if !p.takeTurn(r.Context()) {
		sc.Fail("client went away while waiting its turn")
		w.WriteHeader(499) // nobody reads it; the access log does
		return
	}
	defer p.giveTurn()
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
		// HEAD would show the size of everyone's list; nothing else exists.
		w.Header().Set("Allow", "GET, POST")
		sc.Refuse("method not allowed")
		respond.Error(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed on /"+string(lp.Resource))
	default:
		p.item(w, r, lp)
	}
}

func (p *Proxy) tooLargeMsg() string {
	return fmt.Sprintf("request body is larger than %d bytes", p.opts.MaxBodyBytes)
}

// cappedBody is a request body cut at MaxBodyBytes that still reaches the
// body as the client sent it, to drain it. Closing it does nothing (the
// transport closes a body it failed to send; the server closes it after the
// answer), so the drain can still read.
type cappedBody struct {
	io.ReadCloser
	orig io.ReadCloser
}

func (*cappedBody) Close() error { return nil }

type cappedKey struct{}

// drainMax bounds how much of an oversized body is read and dropped.
const drainMax = 16 << 20

// tooLarge answers 413 after reading and dropping a bounded amount of the
// body: clients that write the whole body before reading (Python's urllib)
// would otherwise get a connection reset instead of the answer. The
// server's read timeout bounds the time this takes.
func (p *Proxy) tooLarge(w http.ResponseWriter, r *http.Request, body io.Reader) {
	if cb, ok := r.Context().Value(cappedKey{}).(*cappedBody); ok {
		body = cb.orig
	}
	_, _ = io.CopyN(io.Discard, body, drainMax)
	w.Header().Set("Connection", "close")
	respond.Error(w, r, http.StatusRequestEntityTooLarge, p.tooLargeMsg())
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

// routingTrick names what in r Livy's router would read as another request
// than the one the gateway checks, or "": a ';' (Livy cuts the path there),
// a _method parameter (Livy takes it as the method of a POST), or a
// multipart body (its fields are parameters to Livy, _method included)
// anywhere but the upload routes, where no other method has a route.
func routingTrick(r *http.Request) string {
	if livy.RouteCut(r.URL.Path) {
		return "the path must not contain ';'"
	}
	if r.URL.RawQuery != "" {
		for k := range r.URL.Query() {
			if strings.EqualFold(k, livy.MethodOverrideParam) {
				return "the " + livy.MethodOverrideParam + " parameter is not accepted"
			}
		}
	}
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/") {
		lp, ok := livy.ParsePath(r.URL.Path)
		if !ok || lp.Item == "" || !strings.HasPrefix(lp.Rest, "upload-") || strings.Contains(lp.Rest, "/") {
			return "multipart bodies are only accepted by the upload routes"
		}
	}
	return ""
}

func isFormBody(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// item serves /{sessions,batches}/{id or name}[/…] to the owner or an admin.
// Anyone else gets exactly Livy's 404, so existence does not leak. The owner
// is always the one Livy answers: a fresh look-up before anything else, or,
// for the polls of GET /{id} that the cache lets through, the answer itself
// checked before it is returned. Livy then gets the numeric id it named, so
// what was checked is what Livy acts on.
func (p *Proxy) item(w http.ResponseWriter, r *http.Request, lp livy.Path) {
	sc := scope.From(r.Context())
	sc.SessionID = lp.Item
	notFound := func() { respond.LivyError(w, http.StatusNotFound, lp.Resource.NotFoundMessage(lp.Item)) }
	target, ok := p.resolveItem(sc.Identity, lp.Item)
	if !ok {
		sc.Refuse("no such session name")
		notFound()
		return
	}
	id, isID := livy.ParseID(target)
	if isID && r.Method == http.MethodGet && lp.Rest == "" {
		if o, hit := p.owners.get(lp.Resource, id); hit && (o.user == sc.Identity.User && !p.hidden(o.name) || sc.Identity.Admin) {
			sc.ProxyUser = o.user
			p.forwardItem(w, r, lp, id, o.secrets)
			return
		}
	}
	s, _, err := p.livy.Get(r.Context(), lp.Resource, target)
	switch {
	case livy.IsNotFound(err):
		if isID {
			p.owners.evict(lp.Resource, id)
		}
		if msg, ended := p.endedMsg(sc, lp.Resource, target); ended {
			respond.LivyError(w, http.StatusNotFound, msg)
			return
		}
		notFound()
		return
	case err != nil:
		p.upstreamError(w, r, err)
		return
	}
	o := p.ownerOf(s)
	sc.SessionID = strconv.Itoa(s.ID)
	sc.ProxyUser = o.user
	if !sc.Identity.Admin && (o.user != sc.Identity.User || p.hidden(o.name)) {
		sc.Refuse("not the owner")
		notFound()
		return
	}
	p.owners.put(lp.Resource, s.ID, o)
	p.used(lp.Resource, s.ID, r, lp.Rest)
	p.forwardItem(w, r, lp, s.ID, o.secrets)
}

// resolveItem turns the caller's item segment into what Livy is asked for:
// an id as it is, the caller's own name as its namespaced Livy name, and for
// admins a raw Livy name with its owner ("bob~etl"). ok is false for an item
// nobody can have named: it never reaches Livy.
func (p *Proxy) resolveItem(id *auth.Identity, item string) (string, bool) {
	if n, isID := livy.ParseID(item); isID {
		return item, n >= 0
	}
	if validName(item) {
		return livyName(id.User, item), true
	}
	if id.Admin && validRawName(item) {
		return item, true
	}
	return "", false
}

// forwardItem proxies r to Livy as /{resource}/{id}/{rest}. A GET of the
// item itself is checked against the caller before it is returned (its
// owner from the answer), and shows the caller's own name without prefix.
func (p *Proxy) forwardItem(w http.ResponseWriter, r *http.Request, lp livy.Path, id int, secrets []string) {
	sc := scope.From(r.Context())
	r.URL.Path = "/" + string(lp.Resource) + "/" + strconv.Itoa(id)
	if lp.Rest != "" {
		r.URL.Path += "/" + lp.Rest
	}
	r.URL.RawPath = ""
	p.forward(w, r, func(resp *http.Response) error {
		switch {
		case r.Method == http.MethodDelete && resp.StatusCode/100 == 2,
			resp.StatusCode == http.StatusNotFound:
			p.owners.evict(lp.Resource, id)
		}
		if p.explainGone(resp, sc, lp.Resource, strconv.Itoa(id)) {
			return nil
		}
		if r.Method == http.MethodGet && lp.Rest == "" && resp.StatusCode == http.StatusOK {
			return p.checkItemAnswer(resp, lp, id, sc, secrets)
		}
		return p.redactBody(resp, secrets)
	})
}

// checkItemAnswer returns Livy's session object only when it is the
// caller's: the answer decides, whatever the cache said. Sensitive conf
// keys are masked by name in any case; secrets are the session's values to
// mask where Livy echoes them.
func (p *Proxy) checkItemAnswer(resp *http.Response, lp livy.Path, id int, sc *scope.Scope, secrets []string) error {
	body, err := readAnswer(resp)
	if err != nil {
		return err
	}
	var head livy.Brief // the fields that decide, not the conf: polls stay cheap
	if err := json.Unmarshal(body, &head); err != nil || head.ID != id {
		return &answerError{status: http.StatusBadGateway, msg: "Livy's answer is not the session asked for"}
	}
	user := head.User()
	if !sc.Identity.Admin && user != sc.Identity.User {
		p.owners.evict(lp.Resource, id)
		sc.Refuse("not the owner")
		return &answerError{status: http.StatusNotFound, msg: lp.Resource.NotFoundMessage(lp.Item), livy: true}
	}
	body = renameInBody(body, head.SessionName(), user, sc.Identity.User)
	return replaceBody(resp, body, p.policyFor(sc), secrets)
}

// policyFor is the redaction policy for answers to the request's caller.
func (p *Proxy) policyFor(sc *scope.Scope) *policy.Policy {
	if sc == nil || sc.Identity == nil {
		return p.opts.Policy
	}
	return p.opts.Policy.ForCaller(sc.Identity.User, sc.Identity.Groups, sc.Identity.Admin)
}

func (p *Proxy) ownerOf(s *livy.Session) owner {
	return owner{
		user:    s.User(),
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
	// Send Livy exactly the path the gateway checked: every segment of its
	// decoded form escaped, so an encoded slash cannot name another item
	// upstream and no character is left for Livy's router to read.
	out.URL.RawPath = livy.EscapePath(out.URL.Path)
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
	livy   bool // answer exactly as Livy would (a non-owner's 404)
}

func (e *answerError) Error() string { return e.msg }

// upstreamError answers for a Livy that failed or was refused by a hook:
// 504 for a timeout, 502 when Livy cannot be reached; never a hang.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	sc := scope.From(r.Context())
	var ae *answerError
	var ne net.Error
	var tooBig *http.MaxBytesError
	var unsent interface {
		error
		HTTPStatus() int
	}
	switch {
	case errors.As(err, &tooBig):
		sc.Refuse("body too large")
		p.tooLarge(w, r, r.Body)
	case errors.As(err, &ae) && ae.livy:
		respond.LivyError(w, ae.status, ae.msg)
	case errors.As(err, &ae):
		sc.Fail(ae.msg)
		respond.Error(w, r, ae.status, ae.msg)
	case errors.Is(r.Context().Err(), context.Canceled):
		sc.Fail("client went away")
		w.WriteHeader(499) // nobody reads it; the access log does
	case errors.As(err, &unsent):
		// The transport refused before anything reached Livy (a backend
		// that is down, by name): its own status and words.
		sc.Fail(unsent.Error())
		respond.Error(w, r, unsent.HTTPStatus(), unsent.Error())
	case mayHaveCreated(r, err) && p.recoverCreate(w, r, r.Context().Value(createKey{}).(*createPlan)):
		// Livy did create it: answered as Livy would have.
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

// mayHaveCreated reports a create whose request may have reached Livy
// although no answer came back: anything but a failure to connect.
func mayHaveCreated(r *http.Request, err error) bool {
	if _, ok := r.Context().Value(createKey{}).(*createPlan); !ok {
		return false
	}
	var oe *net.OpError
	return !(errors.As(err, &oe) && oe.Op == "dial")
}

// errorCause keeps the innermost reason ("connection refused") without the
// URL noise of net/http's wrapping.
func errorCause(err error) string {
	for next := errors.Unwrap(err); next != nil; next = errors.Unwrap(err) {
		err = next
	}
	return err.Error()
}
