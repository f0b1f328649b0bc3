package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/scope"
)

const (
	sessionCookie = "livygate_admin"
	loginCookie   = "livygate_login"
	// maxSessions bounds the server-side session table.
	maxSessions = 10000
)

// session is one login, kept server-side; the cookie holds only its random id.
type session struct {
	identity auth.Identity
	csrf     string
	expires  time.Time
}

type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	ttl time.Duration
	now func() time.Time
	// key signs the CSRF tokens of Basic-authenticated admins, who have no
	// session; it lives as long as the process.
	key []byte
	// shared, when set, keeps logins where every replica finds them; the
	// map then holds only those made while it could not answer.
	shared *sharedSessions
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{m: map[string]*session{}, ttl: ttl, now: now, key: []byte(randomToken())}
}

// randomToken is 32 random bytes, URL-safe.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // the system's randomness is gone; nothing is safe
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *sessions) create(id auth.Identity) (string, *session) {
	id.Groups = append([]string(nil), id.Groups...)
	sid := randomToken()
	sess := &session{identity: id, csrf: randomToken(), expires: s.now().Add(s.ttl)}
	if s.shared.put(sid, sess) {
		return sid, sess
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m {
		if !now.Before(v.expires) {
			delete(s.m, k)
		}
	}
	if len(s.m) >= maxSessions { // drop the oldest rather than grow without end
		var oldest string
		for k, v := range s.m {
			if oldest == "" || v.expires.Before(s.m[oldest].expires) {
				oldest = k
			}
		}
		delete(s.m, oldest)
	}
	s.m[sid] = sess
	return sid, sess
}

func (s *sessions) get(sid string) *session {
	if sess := s.getLocal(sid); sess != nil {
		return sess
	}
	return s.shared.get(sid, s.now())
}

func (s *sessions) getLocal(sid string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[sid]
	if sess == nil {
		return nil
	}
	if !s.now().Before(sess.expires) {
		delete(s.m, sid)
		return nil
	}
	return sess
}

func (s *sessions) delete(sid string) {
	s.shared.delete(sid)
	s.mu.Lock()
	delete(s.m, sid)
	s.mu.Unlock()
}

// basicCSRF is the CSRF token of an admin who authenticates with Basic on
// every request (browsers resend Basic credentials by themselves, so the
// forms need a token just the same).
func (s *sessions) basicCSRF(user string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("basic\x00" + user))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// viewer is the admin looking at a page.
type viewer struct {
	Identity  *auth.Identity
	CSRF      string
	sessionID string
}

// admin wraps a page: it finds the caller (session cookie, else the
// authenticator chain), lets only admins through, and checks the CSRF token
// of every POST. The scope gets the identity, so the audit trail names who
// did what.
func (u *UI) admin(h func(http.ResponseWriter, *http.Request, *viewer)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := scope.From(r.Context())
		v, ok := u.identify(w, r)
		if !ok {
			return
		}
		sc.Identity = v.Identity
		if !v.Identity.Admin {
			sc.Refuse("admins only")
			u.errorPage(w, r, nil, http.StatusForbidden, "This page is only for gateway administrators. You are signed in as "+v.Identity.User+".")
			return
		}
		if r.Method == http.MethodPost && !validCSRF(r, v.CSRF) {
			sc.Refuse("missing or wrong CSRF token")
			u.errorPage(w, r, v, http.StatusForbidden, "The form was missing its security token or it did not match. Reload the page and try again.")
			return
		}
		h(w, r, v)
	})
}

func validCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue("csrf")
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// identify answers itself (redirect to the login form, 401, 429, 503) when
// the caller is not known; ok says whether to go on.
func (u *UI) identify(w http.ResponseWriter, r *http.Request) (*viewer, bool) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if sess := u.sessions.get(c.Value); sess != nil {
			id := sess.identity
			return &viewer{Identity: &id, CSRF: sess.csrf, sessionID: c.Value}, true
		}
	}
	id, err := u.opts.Authn.Authenticate(r.Context(), r)
	if err == nil && id != nil {
		return &viewer{Identity: id, CSRF: u.sessions.basicCSRF(id.User)}, true
	}
	sc := scope.From(r.Context())
	if err == nil || errors.Is(err, auth.ErrNoCredentials) {
		sc.Refuse("no credentials")
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, Prefix+"login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return nil, false
		}
		u.errorPage(w, r, nil, http.StatusUnauthorized, "Please sign in first.")
		return nil, false
	}
	u.authFailed(w, r, err)
	return nil, false
}

