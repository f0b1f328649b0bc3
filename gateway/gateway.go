// Package gateway wires livygate together from its configuration: one client
// per external system (backends.go), the authenticator chain, the conf
// policy and its finisher (conf.go), the Livy proxy with its governance
// (governance.go), the user sync, the audit store and the admin UI
// (admin.go), and the HTTP server. It is the only place where the adapters
// (livy, hdfs, jupyterhub, ldap) meet.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/logging"
	"github.com/livygate/livygate/gateway/metrics"
	"github.com/livygate/livygate/gateway/provision"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/reaper"
	"github.com/livygate/livygate/gateway/respond"
	"github.com/livygate/livygate/gateway/server"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/token"
	"github.com/livygate/livygate/gateway/warm"
	"github.com/livygate/livygate/livy"
)

// Gateway is a configured livygate: its HTTP server and, when configured,
// the user sync it runs on a timer, the reaper, the audit store and the
// admin UI.
type Gateway struct {
	Server *server.Server
	// Store holds audit events, sync runs and token mint records; nil when
	// store.path is empty.
	Store    store.Store
	syncer   *provision.Syncer // nil without jupyterhub.url and hdfs.namenodes
	history  *provision.History
	interval time.Duration
	minter   *token.Minter  // nil when tokens are off
	reaper   *reaper.Reaper // nil when reaper: is off
	warm     *warm.Manager  // nil when warm: is off
	metrics  *metrics.Metrics
	// metricsListen serves /metrics without login when metrics.listen is set.
	metricsListen string
	// holder names this process in the store's leases; the singleton jobs
	// (sync timer, reaper) run on the replica holding their lease.
	holder string
	leases []*store.Singleton
	log    *logrus.Logger
}

// New builds the gateway from a configuration that Validate accepted. It
// reads as the list of what livygate is made of, in the order each part
// needs the ones before it.
func New(cfg config.Config, log *logrus.Logger) (*Gateway, error) {
	g := &Gateway{history: provision.NewHistory(cfg.Sync.History), interval: cfg.Sync.Interval, holder: store.NewHolder(), log: log,
		metrics: metrics.New(), metricsListen: cfg.Metrics.Listen}
	if err := g.build(cfg, log); err != nil {
		g.Close() // the store, when it was opened
		return nil, err
	}
	return g, nil
}

