package gateway

import (
	"context"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/hdfs"
	"github.com/livygate/livygate/jupyterhub"
)

// backends are the gateway's clients of the external systems besides Livy
// (the proxy owns that one): one per system, built once and shared by
// every part that needs it. A nil field is a system not configured.
type backends struct {
	// directory serves LDAP logins, group look-ups, the sync's group
	// members and the UI's probe.
	directory *auth.Directory
	// hub acts with the gateway's service token: user listing for the sync,
	// server states for the reaper, the UI's probe.
	hub *jupyterhub.Client
	// hubLogin asks the Hub whose token a caller presents; it carries no
	// token of its own, and a login waits on it, so it retries once.
	hubLogin *jupyterhub.Client
	// hdfs connects to the NameNodes as the configured superuser.
	hdfs *hdfs.Config
}

// openBackends builds the configured clients. It resolves their secrets
// and dials nothing.
func openBackends(cfg config.Config, log logrus.FieldLogger) (*backends, error) {
	b := &backends{}
	var err error
	if cfg.Auth.LDAP.Enabled() {
		if b.directory, err = auth.OpenDirectory(cfg.Auth.LDAP, log); err != nil {
			return nil, err
		}
	}
	if cfg.JupyterHub.Enabled() {
		if b.hub, err = openHub(cfg.JupyterHub); err != nil {
			return nil, err
		}
	}
	if cfg.Auth.HubToken.Enabled {
		if b.hubLogin, err = jupyterhub.Open(cfg.JupyterHub.Config, ""); err != nil {
			return nil, fmt.Errorf("jupyterhub.url: %w", err)
		}
		b.hubLogin.Retries = 1
	}
	if cfg.HDFS.Enabled() {
		for _, w := range cfg.HDFS.Warnings() {
			log.Warn("hdfs: " + w)
		}
		b.hdfs = &cfg.HDFS
	}
	return b, nil
}

// openHub is the Hub client with the gateway's service token.
func openHub(cfg config.JupyterHub) (*jupyterhub.Client, error) {
	token, err := cfg.Token.Resolve()
	if err != nil {
		return nil, fmt.Errorf("jupyterhub.token: %w", err)
	}
	hub, err := jupyterhub.Open(cfg.Config, token)
	if err != nil {
		return nil, fmt.Errorf("jupyterhub.url: %w", err)
	}
	return hub, nil
}

// groupsOf finds a user's groups in LDAP, for tokens minted on a user's
// behalf; nil without LDAP.
func (b *backends) groupsOf() func(ctx context.Context, user string) ([]string, error) {
	if b.directory == nil {
		return nil
	}
	return func(ctx context.Context, user string) ([]string, error) {
		id, err := b.directory.Lookup(ctx, user)
		if err != nil {
			return nil, err
		}
		return id.Groups, nil
	}
}
