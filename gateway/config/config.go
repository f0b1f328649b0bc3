// Package config is livygate's configuration as a whole: every component's
// own section (each package declares its Config, Default and Validate),
// loaded from a YAML file, overridden by LIVYGATE_* environment variables,
// then by flags, and validated without side effects. Only the rules that
// join two sections live here.
package config

import (
	"time"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/limits"
	"github.com/livygate/livygate/gateway/logging"
	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/provision"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/reaper"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/gateway/server"
	"github.com/livygate/livygate/gateway/token"
	"github.com/livygate/livygate/gateway/ui"
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
	Store      Store            `yaml:"store"`
	Limits     limits.Config    `yaml:"limits"`
	Reaper     reaper.Config    `yaml:"reaper"`
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
		Store: Store{
			Path:      "/var/lib/livygate/livygate.db",
			QueueSize: 10000,
			Retention: Retention{MaxAge: 90 * 24 * time.Hour, MaxEvents: 1_000_000, MaxAnonymousEvents: 100_000, MaxRuns: 1000},
		},
		Limits: limits.Default(),
		Reaper: reaper.Default(),
	}
}

// JupyterHub is the jupyterhub: section: where the Hub is, and the service
// token (scopes list:users and read:users) the gateway acts with for the
// sync, the reaper and the admin UI. Enabled when URL is set.
type JupyterHub struct {
	jupyterhub.Config `yaml:",inline"`
	Token             secrets.Ref `yaml:"token"`
}

// Store is the embedded database (SQLite) of audit events, sync runs and
// token mint records that the admin UI reads.
type Store struct {
	// Path is the SQLite file; empty turns the store (and so the UI) off.
	Path string `yaml:"path"`
	// QueueSize bounds the events waiting to be written; beyond it they are
	// dropped from the store (never from the log) and counted.
	QueueSize int       `yaml:"queue_size"`
	Retention Retention `yaml:"retention"`
}

// Retention bounds what the store keeps; 0 keeps everything.
type Retention struct {
	MaxAge    time.Duration `yaml:"max_age"`
	MaxEvents int           `yaml:"max_events"`
	// MaxAnonymousEvents keeps refusals without a user apart, so they cannot
	// push authenticated users' events out.
	MaxAnonymousEvents int `yaml:"max_anonymous_events"`
	MaxRuns            int `yaml:"max_runs"`
}