// authFailed answers a failed authentication the way the API does: 429 when
// locked out, 503 when the directory is down (never 401), 401 otherwise.
func (u *UI) authFailed(w http.ResponseWriter, r *http.Request, err error) {
	sc := scope.From(r.Context())
	var locked *auth.LockedError
	switch {
	case errors.As(err, &locked):
		sc.Refuse("locked out after failed logins")
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(locked.RetryAfter.Seconds()))))
		u.errorPage(w, r, nil, http.StatusTooManyRequests, locked.Error())
	case errors.Is(err, auth.ErrBadCredentials):
		sc.Refuse("invalid credentials")
		u.errorPage(w, r, nil, http.StatusUnauthorized, "Wrong user name or password.")
	default:
		sc.Fail("authentication backend unavailable")
		u.errorPage(w, r, nil, http.StatusServiceUnavailable, "The authentication service is unavailable; try again later.")
	}
}

// loginForm shows the form. A per-form random value, in a short-lived
// cookie and in a hidden field, keeps other sites from posting logins.
func (u *UI) loginForm(w http.ResponseWriter, r *http.Request) {
	u.renderLogin(w, r, http.StatusOK, "", r.URL.Query().Get("next"), "")
}

func (u *UI) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg, next, user string) {
	token := randomToken()
	http.SetCookie(w, &http.Cookie{
		Name: loginCookie, Value: token, Path: Prefix + "login", MaxAge: 600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: u.secure(r),
	})
	u.render(w, r, status, "login", nil, map[string]any{
		"Title": "Sign in", "Error": msg, "Next": safeNext(next), "User": user, "LoginCSRF": token,
	})
}

// login checks the form's credentials through the same authenticator chain
// as Basic (so the lockout and the directory rules apply), or, with no user
// name, the password as a JupyterHub token; then starts a session for an
// admin.
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	sc := scope.From(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	user, password, next := r.PostFormValue("user"), r.PostFormValue("password"), r.PostFormValue("next")
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		sc.Refuse("missing or wrong CSRF token")
		u.renderLogin(w, r, http.StatusForbidden, "The form expired. Please try again.", next, user)
		return
	}
	probe := r.Clone(r.Context())
	probe.Header = http.Header{}
	if strings.TrimSpace(user) == "" && password != "" {
		// No user name: the password is a JupyterHub API token, for Hub
		// admins who have no directory account (auth.hub_token).
		probe.Header.Set("Authorization", "token "+password)
	} else {
		probe.SetBasicAuth(user, password)
	}
	id, err := u.opts.Authn.Authenticate(r.Context(), probe)
	var locked *auth.LockedError
	switch {
	case err == nil && id != nil:
	case errors.As(err, &locked):
		sc.Refuse("locked out after failed logins")
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(locked.RetryAfter.Seconds()))))
		u.renderLogin(w, r, http.StatusTooManyRequests, locked.Error(), next, user)
		return
	case err == nil, errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrNoCredentials):
		sc.Refuse("invalid credentials")
		u.renderLogin(w, r, http.StatusUnauthorized, "Wrong user name or password.", next, user)
		return
	default:
		sc.Fail("authentication backend unavailable")
		u.renderLogin(w, r, http.StatusServiceUnavailable, "The authentication service is unavailable; try again later.", next, user)
		return
	}
	sc.Identity = id
	if !id.Admin {
		sc.Refuse("admins only")
		u.renderLogin(w, r, http.StatusForbidden, "Only gateway administrators may sign in here.", next, "")
		return
	}
	sid, _ := u.sessions.create(*id)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: Prefix + "login", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: u.secure(r)})
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: sid, Path: "/admin",
		MaxAge: int(u.opts.SessionTTL.Seconds()), Expires: u.opts.Now().Add(u.opts.SessionTTL),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: u.secure(r),
	})
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request, v *viewer) {
	if v.sessionID != "" {
		u.sessions.delete(v.sessionID)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/admin", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: u.secure(r)})
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}

func (u *UI) secure(r *http.Request) bool { return u.opts.Secure || r.TLS != nil }

// safeNext keeps the post-login redirect inside the UI: no other host, no
// scheme-relative "//evil", no backslash tricks.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.ContainsAny(next, "\\\r\n") || strings.Contains(next, "//") {
		return Prefix
	}
	return next
}
