package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/logging"
	"github.com/livygate/livygate/gateway/respond"
	"github.com/livygate/livygate/gateway/scope"
)

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the real writer, so
// proxied answers still stream.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// requestIDPrefix makes ids unique across restarts; the counter makes them
// unique within a process without a random read per request.
var (
	requestIDPrefix = func() string {
		var b [6]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}()
	requestCounter atomic.Uint64
)

func newRequestID() string {
	return requestIDPrefix + "-" + strconv.FormatUint(requestCounter.Add(1), 36)
}

// withScope gives every request an id and a scope, logs it when it ends, and
// records an audit event for every mutating call and every refusal. The id is
// always the gateway's own: a client-sent X-Request-Id is not trusted.
func withScope(next http.Handler, o Options) http.Handler {
	log, sink, now := o.Log, o.Audit, o.Now
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		client, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			client = r.RemoteAddr
		}
		sc := &scope.Scope{RequestID: newRequestID(), ClientAddr: client}
		w.Header().Set("X-Request-Id", sc.RequestID)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.WithField("request_id", sc.RequestID).Errorf("panic: %v", p)
				sc.Fail("internal error")
				if rec.status == 0 {
					respond.Error(rec, r, http.StatusInternalServerError, "internal error")
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			d := now().Sub(start)
			finish(log, sink, r, sc, rec.status, d, start)
			if o.Observe != nil {
				o.Observe(routeClass(r.URL.Path), r.Method, rec.status, d)
			}
		}()
		next.ServeHTTP(rec, r.WithContext(scope.With(r.Context(), sc)))
	})
}

func finish(log logrus.FieldLogger, sink audit.Sink, r *http.Request, sc *scope.Scope, status int, d time.Duration, start time.Time) {
	outcome := sc.Outcome
	if outcome == "" {
		switch {
		case status >= 500:
			outcome = scope.OutcomeError
		case status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusTooManyRequests:
			outcome = scope.OutcomeRefused
		default:
			outcome = scope.OutcomeOK
		}
	}
	logging.LogRequest(log, &logging.Request{
		RequestID: sc.RequestID, User: sc.User(), ProxyUser: sc.ProxyUser, SessionID: sc.SessionID,
		Client: sc.ClientAddr, Method: r.Method,
		Path:   r.URL.Path, // never the query: it may carry anything
		Status: status, Outcome: outcome,
		DurationMS: math.Round(float64(d.Microseconds())/10) / 100,
	})
	if isMutating(r.Method) || outcome != scope.OutcomeOK || sc.Audit {
		detail := sc.Detail
		detail.Outcome = outcome
		sink.Record(audit.Event{
			Time: start, RequestID: sc.RequestID, User: sc.User(), ClientAddr: sc.ClientAddr,
			Method: r.Method, Path: r.URL.Path, Detail: detail, Status: status,
		})
	}
}

func isMutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// authenticate puts the verified caller into the scope or answers: 401 for
// missing or wrong credentials, 429 when locked out, 503 when the identity
// backend is down (never 401, so an outage is not taken for a bad password).
func authenticate(next http.Handler, authn auth.Authenticator, realm string, onAuth func(scheme, outcome string)) http.Handler {
	challenge := fmt.Sprintf("Basic realm=%q, charset=\"UTF-8\"", realm)
	if onAuth == nil {
		onAuth = func(string, string) {}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := scope.From(r.Context())
		id, err := authn.Authenticate(r.Context(), r)
		onAuth(authScheme(r), authOutcome(id, err))
		var locked *auth.LockedError
		switch {
		case err == nil && id != nil:
			sc.Identity = id
			next.ServeHTTP(w, r)
		case errors.As(err, &locked):
			sc.Refuse("locked out after failed logins")
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(locked.RetryAfter.Seconds()))))
			respond.Error(w, r, http.StatusTooManyRequests, locked.Error())
		case errors.Is(err, auth.ErrUnavailable):
			sc.Fail("authentication backend unavailable")
			respond.Error(w, r, http.StatusServiceUnavailable, "the authentication service is unavailable; try again later")
		case err == nil, errors.Is(err, auth.ErrNoCredentials):
			sc.Refuse("no credentials")
			w.Header().Set("WWW-Authenticate", challenge)
			respond.Error(w, r, http.StatusUnauthorized, "authentication required")
		case errors.Is(err, auth.ErrBadCredentials):
			sc.Refuse("invalid credentials")
			w.Header().Set("WWW-Authenticate", challenge)
			respond.Error(w, r, http.StatusUnauthorized, "invalid credentials")
		default:
			sc.Fail("authentication failed: " + err.Error())
			respond.Error(w, r, http.StatusServiceUnavailable, "authentication failed; try again later")
		}
	})
}

// authScheme names how the caller tried to log in, from the Authorization
// header's scheme alone (never its value).
func authScheme(r *http.Request) string {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch s := strings.ToLower(scheme); s {
	case "basic", "bearer", "token":
		return s
	case "":
		return "none"
	}
	return "other"
}

// authOutcome sorts an authentication's result as the answer does.
func authOutcome(id *auth.Identity, err error) string {
	var locked *auth.LockedError
	switch {
	case err == nil && id != nil:
		return "ok"
	case errors.As(err, &locked):
		return "locked"
	case err == nil, errors.Is(err, auth.ErrNoCredentials):
		return "missing"
	case errors.Is(err, auth.ErrBadCredentials) && !errors.Is(err, auth.ErrUnavailable):
		return "invalid"
	}
	return "unavailable"
}

// requireAdmin lets only gateway admins through.
func requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := scope.From(r.Context())
		if sc.Identity == nil || !sc.Identity.Admin {
			sc.Refuse("admins only")
			respond.Error(w, r, http.StatusForbidden, r.URL.Path+" is only for gateway admins")
			return
		}
		next.ServeHTTP(w, r)
	})
}
