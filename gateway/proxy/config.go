package proxy

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/livygate/livygate/gateway/route"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/livy"
)

// Config is the livy: section: the Livy server the proxy forwards to (or
// several, Routes), the gateway's own credentials there, and how long a
// session's owner is remembered.
type Config struct {
	livy.Config `yaml:",inline"`
	Password    secrets.Ref `yaml:"password"`
	// OwnerCacheTTL bounds how long a session's owner is remembered.
	OwnerCacheTTL time.Duration `yaml:"owner_cache_ttl"`
	// MaxConnections caps the connections open to one Livy server; calls
	// beyond it wait for one to be free, and as many stay open when idle.
	// With livy.url, as many client requests are proxied at once; the rest
	// wait in arrival order before any work is done for them.
	MaxConnections int `yaml:"max_connections"`
	// Routes lists several Livy servers (livy.backends) instead of livy.url;
	// the gateway then hands out its own ids (see gateway/route).
	Routes route.Config `yaml:",inline"`
}

// Default is the section where the file is silent.
func Default() Config {
	return Config{Config: livy.Default(), OwnerCacheTTL: 10 * time.Minute, MaxConnections: 128}
}

// Validate reports every problem of the section, joined, or nil.
func (c Config) Validate() error {
	errs := []error{c.Config.Validate()}
	if c.OwnerCacheTTL < 0 {
		errs = append(errs, errors.New("livy.owner_cache_ttl: must not be negative"))
	}
	if c.MaxConnections <= 0 {
		errs = append(errs, errors.New("livy.max_connections: must be positive"))
	}
	if c.Username == "" && c.Password.IsSet() {
		errs = append(errs, errors.New("livy.password: is set but livy.username is empty"))
	}
	errs = append(errs, c.Password.Check("livy.password", c.Username != ""))
	if c.Routes.Enabled() && c.URL != Default().URL {
		errs = append(errs, errors.New("livy.url: is not used with livy.backends: give each backend its url"))
	}
	errs = append(errs, c.Backends().Validate())
	return errors.Join(errs...)
}

// Backends is Routes with what each backend leaves unset (timeout,
// username and password, version) taken from the livy: section.
func (c Config) Backends() route.Config {
	out := c.Routes
	out.Backends = slices.Clone(c.Routes.Backends)
	for i := range out.Backends {
		b := &out.Backends[i]
		if b.Timeout == 0 {
			b.Timeout = c.Timeout
		}
		if b.Username == "" && !b.Password.IsSet() {
			b.Username, b.Password = c.Username, c.Password
		}
		if b.Version == "" {
			b.Version = c.Version
		}
	}
	return out
}

// Upstream is the part of Options that a validated Config decides: where
// Livy is, how to reach it and as whom. It resolves the password.
func (c Config) Upstream(o *Options) error {
	u, err := url.Parse(c.URL)
	if err != nil {
		return err
	}
	password, err := c.Password.Resolve()
	if err != nil {
		return err
	}
	o.Upstream, o.Transport, o.Timeout = u, transport(c.Timeout, c.MaxConnections), c.Timeout
	o.Username, o.Password, o.OwnerCacheTTL = c.Username, password, c.OwnerCacheTTL
	o.MaxInFlight = c.MaxConnections
	return nil
}

// transport is a clone of the default transport with a bound on how long
// Livy may take to start answering, so a stuck Livy gives 504, not a hang,
// and at most maxConns connections to Livy, all kept when idle. Without the
// cap, 1,000 busy clients meant up to 1,000 connections to Livy, of which
// all but the idle pool's were closed after one answer and dialled again:
// at c=1000 on `make bench`'s mix the cap gave ~1.4x the req/s and 20 MB
// less memory, and no ephemeral ports piling up in TIME_WAIT.
func transport(timeout time.Duration, maxConns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = timeout
	t.MaxConnsPerHost = maxConns
	t.MaxIdleConnsPerHost = maxConns
	return t
}
