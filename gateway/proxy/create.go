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
	"strconv"
	"strings"

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
	if err != nil {
		sc.Refuse(err.Error())
		respond.Error(w, r, status, err.Error())
		return
	}
	rewritten, runAs, status, err := p.rewriteCreate(r.Context(), res, body, sc)
	if err != nil {
		sc.Refuse(err.Error())
		respond.Error(w, r, status, err.Error())
		return
	}
	sc.ProxyUser = runAs
	rewritten, release, status, err := p.govern(r.Context(), res, sc.Identity, runAs, rewritten)
	if err != nil {
		sc.Refuse(err.Error())
		respond.Error(w, r, status, err.Error())
		return
	}
	defer release()

	r.Body = io.NopCloser(bytes.NewReader(rewritten))
	r.ContentLength = int64(len(rewritten))
	r.Header.Set("Content-Type", "application/json")
	p.forward(w, r, func(resp *http.Response) error {
		if resp.StatusCode/100 != 2 {
			return nil // Livy refused; nothing was created
		}
		return p.verifyCreated(resp, res, runAs)
	})
}

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
func (p *Proxy) rewriteCreate(ctx context.Context, res livy.Resource, body []byte, sc *scope.Scope) ([]byte, string, int, error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		return nil, "", http.StatusBadRequest, errors.New("request body must be a JSON object")
	}
	if res == livy.Batches {
		// Livy answers 400 to a batch without a file but still registers it,
		// leaving a ghost batch behind: refuse it before Livy sees it.
		var file string
		if json.Unmarshal(req["file"], &file) != nil || strings.TrimSpace(file) == "" {
			return nil, "", http.StatusBadRequest, errors.New("a batch needs \"file\": the path of the application to run")
		}
	}
	caller := sc.Identity.User
	runAs := caller
	if raw, ok := req["proxyUser"]; ok && string(raw) != "null" {
		var asked string
		if err := json.Unmarshal(raw, &asked); err != nil {
			return nil, "", http.StatusBadRequest, errors.New("proxyUser must be a string")
		}
		if asked != "" && asked != caller {
			if !sc.Identity.Admin || !p.opts.AdminsMayImpersonate {
				return nil, "", http.StatusForbidden, fmt.Errorf(
					"proxyUser %q is not allowed: sessions run as the authenticated user %q", asked, caller)
			}
			runAs = asked
		}
	}
	var conf map[string]string
	if raw, ok := req["conf"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &conf); err != nil {
			return nil, "", http.StatusBadRequest, errors.New("conf must be an object of string values")
		}
		if err := p.opts.Policy.CheckConf(conf); err != nil {
			return nil, "", http.StatusBadRequest, err
		}
	}
	if p.opts.FinishConf != nil {
		finished, err := p.opts.FinishConf(ctx, sc.Identity, runAs, conf)
		if err != nil {
			status := http.StatusServiceUnavailable
			var hs interface{ HTTPStatus() int }
			if errors.As(err, &hs) {
				status = hs.HTTPStatus()
			}
			return nil, "", status, err
		}
		if !maps.Equal(finished, conf) {
			req["conf"], _ = json.Marshal(finished)
		}
	}
	req["proxyUser"], _ = json.Marshal(runAs)
	out, err := json.Marshal(req)
	if err != nil {
		return nil, "", http.StatusBadRequest, err
	}
	return out, runAs, 0, nil
}

// verifyCreated checks that Livy really runs the new session as runAs. A
// Livy with impersonation off silently ignores proxyUser and runs everything
// as itself: such a session is deleted at once and the operator told.
func (p *Proxy) verifyCreated(resp *http.Response, res livy.Resource, runAs string) error {
	body, err := readAnswer(resp)
	if err != nil {
		return err
	}
	var s livy.Session
	if err := json.Unmarshal(body, &s); err != nil {
		return &answerError{http.StatusBadGateway, "Livy's answer to a create is not a session object"}
	}
	sc := scope.From(resp.Request.Context())
	sc.SessionID = strconv.Itoa(s.ID)
	if got := s.User(); got != runAs {
		msg := fmt.Sprintf("Livy created %s %d as %q instead of %q: Livy's impersonation is off. "+
			"The operator must set livy.impersonation.enabled=true in livy.conf; ", res, s.ID, got, runAs)
		if err := p.livy.Delete(resp.Request.Context(), res, s.ID); err != nil && !livy.IsNotFound(err) {
			p.opts.Log.WithError(err).WithField("session_id", s.ID).Error("could not delete a session created without impersonation")
			msg += "deleting it failed, an admin must delete it by hand"
		} else {
			msg += "it was deleted"
		}
		return &answerError{http.StatusBadGateway, msg}
	}
	o := p.ownerOf(&s)
	p.owners.put(res, o)
	return replaceBody(resp, body, p.opts.Policy, o.secrets)
}

// maxRewrite bounds a Livy answer the gateway reads to rewrite.
const maxRewrite = 64 << 20

// redactBody masks secrets in a JSON answer.
func (p *Proxy) redactBody(resp *http.Response, secrets []string) error {
	if !isJSON(resp) {
		return nil
	}
	if resp.Header.Get("Content-Encoding") != "" {
		// Fail closed: an encoded body cannot be checked for secrets.
		return &answerError{http.StatusBadGateway, "Livy sent an encoded answer the gateway cannot inspect"}
	}
	body, err := readAnswer(resp)
	if err != nil {
		return err
	}
	return replaceBody(resp, body, p.opts.Policy, secrets)
}

// readAnswer reads Livy's whole answer, in one allocation when Livy says how
// long it is (the polling answers do).
func readAnswer(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	var body []byte
	var err error
	if n := resp.ContentLength; n >= 0 && n <= maxRewrite {
		body = make([]byte, n)
		_, err = io.ReadFull(resp.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxRewrite))
	}
	if err != nil {
		return nil, &answerError{http.StatusBadGateway, "reading Livy's answer: " + err.Error()}
	}
	return body, nil
}

func isJSON(resp *http.Response) bool {
	return strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")
}

// replaceBody sets resp's body to the redacted body. A body that is not JSON
// is passed on as it came: it carries no conf the gateway knows to mask.
func replaceBody(resp *http.Response, body []byte, pol *policy.Policy, secrets []string) error {
	if redacted, err := pol.RedactJSON(body, secrets); err == nil {
		body = redacted
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}