func (g *Gateway) build(cfg config.Config, log *logrus.Logger) error {
	b, err := openBackends(cfg, log)
	if err != nil {
		return err
	}
	if cfg.Tokens.Enabled {
		if g.minter, err = token.Open(cfg.Tokens, time.Now); err != nil {
			return err
		}
	}
	sink := auditSink(log)
	if cfg.Store.Enabled() {
		if g.Store, err = store.Open(context.Background(), cfg.Store, store.Deps{Log: log, Holder: g.holder}); err != nil {
			return err
		}
		sink = audit.Multi{sink, g.Store}
		g.metrics.StoreQueue(func() (int, uint64, uint64) {
			st := g.Store.Stats()
			return st.Queued, st.Written, st.Dropped
		})
	}
	authn, err := newAuthenticator(cfg, g.minter, b, g.Store, g.metrics, log)
	if err != nil {
		return err
	}
	conf, err := newConfRules(cfg, b, g.minter, g.recordMint, log)
	if err != nil {
		return err
	}
	gov := &governor{}
	wh := &warmHook{}
	popts := proxy.Options{
		Policy:               conf.policy,
		AdminsMayImpersonate: cfg.Auth.AdminsMayImpersonate,
		MaxBodyBytes:         cfg.Listen.MaxBodyBytes,
		FinishConf:           conf.finish,
		Governor:             gov,
		Log:                  log,
	}
	if cfg.Warm.Enabled {
		popts.Warm = wh
	}
	router, err := livyUpstream(cfg, g.Store, &popts, log)
	if err != nil {
		return fmt.Errorf("livy: %w", err)
	}
	popts.Transport = g.metrics.LivyTransport(popts.Transport)
	p := proxy.New(popts)
	g.metrics.ProxyLoad(p.Load)
	if gov.limits, err = newLimiter(cfg, p.Livy(), router, log); err != nil {
		return err
	}
	if b.hub != nil && b.hdfs != nil {
		g.syncer = newSyncer(cfg, b)
		if l := g.lease("sync", g.interval); l != nil {
			g.syncer.Gate = l
		}
	}
	var reaperGate reaper.Gate
	if cfg.Reaper.Enabled() {
		if l := g.lease("reaper", cfg.Reaper.Interval); l != nil {
			reaperGate = l
		}
	}
	if g.reaper, err = newReaper(cfg, p.Livy(), b, sink, reaperGate, log); err != nil {
		return err
	}
	gov.reaper = g.reaper
	if g.warm, err = newWarm(cfg, p, b, g.Store, sink, g.metrics, log); err != nil {
		return err
	}
	wh.m = g.warm
	if g.warm != nil {
		gov.limits.SetUncounted(g.warm.Hidden)
		if g.reaper != nil {
			g.reaper.SetSpare(g.warm.Hidden)
		}
	}
	sopts := server.Options{
		Listen:      cfg.Listen,
		Realm:       cfg.Auth.Realm,
		Authn:       authn,
		Livy:        p,
		Ready:       p.Livy(),
		Observe:     g.metrics.Request,
		OnAuth:      g.metrics.Authentication,
		LivyMetrics: livyMetrics(p.Livy()),
		Audit:       sink,
		Log:         log,
	}
	if g.metricsListen == "" {
		sopts.Metrics = g.metrics.Handler()
	}
	sopts.AdminSync, sopts.AdminReaper = http.HandlerFunc(g.adminSync), http.HandlerFunc(g.adminReaper)
	if g.Store != nil && cfg.UI.Enabled {
		if sopts.UI, err = g.newUI(cfg, authn, p.Livy(), router, b, log); err != nil {
			return err
		}
	}
	if g.minter != nil {
		sopts.Keys = token.Published{Keys: g.minter.Keys(), Issuer: cfg.Tokens.Issuer, Claims: cfg.Tokens.Claims()}
		sopts.Token = &token.Issuer{
			Minter:                 g.minter,
			AdminsMayMintForOthers: cfg.Tokens.AdminsMayMintForOthers,
			GroupsOf:               b.groupsOf(),
			Minted:                 g.recordMint,
		}
	}
	g.Server = server.New(sopts)
	g.metrics.RequestLoad(g.Server.Load)
	return nil
}

// Serve runs the HTTP server and the timers (sync, reaper) until ctx ends,
// and returns once every one of them has stopped: a run the timer started
// finishes (or gives up on the cancelled context) before Serve returns, so
// Close never closes the store under it.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	group, ctx := errgroup.WithContext(ctx)
	if g.syncer != nil && g.interval > 0 {
		group.Go(func() error {
			g.syncer.Every(ctx, g.interval, g.history, func(r *provision.Run) { g.recordRun(r, "timer", false) })
			return nil
		})
	}
	if g.reaper != nil {
		group.Go(func() error {
			g.reaper.Run(ctx)
			return nil
		})
	}
	if g.warm != nil {
		group.Go(func() error {
			g.warm.Run(ctx)
			return nil
		})
	}
	if g.metricsListen != "" {
		group.Go(func() error { return serveMetrics(ctx, g.metricsListen, g.metrics.Handler()) })
	}
	group.Go(func() error { return g.Server.Serve(ctx, ln) })
	err := group.Wait()
	// The timers have stopped: hand their leases over at once rather than
	// letting another replica wait for them to expire.
	for _, l := range g.leases {
		l.Release(context.Background())
	}
	return err
}

