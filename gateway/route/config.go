// Package route puts several Livy servers behind one Livy API: the proxy
// (and every other part that talks to Livy) sees one Livy whose session and
// batch ids are the gateway's own, and the Router, an http.RoundTripper,
// maps each to the backend and Livy id it stands for, merges the lists,
// places creates and names a backend that is down.
package route

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/livy"
)

// Config is the part of the livy: section that lists several backends.
type Config struct {
	// Backends are the Livy servers; empty means the one at livy.url, with
	// Livy's own ids.
	Backends []Backend `yaml:"backends"`
	// Placement chooses the backend of a create.
	Placement Placement `yaml:"placement"`
}

// Backend is one Livy server. Timeout, username, password and version
// left empty are the livy: section's.
type Backend struct {
	// Name appears in messages ("Livy backend 'emr-a' is not reachable"),
	// the admin UI and the id registry: keep it once chosen.
	Name        string `yaml:"name"`
	livy.Config `yaml:",inline"`
	Password    secrets.Ref `yaml:"password"`
}

// Placement is the placement policy: a create goes to the backend with the
// fewest live sessions (or batches, for a batch), unless a pin names the
// caller or one of the caller's groups.
type Placement struct {
	Pin []Pin `yaml:"pin"`
}

// Pin sends the creates of some users and groups to one backend; the
// first pin that names the caller wins.
type Pin struct {
	Groups  []string `yaml:"groups"`
	Users   []string `yaml:"users"`
	Backend string   `yaml:"backend"`
}

// Enabled reports whether several-backend routing is configured.
func (c Config) Enabled() bool { return len(c.Backends) > 0 }

// validBackendName is what a backend may be called: it is shown and stored.
var validBackendName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate reports every problem of the backends and pins, joined. The
// backends are checked as given: call it after their defaults are filled.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, b := range c.Backends {
		key := fmt.Sprintf("livy.backends[%d]", i)
		switch {
		case !validBackendName.MatchString(b.Name):
			errs = append(errs, fmt.Errorf("%s.name: %q must be 1 to 64 letters, digits, '.', '_' or '-'", key, b.Name))
		case seen[b.Name]:
			errs = append(errs, fmt.Errorf("%s.name: %q is used twice", key, b.Name))
		}
		seen[b.Name] = true
		errs = append(errs, b.Config.ValidateAt(key))
		if b.Username == "" && b.Password.IsSet() {
			errs = append(errs, fmt.Errorf("%s.password: is set but %s.username is empty", key, key))
		}
		errs = append(errs, b.Password.Check(key+".password", b.Username != ""))
	}
	for i, p := range c.Placement.Pin {
		key := fmt.Sprintf("livy.placement.pin[%d]", i)
		if !seen[p.Backend] {
			errs = append(errs, fmt.Errorf("%s.backend: %q is not one of livy.backends", key, p.Backend))
		}
		if len(p.Groups) == 0 && len(p.Users) == 0 {
			errs = append(errs, fmt.Errorf("%s: names no groups and no users", key))
		}
	}
	if len(c.Placement.Pin) > 0 && !c.Enabled() {
		errs = append(errs, errors.New("livy.placement.pin: needs livy.backends"))
	}
	return errors.Join(errs...)
}
