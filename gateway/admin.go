package gateway

// The admin side's wiring: the audit store's records and the admin UI.

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/provision"
	"github.com/livygate/livygate/gateway/reaper"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/token"
	"github.com/livygate/livygate/gateway/ui"
	"github.com/livygate/livygate/hdfs"
	"github.com/livygate/livygate/jupyterhub"
	"github.com/livygate/livygate/livy"
)

// recordRun keeps a finished sync run: in the JSON endpoint's history, as a
// log line, and in the store (with its per-user results).
func (g *Gateway) recordRun(r *provision.Run, trigger string, addToHistory bool) {
	if addToHistory {
		g.history.Add(r)
	}
	LogRun(g.log, r)
	if g.Store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := g.Store.SaveRun(ctx, r, trigger); err != nil {
			g.log.WithError(err).Error("store: saving the sync run failed")
		}
	}
}

// recordMint keeps a record of a minted token (never the token) in the
// store, for the Keys page and later audits.
func (g *Gateway) recordMint(m token.Minted) {
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
func (g *Gateway) newUI(cfg config.Config, authn auth.Authenticator, lc *livy.Client, directory *auth.LDAP, log *logrus.Logger) (http.Handler, error) {
	opts := ui.Options{
		Authn:      authn,
		Store:      g.Store,
		Sessions:   g.Store, // a login on one replica works on the others
		Livy:       lc,
		OnRun:      func(r *provision.Run, trigger string) { g.recordRun(r, trigger, true) },
		SessionTTL: cfg.UI.SessionTTL,
		Secure:     cfg.Listen.TLSCertFile != "",
		Log:        log,
	}
	if g.minter != nil {
		opts.Keys = uiKeys{g.minter.Keys()}
	}
	if cfg.Reaper.Enabled() {
		opts.Reaper = uiReaper{g}
	}
	if g.syncer != nil {
		opts.Sync = g.syncer
	}
	probes, hub, err := probes(cfg, lc, directory)
	if err != nil {
		return nil, err
	}
	opts.Probes = probes
	if hub != nil {
		opts.Hub = hub
	}
	return ui.New(opts)
}

// probes are the Overview's reachability checks of each configured backend.
func probes(cfg config.Config, lc *livy.Client, directory *auth.LDAP) ([]ui.Probe, *jupyterhub.Client, error) {
	out := []ui.Probe{{Name: "Livy", Check: lc.Version}}
	var hub *jupyterhub.Client
	if cfg.JupyterHub.URL != "" {
		var err error
		if hub, err = newHubClient(cfg); err != nil {
			return nil, nil, err
		}
		hc := &http.Client{Timeout: cfg.JupyterHub.Timeout}
		api := hub.BaseURL.String()
		out = append(out, ui.Probe{Name: "JupyterHub", Check: func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, api, nil)
			if err != nil {
				return err
			}
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s answered %d", api, resp.StatusCode)
			}
			return nil
		}})
	}
	if len(cfg.HDFS.NameNodes) > 0 {
		out = append(out, ui.Probe{Name: "HDFS", Check: func(ctx context.Context) error {
			fs, closeFS, err := hdfs.Connect(cfg.HDFS.NameNodes, cfg.HDFS.User)
			if err != nil {
				return err
			}
			defer closeFS()
			_, err = fs.Stat(cfg.HDFS.BaseDir)
			return err
		}})
	}
	if directory != nil {
		out = append(out, ui.Probe{Name: "LDAP", Check: directory.Ping})
	}
	return out, hub, nil
}

// uiReaper shows the reaper on the Sessions page. The reaper is built after
// the UI (it needs the audit sink the UI's store is part of), so it is
// looked up on each call.
type uiReaper struct{ g *Gateway }

func (u uiReaper) IdleFor(id int) (time.Duration, bool) {
	if r := u.g.gov.reaper; r != nil {
		return r.IdleFor(id)
	}
	return 0, false
}

func (u uiReaper) NotebookOf(user string) reaper.Notebook {
	if r := u.g.gov.reaper; r != nil {
		return r.NotebookOf(user)
	}
	return reaper.Notebook{State: "unknown"}
}

func (u uiReaper) Status() reaper.Status {
	if r := u.g.gov.reaper; r != nil {
		return r.Status()
	}
	return reaper.Status{}
}
