// Package config is livygate's configuration as a whole: every component's
// own section (each package declares its Config, Default and Validate),
// loaded from a YAML file, overridden by LIVYGATE_* environment variables,
// then by flags, and validated without side effects. Only the rules that
// join two sections live here.
package config

import (
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/goruntime"
	"github.com/livygate/livygate/gateway/limits"
	"github.com/livygate/livygate/gateway/logging"
	"github.com/livygate/livygate/gateway/metrics"
	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/provision"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/reaper"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/gateway/server"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/token"
	"github.com/livygate/livygate/gateway/ui"
	"github.com/livygate/livygate/gateway/warm"
	"github.com/livygate/livygate/hdfs"
	"github.com/livygate/livygate/jupyterhub"
)

// Config is the whole configuration. Every field has a yaml tag; the
// environment variable for a field is LIVYGATE_ followed by its yaml path in
// upper case joined by "_" (listen.address → LIVYGATE_LISTEN_ADDRESS).
type Config struct {
	Listen     server.Config    `yaml:"listen"`
	Livy       proxy.Config     `yaml:"livy"`
	Auth       auth.Config      `yaml:"auth"`
	Policy     policy.Config    `yaml:"policy"`
	JupyterHub JupyterHub       `yaml:"jupyterhub"`
	HDFS       hdfs.Config      `yaml:"hdfs"`
	Sync       provision.Config `yaml:"sync"`
	Tokens     token.Config     `yaml:"tokens"`
	Secrets    secrets.Config   `yaml:"secrets"`
	Log        logging.Config   `yaml:"log"`
	UI         ui.Config        `yaml:"ui"`
	Store      store.Config     `yaml:"store"`
	Limits     limits.Config    `yaml:"limits"`
	Reaper     reaper.Config    `yaml:"reaper"`
	Warm       warm.Config      `yaml:"warm"`
	Metrics    metrics.Config   `yaml:"metrics"`
	Runtime    goruntime.Config `yaml:"runtime"`
}

// Default returns the configuration used where the file is silent: every
// section's own defaults.
func Default() Config {
	return Config{
		Listen:     server.Default(),
		Livy:       proxy.Default(),
		Auth:       auth.Default(),
		Policy:     policy.Default(),
		JupyterHub: JupyterHub{Config: jupyterhub.Default()},
		HDFS:       hdfs.Default(),
		Sync:       provision.Default(),
		Tokens:     token.Default(),
		Secrets:    secrets.Default(),
		Log:        logging.Default(),
		UI:         ui.Default(),
		Store:      store.Default(),
		Limits:     limits.Default(),
		Reaper:     reaper.Default(),
		Warm:       warm.Default(),
		Metrics:    metrics.Default(),
		Runtime:    goruntime.Default(),
	}
}

// JupyterHub is the jupyterhub: section: where the Hub is, and the service
// token (scopes list:users and read:users) the gateway acts with for the
// sync, the reaper and the admin UI. Enabled when URL is set.
type JupyterHub struct {
	jupyterhub.Config `yaml:",inline"`
	Token             secrets.Ref `yaml:"token"`
}
