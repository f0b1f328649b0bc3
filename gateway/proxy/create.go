package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/respond"
	"github.com/livygate/livygate/gateway/scope"
	"github.com/livygate/livygate/livy"
)

// create serves POST /sessions and POST /batches: the session runs as the
// caller, whatever the body asked, and only with conf the policy allows.
// A refused request creates nothing upstream.
func (p *Proxy) create(w http.ResponseWriter, r *http.Request, res livy.Resource) {
	sc := scope.From(r.Context())
	body, status, err := p.readBody(r)
	if status == http.StatusRequestEntityTooLarge {
		sc.Refuse(err.Error())
		p.tooLarge(w, r, r.Body)
		return
	}
	if err != nil {
		sc.Refuse(err.Error())
		respond.Error(w, r, status, err.Error())
		return
	}
	plan, status, err := p.rewriteCreate(r.Context(), res, body, sc)
	if err != nil {
		sc.Refuse(err.Error())
		respond.Error(w, r, status, err.Error())
		return
	}
	sc.ProxyUser = plan.runAs
	defer plan.release()
	if plan.adopted != nil {
		p.answerAdopted(w, r, &plan)
		return
	}

	r.Body = io.NopCloser(bytes.NewReader(plan.body))
	r.ContentLength = int64(len(plan.body))
	r.Header.Set("Content-Type", "application/json")
	r = r.WithContext(context.WithValue(r.Context(), createKey{}, &plan))
	p.forward(w, r, func(resp *http.Response) error {
		if resp.StatusCode/100 != 2 {
			return p.redactBody(resp, plan.secrets) // Livy refused; nothing was created
		}
		return p.verifyCreated(resp, res, &plan)
	})
}

// createPlan is what the gateway sends Livy for a create.
type createPlan struct {
	res   livy.Resource
	body  []byte
	runAs string
	// name is the session's unique Livy name: by it the gateway recognises
	// its own create in Livy's answer, or finds it when Livy answers late.
	name string
	// secrets are the sensitive conf values sent, masked in Livy's answer.
	secrets []string
	// release ends the create's admission by the Governor once Livy has
	// answered (never nil).
	release func()
	// adopted is the warm session the create gets instead (and Livy's
	// answer for it); nil for a normal create.
	adopted    *livy.Session
	adoptedRaw []byte
}

type createKey struct{}

// readBody reads the body, which ServeHTTP has already capped at MaxBodyBytes.
func (p *Proxy) readBody(r *http.Request) ([]byte, int, error) {
	b, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge, errors.New(p.tooLargeMsg())
	case err != nil:
		return nil, http.StatusBadRequest, fmt.Errorf("reading request body: %w", err)
	}
	return b, 0, nil
}

// rewriteCreate applies the create rules to a request body and returns the
// body Livy gets and the user the session will run as.
func (p *Proxy) rewriteCreate(ctx context.Context, res livy.Resource, body []byte, sc *scope.Scope) (createPlan, int, error) {
	plan, status, err := p.rewriteCreateBody(ctx, res, body, sc)
	plan.res = res
	if plan.release == nil {
		plan.release = func() {}
	}
	return plan, status, err
}