// lease is the store lease of a singleton job run every interval, or nil
// without a store (then the job runs here on every tick, as on one node).
// Its ttl is two intervals: the holder extends it at every run, and another
// replica takes over within two intervals of the holder's death.
func (g *Gateway) lease(job string, interval time.Duration) *store.Singleton {
	if g.Store == nil || interval <= 0 {
		return nil
	}
	l := store.NewSingleton(g.Store, job, g.holder, 2*interval, g.log.WithField("job", job))
	g.leases = append(g.leases, l)
	return l
}

// Close writes what the store has queued and closes it. Call it after Serve
// returns.
func (g *Gateway) Close() error {
	if g.Store == nil {
		return nil
	}
	return g.Store.Close()
}

// ReloadKeys re-reads the key files (on SIGHUP). A key that stops signing
// keeps verifying until the tokens it signed have expired.
func (g *Gateway) ReloadKeys(cfg token.Config) error {
	if g.minter == nil {
		return fmt.Errorf("tokens are not enabled")
	}
	signing, verify, err := cfg.LoadKeys()
	if err != nil {
		return err
	}
	if err := g.minter.Keys().Load(signing, verify); err != nil {
		return err
	}
	g.log.WithField("kid", signing.Key.ID).Info("token keys reloaded")
	return nil
}

// Keys describes the token keys, for operators; nil when tokens are off.
func (g *Gateway) Keys() []token.KeyInfo {
	if g.minter == nil {
		return nil
	}
	return g.minter.Keys().List()
}

// newAuthenticator builds the chain of configured authenticators. Failed
// logins count in the store when there is one, so a guesser gets no more
// tries from another replica.
func newAuthenticator(cfg config.Config, minter *token.Minter, b *backends, st store.Store, m *metrics.Metrics, log logrus.FieldLogger) (auth.Authenticator, error) {
	var chain auth.Chain
	if minter != nil && cfg.Tokens.AcceptBearer {
		// First: a JupyterHub token may come as Bearer too, and the Hub need
		// not be asked about a token the gateway can check itself.
		chain = append(chain, auth.NewJWT(cfg.Auth.AdminGroup, func(t string) (string, []string, error) {
			v, err := minter.VerifyLogin(t)
			if err != nil {
				return "", nil, err
			}
			return v.User, v.Groups, nil
		}))
	}
	if b.directory != nil {
		basic, err := auth.NewBasic(cfg.Auth, b.directory, time.Now)
		if err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		basic.Log = log // lockouts, and the store's outages, in the gateway's log
		if st != nil {
			basic.ShareLockout(st)
		}
		m.CacheRatio("credentials", basic.Cache().Lookups)
		chain = append(chain, basic)
	}
	if b.hubLogin != nil {
		hub := auth.NewHubToken(cfg.Auth, b.hubLogin, time.Now)
		m.CacheRatio("hub_tokens", hub.Cache().Lookups)
		chain = append(chain, hub)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("auth: no authenticator is configured")
	}
	return chain, nil
}

// auditSink writes audit events to the log, flushed at once when the log is
// buffered.
func auditSink(log *logrus.Logger) audit.Sink {
	sink := audit.LogSink{Log: log}
	if f := logging.FlushOf(log); f != nil {
		sink.Flush = f.Flush
	}
	return sink
}

// livyMetrics serves Livy's own /metrics JSON, which /metrics (now the
// gateway's Prometheus series) used to forward.
func livyMetrics(lc *livy.Client) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := lc.Metrics(r.Context())
		if err != nil {
			respond.Error(w, r, http.StatusBadGateway, "Livy's metrics: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// serveMetrics answers /metrics (and nothing else) on its own listener,
// without login, until ctx ends.
func serveMetrics(ctx context.Context, addr string, h http.Handler) error {
	only := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
	srv := &http.Server{Addr: addr, Handler: only, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics.listen: %w", err)
	}
	return nil
}
