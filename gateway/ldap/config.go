package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Config is the directory connection and the way users and their groups are
// found (the auth.ldap: section; the bind password is the gateway's to
// resolve and is given to New).
type Config struct {
	URL string `yaml:"url"`
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool   `yaml:"start_tls"`
	CAFile   string `yaml:"ca_file"`
	// AllowInsecure permits plain ldap:// without StartTLS (passwords in clear).
	AllowInsecure bool          `yaml:"allow_insecure"`
	Timeout       time.Duration `yaml:"timeout"`

	// BindDN is the service account; empty searches anonymously.
	BindDN string `yaml:"bind_dn"`

	UserBaseDN string `yaml:"user_base_dn"`
	// UserFilter is ANDed with (UsernameAttribute=<escaped name>).
	UserFilter        string `yaml:"user_filter"`
	UsernameAttribute string `yaml:"username_attribute"`

	// GroupMembershipAttribute (e.g. memberOf) on the user entry lists group DNs.
	GroupMembershipAttribute string `yaml:"group_membership_attribute"`
	// GroupBaseDN enables a group search instead: GroupFilter with {dn} and
	// {user} replaced by the escaped user DN and name.
	GroupBaseDN        string `yaml:"group_base_dn"`
	GroupFilter        string `yaml:"group_filter"`
	GroupNameAttribute string `yaml:"group_name_attribute"`
}

// Default is the section where the file is silent.
func Default() Config {
	return Config{
		Timeout:                  5 * time.Second,
		UserFilter:               "(objectClass=person)",
		UsernameAttribute:        "uid",
		GroupMembershipAttribute: "memberOf",
		GroupNameAttribute:       "cn",
	}
}

// defaultGroupFilter finds the groups that list the user's entry.
const defaultGroupFilter = "(member={dn})"

// Validate returns every problem of the section at once. It reads the CA
// file and changes nothing.
func (c Config) Validate() error {
	_, err := c.settings()
	return err
}

// settings is the checked, derived form of the Config that a Client runs
// on. Validate and New both go through it, so they cannot disagree.
type settings struct {
	url       string // for messages
	addr      string // host:port
	ldaps     bool
	startTLS  bool
	tlsConfig *tls.Config // nil for plain ldap://
	timeout   time.Duration

	bindDN string

	userBaseDN string
	userFilter string // normalised to "(…)" or empty
	userAttr   string

	memberAttr string // GroupMembershipAttribute mode when set

	groupBaseDN string // group search mode when set
	groupFilter string
	groupAttr   string
}

