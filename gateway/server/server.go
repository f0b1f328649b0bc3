// Package server is livygate's HTTP front: the router, the middleware chain,
// health endpoints, TLS and graceful shutdown.
package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/respond"
)

// Pinger proves a backend is reachable, for /readyz.
type Pinger interface {
	Version(ctx context.Context) error
}

// Options are the parts a Server is built from.
type Options struct {
	Listen Config
	Realm  string
	Authn  auth.Authenticator
	// Livy serves every authenticated request that no other route takes.
	Livy http.Handler
	// Admin, when set, serves /admin/ to authenticated admins only.
	Admin http.Handler
	// UI, when set, serves /admin/ui/ itself: it has its own login form and
	// session cookie, so it does its own authentication and admin check.
	UI http.Handler
	// Public, when set, serves /.well-known/ to anyone (the token keys).
	Public http.Handler
	// Token, when set, serves /token to authenticated callers.
	Token http.Handler
	Ready Pinger
	Audit audit.Sink
	Log   logrus.FieldLogger
	Now   func() time.Time
}

// Server is the gateway's HTTP server.
type Server struct {
	opts    Options
	handler http.Handler
}

// New builds the router and middleware chain.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := mux.NewRouter()
	// Livy names sessions freely; keep paths as sent and let the proxy's own
	// parser refuse dot segments instead of redirecting.
	r.SkipClean(true)
	r.Handle("/healthz", http.HandlerFunc(healthz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", readyz(opts.Ready)).Methods(http.MethodGet, http.MethodHead)
	own := []string{"/healthz", "/readyz"}
	if opts.UI != nil {
		r.PathPrefix("/admin/ui").Handler(opts.UI)
		own = append(own, "/admin/ui")
	}
	if opts.Public != nil {
		r.PathPrefix("/.well-known/").Handler(opts.Public)
		own = append(own, "/.well-known/")
	}
	if opts.Token != nil {
		r.Handle("/token", authenticate(opts.Token, opts.Authn, opts.Realm))
		own = append(own, "/token")
	}
	if opts.Admin != nil {
		r.PathPrefix("/admin/").Handler(authenticate(requireAdmin(opts.Admin), opts.Authn, opts.Realm))
		own = append(own, "/admin/")
	}
	livy := authenticate(opts.Livy, opts.Authn, opts.Realm)
	r.PathPrefix("/").Handler(livy)
	// Nearly every request is Livy's and polls: those skip the router's
	// pattern matching and its two request copies.
	front := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		for _, p := range own {
			if strings.HasPrefix(req.URL.Path, p) {
				r.ServeHTTP(w, req)
				return
			}
		}
		livy.ServeHTTP(w, req)
	})
	return &Server{opts: opts, handler: withScope(front, opts.Log, opts.Audit, opts.Now)}
}

// Handler is the whole chain, for tests and benchmarks.
func (s *Server) Handler() http.Handler { return s.handler }

func healthz(w http.ResponseWriter, _ *http.Request) {
	respond.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func readyz(p Pinger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := p.Version(ctx); err != nil {
			respond.Error(w, r, http.StatusServiceUnavailable, "Livy is not reachable")
			return
		}
		respond.JSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// Serve answers on ln until ctx is cancelled, then stops taking new
// connections and lets in-flight requests finish within the shutdown timeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	l := s.opts.Listen
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		IdleTimeout:       l.IdleTimeout,
		ErrorLog:          nil,
	}
	ln = limitListener(ln, l.MaxConnections, l.MaxConnectionsPerClient)
	errc := make(chan error, 1)
	go func() {
		if l.TLSCertFile != "" {
			errc <- srv.ServeTLS(ln, l.TLSCertFile, l.TLSKeyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.opts.Log.Info("shutting down; waiting for in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), l.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