func (p *Proxy) rewriteCreateBody(ctx context.Context, res livy.Resource, body []byte, sc *scope.Scope) (createPlan, int, error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		return createPlan{}, http.StatusBadRequest, errors.New("request body must be a JSON object")
	}
	if res == livy.Batches {
		// Livy answers 400 to a batch without a file but still registers it,
		// leaving a ghost batch behind: refuse it before Livy sees it.
		var file string
		if json.Unmarshal(req["file"], &file) != nil || strings.TrimSpace(file) == "" {
			return createPlan{}, http.StatusBadRequest, errors.New("a batch needs \"file\": the path of the application to run")
		}
	}
	var asked string
	if raw, ok := req["proxyUser"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &asked); err != nil {
			return createPlan{}, http.StatusBadRequest, errors.New("proxyUser must be a string")
		}
	}
	runAs, err := auth.ActingFor(sc.Identity, asked, p.opts.AdminsMayImpersonate)
	if err != nil {
		return createPlan{}, http.StatusForbidden, fmt.Errorf(
			"proxyUser %q is not allowed: sessions run as the authenticated user %q", asked, sc.Identity.User)
	}
	conf, err := confOf(req)
	if err != nil {
		return createPlan{}, http.StatusBadRequest, err
	}
	if conf != nil {
		if err := p.opts.Policy.CheckConf(conf); err != nil {
			return createPlan{}, http.StatusBadRequest, err
		}
	}
	// Limits before the conf is finished: a refused create mints no token
	// and resolves no secret.
	release, status, err := p.admit(ctx, res, sc, runAs, req)
	if err != nil {
		return createPlan{}, status, err
	}
	if conf, err = confOf(req); err != nil {
		release()
		return createPlan{}, http.StatusBadRequest, err
	}
	warmName, warmCreate := p.warmCreate(ctx, res, req)
	if !warmCreate {
		if s, raw, ok := p.adoptWarm(ctx, res, sc, runAs, req); ok {
			return createPlan{runAs: runAs, name: s.SessionName(), adopted: s, adoptedRaw: raw, release: release}, 0, nil
		}
	}
	if p.opts.FinishConf != nil {
		finished, err := p.opts.FinishConf(ctx, sc.Identity, runAs, conf)
		if err != nil {
			release()
			return createPlan{}, statusOf(err), err
		}
		if !maps.Equal(finished, conf) {
			req["conf"], _ = json.Marshal(finished)
		}
	}
	name := generatedName(runAs)
	if raw, ok := req["name"]; ok && string(raw) != "null" {
		var n string
		if json.Unmarshal(raw, &n) != nil || !validName(n) {
			release()
			return createPlan{}, http.StatusBadRequest, errBadName
		}
		name = livyName(runAs, n)
	}
	if warmCreate {
		name = warmName
	}
	req["name"], _ = json.Marshal(name)
	req["proxyUser"], _ = json.Marshal(runAs)
	out, err := json.Marshal(req)
	if err != nil {
		release()
		return createPlan{}, http.StatusBadRequest, err
	}
	var sent struct {
		Conf map[string]string `json:"conf"`
	}
	_ = json.Unmarshal(req["conf"], &sent.Conf)
	return createPlan{body: out, runAs: runAs, name: name, secrets: p.opts.Policy.SensitiveValues(sent.Conf), release: release}, 0, nil
}

