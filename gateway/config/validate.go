package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/sparkconf/delivery"
	"github.com/livygate/livygate/livy"
)

// Validate returns every problem in the configuration at once, joined, or nil.
// It reads nothing but file metadata and secret sources, and changes nothing.
func (c *Config) Validate() error {
	var v validator
	c.Listen.validate(&v)
	c.Livy.validate(&v)
	c.Auth.validate(&v)
	c.Policy.validate(&v)
	c.JupyterHub.validate(&v)
	c.HDFS.validate(&v)
	c.Sync.validate(&v)
	c.Tokens.validate(&v)
	c.Secrets.validate(&v)
	if c.Tokens.Delivery.Mode == delivery.HDFSFile && len(c.HDFS.NameNodes) == 0 {
		v.add("tokens.delivery.mode", "hdfs-file needs hdfs.namenodes")
	}
	c.Store.validate(&v)
	if c.UI.Enabled && c.Store.Path == "" {
		v.add("ui.enabled", "needs store.path (the UI reads the audit store)")
	}
	if c.UI.SessionTTL <= 0 {
		v.add("ui.session_ttl", "must be positive")
	}
	if c.Auth.HubToken.Enabled && c.JupyterHub.URL == "" {
		v.add("auth.hub_token.enabled", "needs jupyterhub.url")
	}
	if c.Sync.Interval > 0 {
		c.requireSync(&v)
	}
	if c.Sync.LDAPGroupDN != "" && c.Auth.LDAP.URL == "" {
		v.add("sync.ldap_group_dn", "needs auth.ldap (its connection settings are used)")
	}
	// Session governance: each section validates itself.
	if err := c.Limits.Validate(); err != nil {
		v.errs = append(v.errs, err)
	}
	if err := c.Reaper.Validate(); err != nil {
		v.errs = append(v.errs, err)
	}
	if c.Reaper.Enabled() && c.Reaper.OrphanAfter > 0 && c.JupyterHub.URL == "" {
		v.add("reaper.orphan_after", "needs jupyterhub.url (the Hub says whose notebook server runs)")
	}
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
	if l.ReadHeaderTimeout <= 0 || l.ReadTimeout <= 0 || l.IdleTimeout <= 0 || l.ShutdownTimeout <= 0 {
		v.add("listen", "read_header_timeout, read_timeout, idle_timeout and shutdown_timeout must be positive")
	}
	if l.MaxConnections <= 0 || l.MaxConnectionsPerClient <= 0 {
		v.add("listen", "max_connections and max_connections_per_client must be positive")
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
	if l.Version != "" {
		if _, err := livy.ParseVersion(l.Version); err != nil {
			v.add("livy.version", "%v (or leave it empty to ask Livy)", err)
		}
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
	if a.HubToken.CacheTTL < 0 {
		v.add("auth.hub_token.cache_ttl", "must not be negative")
	}
	if a.LDAP.URL == "" {
		if !a.HubToken.Enabled {
			v.add("auth", "no authenticator is configured: set auth.ldap.url or auth.hub_token.enabled")
		}
		return
	}
	a.LDAP.validate(v)
}

// ValidateSync reports what `livygate sync` needs beyond Validate.
func (c *Config) ValidateSync() error {
	var v validator
	c.requireSync(&v)
	return errors.Join(v.errs...)
}

func (c *Config) requireSync(v *validator) {
	if c.JupyterHub.URL == "" {
		v.add("jupyterhub.url", "is required to sync users")
	}
	if len(c.HDFS.NameNodes) == 0 {
		v.add("hdfs.namenodes", "is required to sync users")
	}
}

func (j *JupyterHub) validate(v *validator) {
	if j.URL == "" {
		return
	}
	if u, err := url.Parse(j.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add("jupyterhub.url", "must be http(s)://host[:port], not %q", j.URL)
	}
	v.secret("jupyterhub.token", j.Token, true)
	if j.Timeout <= 0 {
		v.add("jupyterhub.timeout", "must be positive")
	}
}

// FileMode parses Mode ("0750").
func (h HDFS) FileMode() (os.FileMode, error) {
	m, err := strconv.ParseUint(h.Mode, 8, 32)
	if err != nil || m > 0o777 {
		return 0, fmt.Errorf("%q is not an octal permission like 0750", h.Mode)
	}
	return os.FileMode(m), nil
}

func (h *HDFS) validate(v *validator) {
	for _, nn := range h.NameNodes {
		if _, _, err := net.SplitHostPort(nn); err != nil {
			v.add("hdfs.namenodes", "%q: %v", nn, err)
		}
	}
	if h.User == "" {
		v.add("hdfs.user", "is required")
	}
	if !strings.HasPrefix(h.BaseDir, "/") || path.Clean(h.BaseDir) != h.BaseDir || h.BaseDir == "/" {
		v.add("hdfs.base_dir", "must be a clean absolute path below /, not %q", h.BaseDir)
	}
	if mode, err := h.FileMode(); err != nil {
		v.add("hdfs.mode", "%v", err)
	} else if mode&0o002 != 0 && !h.AllowWorldWritable {
		v.add("hdfs.mode", "%s lets every user write into every home; set allow_world_writable: true if you really mean it", h.Mode)
	}
	if h.Group != "" && strings.ContainsAny(h.Group, "/:\x00\n") {
		v.add("hdfs.group", "%q is not a group name", h.Group)
	}
	if _, err := regexp.Compile(h.NamePattern); err != nil || h.NamePattern == "" {
		v.add("hdfs.name_pattern", "must be a regular expression: %v", err)
	}
	if h.Concurrency <= 0 {
		v.add("hdfs.concurrency", "must be positive")
	}
}

func (s *Sync) validate(v *validator) {
	if s.Interval < 0 {
		v.add("sync.interval", "must not be negative (0 turns the timer off)")
	}
	if s.LockFile == "" {
		v.add("sync.lock_file", "is required")
	}
	if s.History <= 0 {
		v.add("sync.history", "must be positive")
	}
}

func (s *Store) validate(v *validator) {
	if s.Path != "" {
		if st, err := os.Stat(s.Path); err == nil && st.IsDir() {
			v.add("store.path", "%s is a directory, not a file", s.Path)
		}
	}
	if s.QueueSize <= 0 {
		v.add("store.queue_size", "must be positive")
	}
	r := s.Retention
	if r.MaxAge < 0 || r.MaxEvents < 0 || r.MaxAnonymousEvents < 0 || r.MaxRuns < 0 {
		v.add("store.retention", "max_age, max_events, max_anonymous_events and max_runs must not be negative (0 keeps everything)")
	}
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

// tokenAlgorithms are the signing algorithms livygate mints with.
var tokenAlgorithms = map[string]bool{"RS256": true, "RS512": true, "ES256": true, "EdDSA": true}

// confKey is what a Spark conf key looks like.
var confKey = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]*$`)

func (t *Tokens) validate(v *validator) {
	if !t.Enabled {
		if t.Delivery.Mode.Delivers() || t.Delivery.Mode.Validate() != nil {
			v.add("tokens.delivery.mode", "needs tokens.enabled")
		}
		return
	}
	if t.Issuer == "" {
		v.add("tokens.issuer", "is required")
	}
	if len(t.Audience) == 0 {
		v.add("tokens.audience", "is required: name the services the tokens are for")
	}
	if t.Lifetime < time.Minute {
		v.add("tokens.lifetime", "must be at least 1m")
	}
	keys := append([]Key{t.SigningKey}, t.VerifyKeys...)
	for i, k := range keys {
		name := "tokens.signing_key"
		if i > 0 {
			name = fmt.Sprintf("tokens.verify_keys[%d]", i-1)
		}
		if !tokenAlgorithms[k.Algorithm] {
			v.add(name+".algorithm", "must be RS256, RS512, ES256 or EdDSA, not %q", k.Algorithm)
		}
		v.secret(name, k.Secret(), true)
	}
	for _, c := range t.UserClaims {
		if c == "" || registeredClaim(c) && c != "sub" {
			v.add("tokens.user_claims", "%q cannot carry the user name", c)
		}
	}
	for _, g := range t.GroupClaims {
		if g.Name == "" || registeredClaim(g.Name) || slices.Contains(t.UserClaims, g.Name) {
			v.add("tokens.group_claims", "%q cannot carry the groups", g.Name)
		}
		if g.Format != "array" && g.Format != "string" {
			v.add("tokens.group_claims", "format of %q must be array or string, not %q", g.Name, g.Format)
		}
	}
	if err := t.Delivery.Mode.Validate(); err != nil {
		v.add("tokens.delivery.mode", "%v", err)
	} else if t.Delivery.Mode.Delivers() {
		if len(t.Delivery.ConfKeys) == 0 {
			v.add("tokens.delivery.conf_keys", "is required in %s mode", t.Delivery.Mode)
		}
		for _, k := range t.Delivery.ConfKeys {
			if !confKey.MatchString(k) {
				v.add("tokens.delivery.conf_keys", "%q is not a Spark conf key", k)
			}
		}
	}
}

// registeredClaim reports the claims livygate sets itself.
func registeredClaim(c string) bool {
	switch c {
	case "sub", "iss", "aud", "iat", "nbf", "exp", "jti":
		return true
	}
	return false
}

var secretName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func (s *Secrets) validate(v *validator) {
	switch s.Provider {
	case "":
		if len(s.Access) > 0 {
			v.add("secrets.provider", "is required when secrets.access is set: dir or env")
		}
		return
	case "dir":
		if st, err := os.Stat(s.Dir); err != nil {
			v.add("secrets.dir", "%v", err)
		} else if !st.IsDir() {
			v.add("secrets.dir", "%s is not a directory", s.Dir)
		}
	case "env":
		if s.EnvPrefix == "" || strings.HasPrefix(s.EnvPrefix, EnvPrefix) {
			v.add("secrets.env_prefix", "must be set and must not start with %s (those are configuration variables)", EnvPrefix)
		}
	default:
		v.add("secrets.provider", "must be dir or env, not %q", s.Provider)
	}
	if s.Prefix == "" {
		v.add("secrets.prefix", "must not be empty when a provider is set")
	}
	for name, a := range s.Access {
		if !secretName.MatchString(name) {
			v.add("secrets.access", "%q is not a valid secret name", name)
		}
		if len(a.Users) == 0 && len(a.Groups) == 0 {
			v.add("secrets.access", "%q lists no users or groups", name)
		}
	}
}
