package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/livygate/livygate/gateway/ldap"
	"github.com/livygate/livygate/gateway/secrets"
)

// Config is the auth: section: how callers are authenticated and who is an
// admin.
type Config struct {
	Realm string `yaml:"realm"`
	// AdminGroup makes its members gateway admins.
	AdminGroup string `yaml:"admin_group"`
	// AdminsMayImpersonate lets admins set proxyUser to another user.
	AdminsMayImpersonate bool           `yaml:"admins_may_impersonate"`
	Cache                CacheConfig    `yaml:"cache"`
	Lockout              LockoutConfig  `yaml:"lockout"`
	LDAP                 LDAPConfig     `yaml:"ldap"`
	HubToken             HubTokenConfig `yaml:"hub_token"`
}

// LDAPConfig is the LDAP Basic authenticator, enabled when URL is set: the
// directory adapter's settings and the service account's password.
type LDAPConfig struct {
	ldap.Config  `yaml:",inline"`
	BindPassword secrets.Ref `yaml:"bind_password"`
}

// Enabled reports whether LDAP logins are configured.
func (c LDAPConfig) Enabled() bool { return c.URL != "" }

// HubTokenConfig lets notebook users log in with their own JupyterHub API
// token (Authorization: token …), checked against jupyterhub.url.
type HubTokenConfig struct {
	Enabled bool `yaml:"enabled"`
	// CacheTTL is how long a token the Hub accepted is trusted without
	// asking again.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// HubAdminsAreAdmins makes the Hub's admins gateway admins.
	HubAdminsAreAdmins bool `yaml:"hub_admins_are_admins"`
}

// CacheConfig is the verified-credentials cache.
type CacheConfig struct {
	TTL        time.Duration `yaml:"ttl"`
	MaxEntries int           `yaml:"max_entries"`
}

// LockoutConfig limits failed logins per user and per client address. The
// address limit is separate and higher: every notebook kernel on a
// JupyterHub host calls from that host's one address, so a low per-address
// limit would let one user's typos lock everybody out.
type LockoutConfig struct {
	MaxFailures           int           `yaml:"max_failures"`
	MaxFailuresPerAddress int           `yaml:"max_failures_per_address"`
	Window                time.Duration `yaml:"window"`
	Duration              time.Duration `yaml:"duration"`
}

// Default is the section where the file is silent.
func Default() Config {
	return Config{
		Realm:      "livygate",
		AdminGroup: "livygate-admins",
		Cache:      CacheConfig{TTL: 5 * time.Minute, MaxEntries: 10000},
		Lockout:    LockoutConfig{MaxFailures: 5, MaxFailuresPerAddress: 50, Window: 5 * time.Minute, Duration: 5 * time.Minute},
		HubToken:   HubTokenConfig{CacheTTL: time.Minute},
		LDAP:       LDAPConfig{Config: ldap.Default()},
	}
}

// Validate returns every problem of the section at once. It reads the CA
// file and the bind password's source, and changes nothing.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, msg string) { errs = append(errs, fmt.Errorf("%s: %s", key, msg)) }
	if c.Realm == "" || strings.ContainsAny(c.Realm, "\"\\\r\n") {
		bad("auth.realm", "must be non-empty without quotes, backslashes or newlines")
	}
	if c.Cache.TTL < 0 || (c.Cache.TTL > 0 && c.Cache.MaxEntries <= 0) {
		bad("auth.cache", "ttl must not be negative and max_entries must be positive when ttl is set")
	}
	l := c.Lockout
	if l.MaxFailures < 0 || l.MaxFailuresPerAddress < 0 || (l.MaxFailures > 0 && (l.Window <= 0 || l.Duration <= 0)) {
		bad("auth.lockout", "max_failures must not be negative; window and duration must be positive when it is set")
	}
	if c.HubToken.CacheTTL < 0 {
		bad("auth.hub_token.cache_ttl", "must not be negative")
	}
	if !c.LDAP.Enabled() {
		if !c.HubToken.Enabled {
			bad("auth", "no authenticator is configured: set auth.ldap.url or auth.hub_token.enabled")
		}
		return errors.Join(errs...)
	}
	errs = append(errs, c.LDAP.Validate())
	return errors.Join(errs...)
}

// Validate checks the directory settings and the bind password: set exactly
// when a bind DN is, and readable.
func (c LDAPConfig) Validate() error {
	errs := []error{c.Config.Validate()}
	switch {
	case c.BindDN == "" && c.BindPassword.IsSet():
		errs = append(errs, errors.New("auth.ldap.bind_password is set but auth.ldap.bind_dn is empty"))
	case c.BindDN != "" && !c.BindPassword.IsSet():
		errs = append(errs, errors.New("auth.ldap.bind_password is required with auth.ldap.bind_dn (an empty password would be an anonymous bind)"))
	case c.BindDN != "":
		errs = append(errs, c.BindPassword.Check("auth.ldap.bind_password", true))
	}
	return errors.Join(errs...)
}
