package ui

import (
	"errors"
	"time"
)

// Config is the ui: section: the administrators' web UI under /admin/ui/.
type Config struct {
	Enabled bool `yaml:"enabled"`
	// SessionTTL is how long a login through the UI's form lasts.
	SessionTTL time.Duration `yaml:"session_ttl"`
}

// Default is the section where the file is silent.
func Default() Config { return Config{Enabled: true, SessionTTL: 8 * time.Hour} }

// Validate reports every problem of the section, joined, or nil.
func (c Config) Validate() error {
	if c.SessionTTL <= 0 {
		return errors.New("ui.session_ttl: must be positive")
	}
	return nil
}
