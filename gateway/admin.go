package gateway

// The admin side's wiring: the audit store's records and the admin UI.

import (
	"net/http"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/provision"
	"github.com/livygate/livygate/gateway/respond"
	"github.com/livygate/livygate/gateway/route"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/token"
	"github.com/livygate/livygate/gateway/ui"
	"github.com/livygate/livygate/livy"
)

// recordMint keeps a record of a minted token (never the token) in the
// store, for the Keys page and later audits.
func (g *Gateway) recordMint(m token.Minted) {
	g.metrics.Minted(m.Algorithm)
	if g.Store != nil {
		g.Store.RecordMint(store.MintRecord{JTI: m.ID, User: m.User, Kid: m.KeyID, IssuedAt: m.IssuedAt, ExpiresAt: m.ExpiresAt})
	}
}

// uiKeys shows the token key set on the admin UI's Keys page.
type uiKeys struct{ keys *token.KeySet }

func (k uiKeys) List() []ui.KeyInfo {
	var out []ui.KeyInfo
	for _, i := range k.keys.List() {
		out = append(out, ui.KeyInfo{Kid: i.ID, Algorithm: i.Algorithm, Created: i.Created,
			NotAfter: i.NotAfter, Signing: i.Signing, PublicPEM: i.PublicPEM})
	}
	return out
}

// newUI builds the admin UI with the gateway's own backends.
func (g *Gateway) newUI(cfg config.Config, authn auth.Authenticator, lc *livy.Client, router *route.Router, b *backends, log *logrus.Logger) (http.Handler, error) {
	opts := ui.Options{
		Authn:      authn,
		Store:      g.Store,
		Sessions:   g.Store, // a login on one replica works on the others
		Livy:       lc,
		OnRun:      func(r *provision.Run, trigger string) { g.recordRun(r, trigger, true) },
		SessionTTL: cfg.UI.SessionTTL,
		Secure:     cfg.Listen.TLS(),
		Log:        log,
		Probes:     append(livyProbes(lc, router), probes(b)...),
	}
	if router != nil {
		opts.BackendOf = router.BackendOf
	}
	if g.minter != nil {
		opts.Keys = uiKeys{g.minter.Keys()}
	}
	if g.reaper != nil {
		opts.Reaper = g.reaper
	}
	if g.warm != nil {
		opts.Warm = g.warm
	}
	if g.syncer != nil {
		opts.Sync = g.syncer
	}
	if b.hub != nil {
		opts.Hub = b.hub
	}
	return ui.New(opts)
}

// probes are the Overview's reachability checks of the other configured
// backends (Livy's: livyProbes).
func probes(b *backends) []ui.Probe {
	var out []ui.Probe
	if b.hub != nil {
		out = append(out, ui.Probe{Name: "JupyterHub", Check: b.hub.Ping})
	}
	if b.hdfs != nil {
		out = append(out, ui.Probe{Name: "HDFS", Check: b.hdfs.Ping})
	}
	if b.directory != nil {
		out = append(out, ui.Probe{Name: "LDAP", Check: b.directory.Ping})
	}
	return out
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
	if g.reaper == nil {
		respond.JSON(w, http.StatusOK, map[string]any{"enabled": false, "actions": []any{}})
		return
	}
	respond.JSON(w, http.StatusOK, g.reaper.Status())
}
