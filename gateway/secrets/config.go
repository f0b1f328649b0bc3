package secrets

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sirupsen/logrus"
)

// Config is the secrets: section: where secret@NAME references in Spark
// conf are resolved, and who may use which secret.
type Config struct {
	// Prefix marks a conf value as a reference; empty turns references off.
	Prefix string `yaml:"prefix"`
	// Provider is dir (one file per secret in Dir) or env (variables named
	// EnvPrefix + NAME in upper case, with - and . as _).
	Provider  string `yaml:"provider"`
	Dir       string `yaml:"dir"`
	EnvPrefix string `yaml:"env_prefix"`
	// Access lists, per secret, the users and groups that may use it; a
	// secret not listed is usable by nobody.
	Access map[string]Access `yaml:"access"`
}

// ConfigEnvPrefix starts livygate's own configuration variables
// (gateway/config): secrets must not be read from those.
const ConfigEnvPrefix = "LIVYGATE_"

// Default is the section where the file is silent: no provider.
func Default() Config { return Config{Prefix: DefaultPrefix, EnvPrefix: "LGSECRET_"} }

// Enabled reports whether a provider is configured.
func (c Config) Enabled() bool { return c.Provider != "" }

// Validate reports every problem of the section, joined, or nil. It reads
// the directory's metadata only.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	switch c.Provider {
	case "":
		if len(c.Access) > 0 {
			bad("secrets.provider", "is required when secrets.access is set: dir or env")
		}
		return errors.Join(errs...)
	case "dir":
		if st, err := os.Stat(c.Dir); err != nil {
			bad("secrets.dir", "%v", err)
		} else if !st.IsDir() {
			bad("secrets.dir", "%s is not a directory", c.Dir)
		}
	case "env":
		if c.EnvPrefix == "" || strings.HasPrefix(c.EnvPrefix, ConfigEnvPrefix) {
			bad("secrets.env_prefix", "must be set and must not start with %s (those are configuration variables)", ConfigEnvPrefix)
		}
	default:
		bad("secrets.provider", "must be dir or env, not %q", c.Provider)
	}
	if c.Prefix == "" {
		bad("secrets.prefix", "must not be empty when a provider is set")
	}
	for name, a := range c.Access {
		if !ValidName(name) {
			bad("secrets.access", "%q is not a valid secret name", name)
		}
		if len(a.Users) == 0 && len(a.Groups) == 0 {
			bad("secrets.access", "%q lists no users or groups", name)
		}
	}
	return errors.Join(errs...)
}

// Open builds the resolver of a validated configuration; nil when no
// provider is set.
func Open(c Config, log logrus.FieldLogger) (*Resolver, error) {
	var provider Provider
	switch c.Provider {
	case "":
		return nil, nil
	case "dir":
		p, err := NewDirProvider(c.Dir)
		if err != nil {
			return nil, fmt.Errorf("secrets.dir: %w", err)
		}
		provider = p
	case "env":
		provider = NewEnvProvider(c.EnvPrefix, os.Environ)
	default:
		return nil, fmt.Errorf("secrets.provider: unknown provider %q", c.Provider)
	}
	return NewResolver(Options{
		Prefix: c.Prefix, Provider: provider, Access: c.Access,
		OnRefreshError: func(err error) {
			log.WithError(err).Warn("secrets: could not list the secrets to mask; keeping the last list")
		},
	})
}
