// Package gateway wires livygate together from its configuration: the
// authenticator chain, the conf policy, the Livy proxy, the user sync and the
// HTTP server. It is the only place where the adapters (livy, hdfs,
// jupyterhub) meet.
package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/logging"
	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/provision"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/respond"
	"github.com/livygate/livygate/gateway/server"
	"github.com/livygate/livygate/gateway/sparkconf/delivery"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/token"
	"github.com/livygate/livygate/hdfs"
	"github.com/livygate/livygate/jupyterhub"
)

// Gateway is a configured livygate: its HTTP server and, when configured,
// the user sync it runs on a timer, the audit store and the admin UI.
type Gateway struct {
	Server *server.Server
	// Store holds audit events, sync runs and token mint records; nil when
	// store.path is empty. The token minter records mints with RecordMint.
	Store    store.Store
	syncer   *provision.Syncer
	history  *provision.History
	interval time.Duration
	minter   *token.Minter // nil when tokens are off
	gov      *governor
	log      *logrus.Logger
}

// New builds the gateway from a validated configuration.
func New(cfg config.Config, log *logrus.Logger) (*Gateway, error) {
	g := &Gateway{history: provision.NewHistory(cfg.Sync.History), interval: cfg.Sync.Interval, log: log}
	var err error
	if cfg.Tokens.Enabled {
		if g.minter, err = NewMinter(cfg.Tokens, time.Now); err != nil {
			return nil, err
		}
	}
	// One LDAP client serves logins, group look-ups and the UI's probe.
	var directory *auth.LDAP
	if cfg.Auth.LDAP.URL != "" {
		if directory, err = auth.NewLDAP(cfg.Auth.LDAP, log); err != nil {
			return nil, fmt.Errorf("auth.ldap: %w", err)
		}
	}
	authn, err := newAuthenticator(cfg, g.minter, directory)
	if err != nil {
		return nil, err
	}
	if cfg.Tokens.Enabled && cfg.Tokens.Delivery.Mode == delivery.Conf {
		// A token delivered in conf is masked in every answer.
		cfg.Policy.RedactKeys = redactKeysWith(cfg.Policy.RedactKeys, cfg.Tokens.Delivery.ConfKeys)
	}
	pol, err := policy.New(cfg.Policy)
	if err != nil {
		return nil, err
	}
	resolver, err := newSecrets(cfg.Secrets, log)
	if err != nil {
		return nil, err
	}
	if resolver != nil {
		pol.ShowReferences(resolver.Masks, resolver.MasksFor)
	}
	groupsOf := groupsLookup(directory)
	finisher, err := newFinisher(cfg, resolver, g.minter, pol.CheckConf, groupsOf)
	if err != nil {
		return nil, err
	}
	upstream, err := url.Parse(cfg.Livy.URL)
	if err != nil {
		return nil, fmt.Errorf("livy.url: %w", err)
	}
	password, err := cfg.Livy.Password.Resolve()
	if err != nil {
		return nil, fmt.Errorf("livy.password: %w", err)
	}
	popts := proxy.Options{
		Upstream:             upstream,
		Transport:            livyTransport(cfg.Livy.Timeout),
		Timeout:              cfg.Livy.Timeout,
		Username:             cfg.Livy.Username,
		Password:             password,
		Policy:               pol,
		AdminsMayImpersonate: cfg.Auth.AdminsMayImpersonate,
		MaxBodyBytes:         cfg.Listen.MaxBodyBytes,
		OwnerCacheTTL:        cfg.Livy.OwnerCacheTTL,
		Log:                  log,
	}
	if finisher != nil {
		finisher.Minted = g.recordMint
		popts.FinishConf = finisher.Finish
	}
	g.gov = &governor{} // filled in below, once the Livy client and the audit sink exist
	popts.Governor = g.gov
	p := proxy.New(popts)
	if g.gov.limits, err = newLimiter(cfg, p.Livy(), log); err != nil {
		return nil, err
	}
	if cfg.ValidateSync() == nil {
		if g.syncer, err = NewSyncer(cfg, log); err != nil {
			return nil, err
		}
	}
	sink := auditSink(log)
	var adminUI http.Handler
	if cfg.Store.Path != "" {
		st, err := store.OpenSQLite(context.Background(), cfg.Store.Path, store.Options{
			QueueSize:          cfg.Store.QueueSize,
			MaxAge:             cfg.Store.Retention.MaxAge,
			MaxEvents:          cfg.Store.Retention.MaxEvents,
			MaxAnonymousEvents: cfg.Store.Retention.MaxAnonymousEvents,
			MaxRuns:            cfg.Store.Retention.MaxRuns,
			Log:                log,
		})
		if err != nil {
			return nil, fmt.Errorf("store.path: %w", err)
		}
		g.Store = st
		sink = audit.Multi{sink, st}
		if cfg.UI.Enabled {
			if adminUI, err = g.newUI(cfg, authn, p.Livy(), directory, log); err != nil {
				st.Close()
				return nil, err
			}
		}
	}
	if g.gov.reaper, err = newReaper(cfg, p.Livy(), sink, log); err != nil {
		if g.Store != nil {
			g.Store.Close()
		}
		return nil, err
	}
	sopts := server.Options{
		Listen: cfg.Listen,
		Realm:  cfg.Auth.Realm,
		Authn:  authn,
		Livy:   p,
		UI:     adminUI,
		Ready:  p.Livy(),
		Audit:  sink,
		Log:    log,
	}
	sopts.AdminSync, sopts.AdminReaper = http.HandlerFunc(g.adminSync), http.HandlerFunc(g.adminReaper)
	if g.minter != nil {
		sopts.Keys = token.Published{Keys: g.minter.Keys()}
		sopts.Token = &token.Issuer{
			Minter:                 g.minter,
			AdminsMayMintForOthers: cfg.Tokens.AdminsMayMintForOthers,
			GroupsOf:               groupsOf,
			Minted:                 g.recordMint,
		}
	}
	g.Server = server.New(sopts)
	return g, nil
}

