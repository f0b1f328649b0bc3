// Package gateway wires livygate together from its configuration: the
// authenticator chain, the conf policy, the Livy proxy and the HTTP server.
// It is the only place where the adapters (livy, hdfs, jupyterhub) meet.
package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/server"
)

// New builds the gateway's server from a validated configuration.
func New(cfg config.Config, log *logrus.Logger) (*server.Server, error) {
	authn, err := newAuthenticator(cfg.Auth, log)
	if err != nil {
		return nil, err
	}
	pol, err := policy.New(cfg.Policy)
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
	p := proxy.New(proxy.Options{
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
	})
	return server.New(server.Options{
		Listen: cfg.Listen,
		Realm:  cfg.Auth.Realm,
		Authn:  authn,
		Livy:   p,
		Ready:  p.Livy(),
		Audit:  audit.LogSink{Log: log},
		Log:    log,
	}), nil
}

// newAuthenticator builds the chain of configured authenticators.
func newAuthenticator(cfg config.Auth, log *logrus.Logger) (auth.Authenticator, error) {
	var chain auth.Chain
	if cfg.LDAP.URL != "" {
		verifier, err := auth.NewLDAP(cfg.LDAP, log)
		if err != nil {
			return nil, fmt.Errorf("auth.ldap: %w", err)
		}
		basic, err := auth.NewBasic(cfg, verifier, time.Now)
		if err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		chain = append(chain, basic)
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
