package server

import (
	"net/http"
	"strings"

	"github.com/livygate/livygate/gateway/respond"
	"github.com/livygate/livygate/gateway/token"
)

// access says who may reach a route; the router adds the checks.
type access int

const (
	anyone    access = iota // no login: health checks, public keys
	ownLogin                // the handler does its own login (the admin UI)
	caller                  // any authenticated caller
	adminOnly               // an authenticated gateway admin
)

// guard wraps h in the checks a asks for.
func (o Options) guard(h http.Handler, a access) http.Handler {
	switch a {
	case caller:
		return authenticate(h, o.Authn, o.Realm, o.OnAuth)
	case adminOnly:
		return authenticate(requireAdmin(h), o.Authn, o.Realm, o.OnAuth)
	}
	return h
}

// route is one line of the routing table.
type route struct {
	// path is a gorilla/mux path template; a trailing "*" makes it a prefix.
	path string
	// methods lists what the route takes; nil takes every method (the
	// handler answers the rest). A method left out falls to a later line.
	methods []string
	access  access
	// handler nil leaves the line out: the feature is off and its paths fall
	// to a later line, as before it existed.
	handler http.Handler
}

var getOrHead = []string{http.MethodGet, http.MethodHead}

// routes is every route of the gateway, first match wins. The last line is
// the catch-all; the router sends paths no other line could match straight
// to it.
func (o Options) routes() []route {
	var jwks, allPEM, pemByKID, discovery, otherKeys http.Handler
	if o.Keys != nil {
		jwks, allPEM, pemByKID = http.HandlerFunc(o.Keys.JWKS), http.HandlerFunc(o.Keys.AllPEM), http.HandlerFunc(o.Keys.PEMByKID)
		discovery = http.HandlerFunc(o.Keys.OpenIDConfiguration)
		otherKeys = notFound("not found")
	}
	return []route{
		{"/healthz", getOrHead, anyone, http.HandlerFunc(healthz)},
		{"/readyz", getOrHead, anyone, readyz(o.Ready)},
		{token.JWKSPath, getOrHead, anyone, jwks},
		{token.OpenIDConfigPath, getOrHead, anyone, discovery},
		{"/.well-known/livygate/keys.pem", getOrHead, anyone, allPEM},
		{"/.well-known/livygate/keys/{file}", getOrHead, anyone, pemByKID},
		{"/.well-known/*", nil, anyone, otherKeys},
		{"/token", nil, caller, o.Token}, // answers 405 with Allow itself
		{"/admin/sync", getOrHead, adminOnly, o.AdminSync},
		{"/admin/reaper", getOrHead, adminOnly, o.AdminReaper},
		{"/admin/livy/metrics", getOrHead, adminOnly, o.LivyMetrics},
		{"/metrics", getOrHead, adminOnly, o.Metrics},
		// The admin UI is one mounted app: its login form, session cookie,
		// CSRF checks and security headers wrap every page, so its pages
		// are listed in ui.routes.
		{"/admin/ui*", nil, ownLogin, o.UI},
		{"/admin/*", nil, adminOnly, notFound("no such admin endpoint")},
		{"/*", nil, caller, o.Livy},
	}
}

// routeClass is the metrics' label for a path: which part of the table
// answers it.
func routeClass(path string) string {
	switch {
	case path == "/healthz" || path == "/readyz":
		return "health"
	case strings.HasPrefix(path, "/.well-known/"):
		return "keys"
	case path == "/token":
		return "token"
	case path == "/metrics":
		return "metrics"
	case strings.HasPrefix(path, "/admin/ui"):
		return "ui"
	case strings.HasPrefix(path, "/admin/"):
		return "admin"
	}
	return "livy"
}

func notFound(msg string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respond.Error(w, r, http.StatusNotFound, msg)
	})
}
