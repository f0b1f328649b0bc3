package livy

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config is where Livy is and how to reach it (the livy: section, without
// the password, which the caller resolves).
type Config struct {
	URL string `yaml:"url"`
	// Timeout bounds how long the gateway waits for Livy's response headers.
	Timeout  time.Duration `yaml:"timeout"`
	Username string        `yaml:"username"`
	// Version is the Livy release behind the gateway ("0.7.1", "0.9.0");
	// empty asks Livy (GET /version) once and remembers. Create fields a
	// release does not know (ttl before 0.8, idleTimeout before 0.9) are
	// never sent to it.
	Version string `yaml:"version"`
}

// Default is the section where the file is silent.
func Default() Config {
	return Config{URL: "http://127.0.0.1:8998", Timeout: 60 * time.Second}
}

// Validate reports every problem of the section, joined, or nil.
func (c Config) Validate() error { return c.ValidateAt("livy") }

// ValidateAt is Validate for the settings found at key prefix (one entry
// of livy.backends is "livy.backends[1]"), so messages name the right key.
func (c Config) ValidateAt(prefix string) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		key = prefix + strings.TrimPrefix(key, "livy")
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	u, err := url.Parse(c.URL)
	switch {
	case err != nil:
		bad("livy.url", "%v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		bad("livy.url", "scheme must be http or https, not %q", u.Scheme)
	case u.Host == "":
		bad("livy.url", "has no host")
	case u.User != nil:
		bad("livy.url", "must not carry credentials; use livy.username and livy.password")
	}
	if c.Timeout <= 0 {
		bad("livy.timeout", "must be positive")
	}
	if c.Version != "" {
		if _, err := ParseVersion(c.Version); err != nil {
			bad("livy.version", "%v (or leave it empty to ask Livy)", err)
		}
	}
	return errors.Join(errs...)
}
