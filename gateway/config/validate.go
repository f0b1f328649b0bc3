package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/sirupsen/logrus"
)

// Validate returns every problem in the configuration at once, joined, or nil.
// It reads nothing but file metadata and secret sources, and changes nothing.
func (c *Config) Validate() error {
	var v validator
	c.Listen.validate(&v)
	c.Livy.validate(&v)
	c.Auth.validate(&v)
	c.Policy.validate(&v)
	if _, err := logrus.ParseLevel(c.Log.Level); err != nil {
		v.add("log.level", "%v", err)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		v.add("log.format", "must be json or text, not %q", c.Log.Format)
	}
	return errors.Join(v.errs...)
}

type validator struct{ errs []error }

func (v *validator) add(key, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (v *validator) fileExists(key, path string) {
	if path == "" {
		return
	}
	if st, err := os.Stat(path); err != nil {
		v.add(key, "%v", err)
	} else if st.IsDir() {
		v.add(key, "%s is a directory, not a file", path)
	}
}

func (v *validator) secret(key string, s Secret, required bool) {
	if !s.IsSet() {
		if required {
			v.add(key, "is required: give file or env")
		}
		return
	}
	if _, err := s.Resolve(); err != nil {
		v.add(key, "%v", err)
	}
}

func (l *Listen) validate(v *validator) {
	if _, _, err := net.SplitHostPort(l.Address); err != nil {
		v.add("listen.address", "%v", err)
	}
	if (l.TLSCertFile == "") != (l.TLSKeyFile == "") {
		v.add("listen", "tls_cert_file and tls_key_file go together")
	}
	v.fileExists("listen.tls_cert_file", l.TLSCertFile)
	v.fileExists("listen.tls_key_file", l.TLSKeyFile)
	if l.MaxBodyBytes <= 0 {
		v.add("listen.max_body_bytes", "must be positive")
	}
	if l.ReadHeaderTimeout <= 0 || l.IdleTimeout <= 0 || l.ShutdownTimeout <= 0 {
		v.add("listen", "read_header_timeout, idle_timeout and shutdown_timeout must be positive")
	}
}

func (l *Livy) validate(v *validator) {
	u, err := url.Parse(l.URL)
	switch {
	case err != nil:
		v.add("livy.url", "%v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		v.add("livy.url", "scheme must be http or https, not %q", u.Scheme)
	case u.Host == "":
		v.add("livy.url", "has no host")
	case u.User != nil:
		v.add("livy.url", "must not carry credentials; use livy.username and livy.password")
	}
	if l.Timeout <= 0 {
		v.add("livy.timeout", "must be positive")
	}
	if l.OwnerCacheTTL < 0 {
		v.add("livy.owner_cache_ttl", "must not be negative")
	}
	if l.Username == "" && l.Password.IsSet() {
		v.add("livy.password", "is set but livy.username is empty")
	}
	v.secret("livy.password", l.Password, l.Username != "")
}

func (a *Auth) validate(v *validator) {
	if a.Realm == "" || strings.ContainsAny(a.Realm, "\"\\\r\n") {
		v.add("auth.realm", "must be non-empty without quotes, backslashes or newlines")
	}
	if a.Cache.TTL < 0 || (a.Cache.TTL > 0 && a.Cache.MaxEntries <= 0) {
		v.add("auth.cache", "ttl must not be negative and max_entries must be positive when ttl is set")
	}
	if a.Lockout.MaxFailures < 0 || a.Lockout.MaxFailuresPerAddress < 0 || (a.Lockout.MaxFailures > 0 && (a.Lockout.Window <= 0 || a.Lockout.Duration <= 0)) {
		v.add("auth.lockout", "max_failures must not be negative; window and duration must be positive when it is set")
	}
	if a.LDAP.URL == "" {
		v.add("auth", "no authenticator is configured: set auth.ldap.url")
		return
	}
	a.LDAP.validate(v)
}

func (l *LDAP) validate(v *validator) {
	u, err := url.Parse(l.URL)
	if err != nil {
		v.add("auth.ldap.url", "%v", err)
		return
	}
	switch u.Scheme {
	case "ldaps":
		if l.StartTLS {
			v.add("auth.ldap.start_tls", "cannot be used with ldaps://")
		}
	case "ldap":
		if !l.StartTLS && !l.AllowInsecure {
			v.add("auth.ldap.url", "ldap:// sends passwords in clear: use ldaps://, set start_tls, or set allow_insecure: true explicitly")
		}
	default:
		v.add("auth.ldap.url", "scheme must be ldap or ldaps, not %q", u.Scheme)
	}
	v.fileExists("auth.ldap.ca_file", l.CAFile)
	if l.Timeout <= 0 {
		v.add("auth.ldap.timeout", "must be positive")
	}
	if l.BindDN == "" && l.BindPassword.IsSet() {
		v.add("auth.ldap.bind_password", "is set but bind_dn is empty")
	}
	v.secret("auth.ldap.bind_password", l.BindPassword, l.BindDN != "")
	if l.UserBaseDN == "" {
		v.add("auth.ldap.user_base_dn", "is required")
	}
	if l.UsernameAttribute == "" {
		v.add("auth.ldap.username_attribute", "is required")
	}
	if l.UserFilter != "" {
		if _, err := ldap.CompileFilter(l.UserFilter); err != nil {
			v.add("auth.ldap.user_filter", "%v", err)
		}
	}
	if l.GroupBaseDN != "" {
		if !strings.Contains(l.GroupFilter, "{dn}") && !strings.Contains(l.GroupFilter, "{user}") {
			v.add("auth.ldap.group_filter", "must contain {dn} or {user} when group_base_dn is set")
		}
		if l.GroupNameAttribute == "" {
			v.add("auth.ldap.group_name_attribute", "is required when group_base_dn is set")
		}
	}
}

func (p *Policy) validate(v *validator) {
	for i, re := range p.DenyConf {
		if _, err := regexp.Compile(re); err != nil {
			v.add(fmt.Sprintf("policy.deny_conf[%d]", i), "%v", err)
		}
	}
	for i, re := range p.AllowConf {
		if _, err := regexp.Compile(re); err != nil {
			v.add(fmt.Sprintf("policy.allow_conf[%d]", i), "%v", err)
		}
	}
	if p.RedactKeys == "" {
		v.add("policy.redact_keys", "must not be empty: secrets would reach every answer")
	} else if _, err := regexp.Compile(p.RedactKeys); err != nil {
		v.add("policy.redact_keys", "%v", err)
	}
}
