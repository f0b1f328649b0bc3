// Package server is livygate's HTTP front: the router, the middleware chain,
// health endpoints, TLS and graceful shutdown.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"

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
	// AdminSync and AdminReaper, when set, serve the admins' JSON views of
	// the user sync and the session reaper.
	AdminSync, AdminReaper http.Handler
	// UI, when set, serves /admin/ui/ itself: it has its own login form and
	// session cookie, so it does its own authentication and admin check.
	UI http.Handler
	// Keys, when set, publishes the token keys under /.well-known/ to anyone.
	Keys KeyPublisher
	// Token, when set, serves /token to authenticated callers.
	Token http.Handler
	// Metrics, when set, serves GET /metrics (Prometheus) to admins; Livy's
	// own /metrics JSON moves to /admin/livy/metrics (LivyMetrics).
	Metrics, LivyMetrics http.Handler
	// Observe, when set, hears every answered request: its route class,
	// method, status and duration (for metrics).
	Observe func(route, method string, status int, d time.Duration)
	// OnAuth, when set, hears every authentication attempt: the scheme the
	// caller used and how it ended.
	OnAuth func(scheme, outcome string)
	Ready  Pinger
	Audit  audit.Sink
	Log    logrus.FieldLogger
	Now    func() time.Time
}

// KeyPublisher serves the token keys' downloads (token.Published).
type KeyPublisher interface {
	JWKS(w http.ResponseWriter, r *http.Request)
	AllPEM(w http.ResponseWriter, r *http.Request)
	OpenIDConfiguration(w http.ResponseWriter, r *http.Request)
	PEMByKID(w http.ResponseWriter, r *http.Request)
}

// Server is the gateway's HTTP server.
type Server struct {
	opts      Options
	handler   http.Handler
	admission *admission // nil: no bound on the requests handled at once
}

// New builds the router and middleware chain.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	router := newRouter(opts.routes(), opts.guard)
	return &Server{opts: opts, handler: withScope(router, opts), admission: newAdmission(opts.Listen.MaxActiveRequests)}
}

// Load reports the requests being handled now and those waiting for a slot
// (listen.max_active_requests).
func (s *Server) Load() (active, waiting int) { return s.admission.load() }

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
	if l.TLS() {
		// TLS ends here rather than in ServeTLS so that admission sees the
		// request heads, not ciphertext. HTTP/1.1 only: Livy's clients speak
		// nothing else.
		cert, err := tls.LoadX509KeyPair(l.TLSCertFile, l.TLSKeyFile)
		if err != nil {
			return err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
	}
	if s.admission != nil {
		ln = s.admission.wrap(srv, ln)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.opts.Log.Info("shutting down; waiting for in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), l.ShutdownTimeout)
	defer cancel()
	if s.admission != nil {
		s.admission.drain(sctx)
	}
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
