package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/livygate/livygate/gateway/confcheck"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/sirupsen/logrus"
)

// Drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Config is the store: section.
type Config struct {
	// Driver is sqlite (one gateway) or postgres (replicas sharing state).
	Driver string `yaml:"driver"`
	// Path is the SQLite file; empty turns the store (and so the UI) off.
	// Only sqlite reads it.
	Path string `yaml:"path"`
	// URL is the PostgreSQL connection string (postgres://user:pw@host/db or
	// key=value pairs), read from a file or an environment variable: it
	// carries a password, so it is never written inline. Only postgres
	// reads it.
	URL secrets.Ref `yaml:"url"`
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

// Default is the section's defaults: a SQLite file.
func Default() Config {
	return Config{
		Driver:    DriverSQLite,
		Path:      "/var/lib/livygate/livygate.db",
		QueueSize: 10000,
		Retention: Retention{MaxAge: 90 * 24 * time.Hour, MaxEvents: 1_000_000, MaxAnonymousEvents: 100_000, MaxRuns: 1000},
	}
}

// Enabled reports whether the configuration opens a store.
func (c Config) Enabled() bool {
	if c.Driver == DriverPostgres {
		return true
	}
	return c.Path != ""
}

// Validate reports every problem in the section, joined. It reads file
// metadata only: resolving the URL is the caller's (see Deps.DSN).
func (c Config) Validate() error {
	problems := confcheck.New("store")
	add := problems.Add
	switch c.Driver {
	case DriverSQLite:
		if c.Path != "" {
			if st, err := os.Stat(c.Path); err == nil && st.IsDir() {
				add("path", "%s is a directory, not a file", c.Path)
			}
		}
	case DriverPostgres:
		switch {
		case c.URL.File == "" && c.URL.Env == "":
			add("url", "is required with driver postgres: give file or env (it holds a password, so never inline)")
		case c.URL.File != "" && c.URL.Env != "":
			add("url", "give file or env, not both")
		default:
			problems.Keep(c.URL.Check("store.url", true))
		}
	default:
		add("driver", "must be %s or %s, not %q", DriverSQLite, DriverPostgres, c.Driver)
	}
	confcheck.Positive(problems, "queue_size", c.QueueSize)
	r := c.Retention
	if r.MaxAge < 0 || r.MaxEvents < 0 || r.MaxAnonymousEvents < 0 || r.MaxRuns < 0 {
		add("retention", "max_age, max_events, max_anonymous_events and max_runs must not be negative (0 keeps everything)")
	}
	return problems.Err()
}

// Deps are what Open needs besides the configuration.
type Deps struct {
	// DSN, when set, replaces resolving Config.URL (tests); postgres only.
	DSN func() (string, error)
	Log logrus.FieldLogger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Holder names this process in leases; empty means NewHolder().
	Holder string
}

// Open opens the store the validated configuration names. Its errors name
// the key at fault (store.path, store.url).
func Open(ctx context.Context, c Config, deps Deps) (Store, error) {
	opts := Options{
		QueueSize:          c.QueueSize,
		MaxAge:             c.Retention.MaxAge,
		MaxEvents:          c.Retention.MaxEvents,
		MaxAnonymousEvents: c.Retention.MaxAnonymousEvents,
		MaxRuns:            c.Retention.MaxRuns,
		Log:                deps.Log,
		Now:                deps.Now,
		Holder:             deps.Holder,
	}
	switch {
	case c.Driver == DriverPostgres:
		resolve := c.URL.Resolve
		if deps.DSN != nil {
			resolve = deps.DSN
		}
		dsn, err := resolve()
		if err != nil {
			return nil, fmt.Errorf("store.url: %w", err)
		}
		s, err := OpenPostgres(ctx, dsn, opts)
		if err != nil {
			return nil, fmt.Errorf("store.url: %w", err)
		}
		return s, nil
	case c.Path != "":
		s, err := OpenSQLite(ctx, c.Path, opts)
		if err != nil {
			return nil, fmt.Errorf("store.path: %w", err)
		}
		return s, nil
	}
	return nil, errors.New("store.path: empty, so there is no store to open")
}
