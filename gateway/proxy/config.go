package proxy

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/livy"
)

// Config is the livy: section: the Livy server the proxy forwards to, the
// gateway's own credentials there, and how long a session's owner is
// remembered.
type Config struct {
	livy.Config `yaml:",inline"`
	Password    secrets.Ref `yaml:"password"`
	// OwnerCacheTTL bounds how long a session's owner is remembered.
	OwnerCacheTTL time.Duration `yaml:"owner_cache_ttl"`
}

// Default is the section where the file is silent.
func Default() Config {
	return Config{Config: livy.Default(), OwnerCacheTTL: 10 * time.Minute}
}

// Validate reports every problem of the section, joined, or nil.
func (c Config) Validate() error {
	errs := []error{c.Config.Validate()}
	if c.OwnerCacheTTL < 0 {
		errs = append(errs, errors.New("livy.owner_cache_ttl: must not be negative"))
	}
	if c.Username == "" && c.Password.IsSet() {
		errs = append(errs, errors.New("livy.password: is set but livy.username is empty"))
	}
	errs = append(errs, c.Password.Check("livy.password", c.Username != ""))
	return errors.Join(errs...)
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
	o.Upstream, o.Transport, o.Timeout = u, transport(c.Timeout), c.Timeout
	o.Username, o.Password, o.OwnerCacheTTL = c.Username, password, c.OwnerCacheTTL
	return nil
}

// transport is a clone of the default transport with a bound on how long
// Livy may take to start answering, so a stuck Livy gives 504, not a hang.
func transport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = timeout
	t.MaxIdleConnsPerHost = 64
	return t
}