// Close writes what the store has queued and closes it. Call it after Serve
// returns.
func (g *Gateway) Close() error {
	if g.Store == nil {
		return nil
	}
	return g.Store.Close()
}

// Serve runs the sync timer (when configured) and the HTTP server until ctx
// ends.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	if g.syncer != nil && g.interval > 0 {
		go g.syncer.Every(ctx, g.interval, g.history, func(r *provision.Run) { g.recordRun(r, "timer", false) })
	}
	if g.gov.reaper != nil {
		go g.gov.reaper.Run(ctx)
	}
	return g.Server.Serve(ctx, ln)
}

// adminSync serves GET /admin/sync: the user sync's recent runs.
func (g *Gateway) adminSync(w http.ResponseWriter, _ *http.Request) {
	respond.JSON(w, http.StatusOK, map[string]any{
		"configured": g.syncer != nil,
		"interval":   g.interval.String(),
		"runs":       g.history.Runs(),
	})
}

// adminReaper serves GET /admin/reaper: the session reaper's recent actions.
func (g *Gateway) adminReaper(w http.ResponseWriter, _ *http.Request) {
	if g.gov == nil || g.gov.reaper == nil {
		respond.JSON(w, http.StatusOK, map[string]any{"enabled": false, "actions": []any{}})
		return
	}
	respond.JSON(w, http.StatusOK, g.gov.reaper.Status())
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

// LogRun writes a sync run's summary line, at warning level when it did not
// go cleanly.
func LogRun(log logrus.FieldLogger, r *provision.Run) {
	entry := log.WithFields(logrus.Fields{"sync": true, "users": r.Users, "exit_code": r.ExitCode()})
	if r.ExitCode() != provision.ExitOK {
		entry.Warn(r.SummaryLine())
		return
	}
	entry.Info(r.SummaryLine())
}

// newHubClient is the Hub client that acts with the gateway's service token
// (user listing for the sync, server states for the reaper, the UI's probe).
func newHubClient(cfg config.Config) (*jupyterhub.Client, error) {
	token, err := cfg.JupyterHub.Token.Resolve()
	if err != nil {
		return nil, fmt.Errorf("jupyterhub.token: %w", err)
	}
	hub, err := jupyterhub.New(cfg.JupyterHub.URL, token, cfg.JupyterHub.Timeout)
	if err != nil {
		return nil, fmt.Errorf("jupyterhub.url: %w", err)
	}
	return hub, nil
}

// NewSyncer builds the user sync from the configuration.
func NewSyncer(cfg config.Config, log *logrus.Logger) (*provision.Syncer, error) {
	hub, err := newHubClient(cfg)
	if err != nil {
		return nil, err
	}
	mode, err := cfg.HDFS.FileMode()
	if err != nil {
		return nil, fmt.Errorf("hdfs.mode: %w", err)
	}
	opts := hdfs.Options{
		BaseDir:            cfg.HDFS.BaseDir,
		Group:              cfg.HDFS.Group,
		Mode:               mode,
		AllowWorldWritable: cfg.HDFS.AllowWorldWritable,
		NamePattern:        cfg.HDFS.NamePattern,
		Repair:             cfg.HDFS.Repair,
		Concurrency:        cfg.HDFS.Concurrency,
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("hdfs: %w", err)
	}
	for _, w := range opts.Warnings() {
		log.Warn("hdfs: " + w)
	}
	s := &provision.Syncer{
		Hub:      hub,
		Options:  opts,
		LockFile: cfg.Sync.LockFile,
		Connect: func() (hdfs.FS, func() error, error) {
			return hdfs.Connect(cfg.HDFS.NameNodes, cfg.HDFS.User)
		},
	}
	if cfg.Sync.LDAPGroupDN != "" {
		l, err := auth.NewLDAP(cfg.Auth.LDAP, log)
		if err != nil {
			return nil, fmt.Errorf("auth.ldap: %w", err)
		}
		s.GroupMembers = func(ctx context.Context) ([]string, error) {
			return l.GroupMembers(ctx, cfg.Sync.LDAPGroupDN)
		}
	}
	return s, nil
}

// newAuthenticator builds the chain of configured authenticators.
func newAuthenticator(cfg config.Config, minter *token.Minter, directory *auth.LDAP) (auth.Authenticator, error) {
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
	if directory != nil {
		basic, err := auth.NewBasic(cfg.Auth, directory, time.Now)
		if err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		chain = append(chain, basic)
	}
	if cfg.Auth.HubToken.Enabled {
		// Token look-ups use the caller's token, not the service token.
		hub, err := jupyterhub.New(cfg.JupyterHub.URL, "", cfg.JupyterHub.Timeout)
		if err != nil {
			return nil, fmt.Errorf("jupyterhub.url: %w", err)
		}
		hub.Retries = 1 // a login waits on it
		chain = append(chain, auth.NewHubToken(cfg.Auth, hub, time.Now))
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("auth: no authenticator is configured")
	}
	return chain, nil
}

// livyTransport is a clone of the default transport with a bound on how long
// Livy may take to start answering, so a stuck Livy gives 504, not a hang.
func livyTransport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = timeout
	t.MaxIdleConnsPerHost = 64
	return t
}