// verifyCreated checks that Livy's answer is the session this create made
// (a 201 with an id and the unique name the gateway gave it) and that Livy
// really runs it as runAs. A Livy with impersonation off silently ignores
// proxyUser and runs everything as itself: such a session is deleted at
// once and the operator told. Nothing else is ever deleted.
func (p *Proxy) verifyCreated(resp *http.Response, res livy.Resource, plan *createPlan) error {
	body, err := readAnswer(resp)
	if err != nil {
		return err
	}
	var s struct {
		livy.Session
		ID *int `json:"id"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &s) != nil || s.ID == nil || s.SessionName() != plan.name {
		return &answerError{status: http.StatusBadGateway, msg: "Livy's answer to a create is not the session the gateway asked for; nothing was deleted"}
	}
	s.Session.ID = *s.ID
	return p.acceptCreated(resp.Request.Context(), &s.Session, body, res, plan, func(b []byte) {
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	})
}

// acceptCreated checks a session the create made and hands the caller's view
// of it to answer.
func (p *Proxy) acceptCreated(ctx context.Context, s *livy.Session, body []byte, res livy.Resource, plan *createPlan, answer func([]byte)) error {
	sc := scope.From(ctx)
	sc.SessionID = strconv.Itoa(s.ID)
	if got := s.User(); got != plan.runAs {
		msg := fmt.Sprintf("Livy created %s %d as %q instead of %q: Livy's impersonation is off. "+
			"The operator must set livy.impersonation.enabled=true in livy.conf; ", res, s.ID, got, plan.runAs)
		if err := p.livy.Delete(ctx, res, s.ID); err != nil && !livy.IsNotFound(err) {
			p.opts.Log.WithError(err).WithField("session_id", s.ID).Error("could not delete a session created without impersonation")
			msg += "deleting it failed, an admin must delete it by hand"
		} else {
			msg += "it was deleted"
		}
		return &answerError{status: http.StatusBadGateway, msg: msg}
	}
	o := p.ownerOf(s)
	p.owners.put(res, s.ID, o)
	body = renameInBody(body, plan.name, plan.runAs, sc.Identity.User)
	if redacted, err := p.policyFor(sc).RedactJSON(body, o.secrets); err == nil {
		body = redacted
	} else {
		return &answerError{status: http.StatusBadGateway, msg: "Livy's answer cannot be checked for secrets"}
	}
	answer(body)
	return nil
}

// answerCreated answers a create with session s (Livy's JSON raw), found
// after the fact or adopted, as Livy answers one: 201, the caller's view
// of the session, its Location.
func (p *Proxy) answerCreated(w http.ResponseWriter, r *http.Request, s *livy.Session, raw []byte, res livy.Resource, plan *createPlan) {
	err := p.acceptCreated(r.Context(), s, raw, res, plan, func(b []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", fmt.Sprintf("/%s/%d", res, s.ID))
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(b)
	})
	if err != nil {
		p.upstreamError(w, r, err)
	}
}

// recoverCreate answers a create whose answer Livy did not send in time:
// Sparkmagic retries every 5xx, so a 5xx for a session Livy did create
// duplicates it. The gateway looks the session up by its unique name for up
// to one more timeout; found, the caller gets it as Livy's 201; not found,
// nothing was created and the 504 stands.
func (p *Proxy) recoverCreate(w http.ResponseWriter, r *http.Request, plan *createPlan) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), p.opts.Timeout)
	defer cancel()
	for {
		s, raw, err := p.livy.Get(ctx, plan.res, plan.name)
		if err == nil {
			p.answerCreated(w, r, s, raw, plan.res, plan)
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(recoverPoll):
		}
	}
}

// recoverPoll is how often recoverCreate asks Livy.
var recoverPoll = 250 * time.Millisecond

// maxRewrite bounds a Livy answer the gateway reads to rewrite.
var maxRewrite int64 = 64 << 20

// redactBody masks secrets in Livy's answer, failing closed: an answer the
// gateway cannot check (encoded, not JSON, JSON with trailing data, too
// large) never reaches the client as it came.
func (p *Proxy) redactBody(resp *http.Response, secrets []string) error {
	if resp.Header.Get("Content-Encoding") != "" {
		return &answerError{status: http.StatusBadGateway, msg: "Livy sent an encoded answer the gateway cannot inspect"}
	}
	if resp.ContentLength == 0 || resp.Request.Method == http.MethodHead {
		return nil
	}
	body, err := readAnswer(resp)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return replaceBody(resp, body, nil, nil)
	}
	if !isJSON(resp) {
		// A Jetty error page, a proxy's HTML: its status stays, its words go,
		// except a 4xx page's title (Livy's CSRF filter says what is missing).
		status := resp.StatusCode
		if status < 400 {
			status = http.StatusBadGateway
		}
		msg := fmt.Sprintf("Livy answered %d with a body that is not JSON", resp.StatusCode)
		if reason := errorPageReason(body); reason != "" && status < 500 {
			msg = fmt.Sprintf("Livy answered %d: %s", status, reason)
		}
		return &answerError{status: status, msg: msg}
	}
	return replaceBody(resp, body, p.policyFor(scope.From(resp.Request.Context())), secrets)
}

// readAnswer reads Livy's whole answer, in one allocation when Livy says how
// long it is (the polling answers do). An answer over maxRewrite is refused,
// never cut: a cut answer cannot be checked.
func readAnswer(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	tooBig := &answerError{status: http.StatusBadGateway, msg: fmt.Sprintf("Livy's answer is larger than %d bytes", maxRewrite)}
	var body []byte
	var err error
	switch n := resp.ContentLength; {
	case n > maxRewrite:
		return nil, tooBig
	case n >= 0:
		body = make([]byte, n)
		_, err = io.ReadFull(resp.Body, body)
	default:
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxRewrite+1))
		if int64(len(body)) > maxRewrite {
			return nil, tooBig
		}
	}
	if err != nil {
		return nil, &answerError{status: http.StatusBadGateway, msg: "reading Livy's answer: " + err.Error()}
	}
	return body, nil
}

// pageTitle is an HTML error page's title, as Jetty writes it: "Error 400 <reason>".
var pageTitle = regexp.MustCompile(`(?is)<title>\s*(?:error\s+\d{3}\s+)?([^<]{1,200})</title>`)

// errorPageReason is the reason in an error page's title, printable ASCII
// only, or "".
func errorPageReason(body []byte) string {
	m := pageTitle.FindSubmatch(body)
	if m == nil {
		return ""
	}
	reason := strings.Join(strings.Fields(string(m[1])), " ")
	for _, r := range reason {
		if r < ' ' || r > '~' {
			return ""
		}
	}
	return reason
}

func isJSON(resp *http.Response) bool {
	return strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")
}

// replaceBody sets resp's body to the redacted body (pol nil: as it is). A
// body that is not exactly one JSON value is refused (fail closed).
func replaceBody(resp *http.Response, body []byte, pol *policy.Policy, secrets []string) error {
	if pol != nil {
		redacted, err := pol.RedactJSON(body, secrets)
		if err != nil {
			return &answerError{status: http.StatusBadGateway, msg: "Livy's answer is not JSON the gateway can check for secrets"}
		}
		body = redacted
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}