func (c Config) settings() (settings, error) {
	s := settings{
		url:         c.URL,
		startTLS:    c.StartTLS,
		timeout:     c.Timeout,
		bindDN:      c.BindDN,
		userBaseDN:  c.UserBaseDN,
		userAttr:    c.UsernameAttribute,
		memberAttr:  c.GroupMembershipAttribute,
		groupBaseDN: c.GroupBaseDN,
		groupFilter: c.GroupFilter,
		groupAttr:   c.GroupNameAttribute,
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		bad("auth.ldap.url is required")
	case err != nil:
		bad("auth.ldap.url %q: %v", c.URL, err)
	case u.Scheme != "ldap" && u.Scheme != "ldaps":
		bad("auth.ldap.url %q: the scheme must be ldap:// or ldaps://", c.URL)
	case u.Hostname() == "":
		bad("auth.ldap.url %q names no host", c.URL)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "":
		bad("auth.ldap.url %q: give only scheme, host and port (base DNs and the bind DN have their own keys)", c.URL)
	default:
		s.ldaps = u.Scheme == "ldaps"
		port := u.Port()
		if port == "" {
			port = map[bool]string{true: "636", false: "389"}[s.ldaps]
		}
		s.addr = net.JoinHostPort(u.Hostname(), port)
		switch {
		case s.ldaps && c.StartTLS:
			bad("auth.ldap.start_tls is for ldap:// URLs; %q is already TLS", c.URL)
		case !s.ldaps && !c.StartTLS && !c.AllowInsecure:
			bad("auth.ldap.url %q is plain LDAP: passwords would cross the network in clear; use ldaps://, set auth.ldap.start_tls, or set auth.ldap.allow_insecure to accept that", c.URL)
		}
		if s.ldaps || c.StartTLS {
			s.tlsConfig = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
			if c.CAFile != "" {
				pool, err := loadCAFile(c.CAFile)
				if err != nil {
					bad("auth.ldap.ca_file: %v", err)
				}
				s.tlsConfig.RootCAs = pool
			}
		} else if c.CAFile != "" {
			bad("auth.ldap.ca_file is set but %q uses no TLS; use ldaps:// or set auth.ldap.start_tls", c.URL)
		}
	}
	if c.Timeout <= 0 {
		bad("auth.ldap.timeout must be positive")
	}
	if c.BindDN != "" {
		if _, err := ldap.ParseDN(c.BindDN); err != nil {
			bad("auth.ldap.bind_dn %q is not a DN: %v", c.BindDN, err)
		}
	}

	if c.UserBaseDN == "" {
		bad("auth.ldap.user_base_dn is required")
	} else if _, err := ldap.ParseDN(c.UserBaseDN); err != nil {
		bad("auth.ldap.user_base_dn %q is not a DN: %v", c.UserBaseDN, err)
	}
	if !validAttributeName(s.userAttr) {
		bad("auth.ldap.username_attribute %q is not an attribute name", s.userAttr)
	}
	if f := strings.TrimSpace(c.UserFilter); f != "" {
		if !strings.HasPrefix(f, "(") {
			f = "(" + f + ")"
		}
		s.userFilter = f
	}
	if _, err := ldap.CompileFilter(s.userSearchFilter("probe")); err != nil {
		bad("auth.ldap.user_filter %q: %v", c.UserFilter, err)
	}

	switch {
	case s.memberAttr != "" && s.groupBaseDN != "":
		bad("auth.ldap: set either group_membership_attribute or group_base_dn, not both")
	case s.memberAttr != "":
		if !validAttributeName(s.memberAttr) {
			bad("auth.ldap.group_membership_attribute %q is not an attribute name", s.memberAttr)
		}
	case s.groupBaseDN != "":
		if _, err := ldap.ParseDN(s.groupBaseDN); err != nil {
			bad("auth.ldap.group_base_dn %q is not a DN: %v", s.groupBaseDN, err)
		}
		if s.groupFilter == "" {
			s.groupFilter = defaultGroupFilter
		}
		if !strings.Contains(s.groupFilter, "{dn}") && !strings.Contains(s.groupFilter, "{user}") {
			bad("auth.ldap.group_filter %q must contain {dn} or {user}", s.groupFilter)
		}
		if !validAttributeName(s.groupAttr) {
			bad("auth.ldap.group_name_attribute %q is not an attribute name", s.groupAttr)
		}
		if _, err := ldap.CompileFilter(s.groupSearchFilter("cn=probe,dc=example", "probe")); err != nil {
			bad("auth.ldap.group_filter %q: %v", s.groupFilter, err)
		}
	case s.groupFilter != "":
		bad("auth.ldap.group_filter needs auth.ldap.group_base_dn")
	}
	return s, errors.Join(errs...)
}

func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// validAttributeName accepts an attribute description: a name or an OID,
// optionally with options (cn;lang-en).
func validAttributeName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ';') {
			return false
		}
	}
	return true
}

// userSearchFilter is the filter that finds name's entry. The name is escaped
// here, exactly once; nothing else may escape or unescape it.
func (s *settings) userSearchFilter(name string) string {
	match := "(" + s.userAttr + "=" + ldap.EscapeFilter(name) + ")"
	if s.userFilter == "" {
		return match
	}
	return "(&" + s.userFilter + match + ")"
}

// groupSearchFilter fills {dn} and {user} in one pass, so a value that itself
// contains "{user}" is never substituted again.
func (s *settings) groupSearchFilter(userDN, user string) string {
	return strings.NewReplacer(
		"{dn}", ldap.EscapeFilter(userDN),
		"{user}", ldap.EscapeFilter(user),
	).Replace(s.groupFilter)
}
