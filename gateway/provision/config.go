package provision

import (
	"errors"
	"fmt"
	"time"
)

// Config is the sync: section: `livygate sync` from cron, or on a timer in
// `livygate serve`.
type Config struct {
	// Interval runs the sync inside `serve` this often; 0 turns it off.
	Interval time.Duration `yaml:"interval"`
	// LockFile keeps two runs (cron and timer, or two crons) apart.
	LockFile string `yaml:"lock_file"`
	// LDAPGroupDN adds the members of this LDAP group (found with the
	// auth.ldap connection, paged) to the Hub's users.
	LDAPGroupDN string `yaml:"ldap_group_dn"`
	// History is how many runs `serve` keeps for its admin endpoint.
	History int `yaml:"history"`
}

// Default is the section where the file is silent.
func Default() Config { return Config{LockFile: "/var/lib/livygate/sync.lock", History: 20} }

// Validate reports every problem of the section, joined, or nil.
func (c Config) Validate() error {
	var errs []error
	if c.Interval < 0 {
		errs = append(errs, errors.New("sync.interval: must not be negative (0 turns the timer off)"))
	}
	if c.LockFile == "" {
		errs = append(errs, errors.New("sync.lock_file: is required"))
	}
	if c.History <= 0 {
		errs = append(errs, fmt.Errorf("sync.history: must be positive"))
	}
	return errors.Join(errs...)
}
