package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"
)

// Router serves the routing table with gorilla/mux. Nearly every request is
// a Livy poll, so a path that starts with none of the table's own literal
// prefixes goes straight to the catch-all, skipping mux's pattern matching
// and its two request copies. The prefixes come from the table itself, so
// they cannot drift from it.
type Router struct {
	mux      *mux.Router
	prefixes []string
	catchAll http.Handler
}

// newRouter builds a Router from a table whose last line is "/*"; guard
// wraps each handler in the checks its access asks for.
func newRouter(table []route, guard func(http.Handler, access) http.Handler) *Router {
	r := &Router{mux: mux.NewRouter()}
	var prefixes []string
	// Livy names sessions freely; keep paths as sent and let the proxy's own
	// parser refuse dot segments instead of redirecting.
	r.mux.SkipClean(true)
	for _, rt := range table {
		if rt.handler == nil {
			continue
		}
		h := guard(rt.handler, rt.access)
		literal, isPrefix := strings.CutSuffix(rt.path, "*")
		if rt.path == "/*" {
			r.catchAll = h
		} else {
			prefixes = append(prefixes, strings.Split(literal, "{")[0])
		}
		if strings.Contains(literal, "{") {
			h = withPathValues(h)
		}
		m := r.mux.NewRoute()
		if isPrefix {
			m.PathPrefix(literal)
		} else {
			m.Path(literal)
		}
		if rt.methods != nil {
			m.Methods(rt.methods...)
		}
		m.Handler(h)
	}
	if r.catchAll == nil {
		panic("server: the routing table has no catch-all")
	}
	r.prefixes = uncovered(prefixes)
	return r
}

// uncovered drops every prefix another one covers ("/.well-known/" covers
// "/.well-known/jwks.json"), so the hot path checks as few as it can.
func uncovered(all []string) []string {
	var out []string
	for _, p := range all {
		covered := slices.Contains(out, p)
		for _, q := range all {
			covered = covered || (q != p && strings.HasPrefix(p, q))
		}
		if !covered {
			out = append(out, p)
		}
	}
	return out
}

func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	for _, p := range r.prefixes {
		if strings.HasPrefix(req.URL.Path, p) {
			r.mux.ServeHTTP(w, req)
			return
		}
	}
	r.catchAll.ServeHTTP(w, req)
}

// withPathValues hands mux's path variables to the handler as the standard
// library's path values, so handlers need not know the router.
func withPathValues(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		for k, v := range mux.Vars(req) {
			req.SetPathValue(k, v)
		}
		h.ServeHTTP(w, req)
	})
}
