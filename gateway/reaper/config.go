// Package reaper ends interactive Livy sessions nobody uses any more: those
// idle through the gateway for reaper.idle_after (no statement or
// completion; polling does not count, and a busy session is never idle),
// and those whose owner's JupyterHub notebook server has been stopped for
// reaper.orphan_after. Batches are never reaped. It runs on a timer inside
// `livygate serve`, polls Livy only through its list endpoint (a GET of one
// session would refresh that session's heartbeat in Livy 0.9), makes every
// reap an audit event, and remembers what it ended so the session's next
// request is told why.
package reaper

import (
	"time"

	"github.com/livygate/livygate/gateway/confcheck"
)

// Config is the reaper: section.
type Config struct {
	// Interval is how often the reaper looks; 0 turns it off.
	Interval time.Duration `yaml:"interval"`
	// IdleAfter reaps a session with no statement or completion through the
	// gateway for this long; 0 never reaps for idleness.
	IdleAfter time.Duration `yaml:"idle_after"`
	// OrphanAfter reaps a user's sessions once their JupyterHub server has
	// been stopped this long; 0 never reaps orphans. Needs jupyterhub.url
	// and a service token with the read:servers scope.
	OrphanAfter time.Duration `yaml:"orphan_after"`
	// DryRun reports what would be reaped (log, admin UI, GET
	// /admin/reaper) and deletes nothing.
	DryRun bool `yaml:"dry_run"`
	// Remember is how long a reaped session's next request is told why it
	// is gone.
	Remember time.Duration `yaml:"remember"`
	// History is how many recent actions the admin UI and GET /admin/reaper
	// show.
	History int `yaml:"history"`
}

// Default is the section's defaults: the timer ticks every minute but
// nothing is reaped until idle_after or orphan_after is set.
func Default() Config {
	return Config{Interval: time.Minute, Remember: 24 * time.Hour, History: 200}
}

// Enabled reports whether the reaper has anything to do.
func (c Config) Enabled() bool {
	return c.Interval > 0 && (c.IdleAfter > 0 || c.OrphanAfter > 0)
}

// Validate reports every problem in the section, joined; it has no side
// effects.
func (c Config) Validate() error {
	problems := confcheck.New("reaper")
	add := problems.Add
	switch {
	case c.Interval < 0:
		add("interval", "must not be negative (0 turns the reaper off)")
	case c.Interval > 0 && c.Interval < time.Second:
		add("interval", "must be at least 1s")
	}
	if c.IdleAfter < 0 {
		add("idle_after", "must not be negative (0 never reaps idle sessions)")
	}
	if c.OrphanAfter < 0 {
		add("orphan_after", "must not be negative (0 never reaps orphaned sessions)")
	}
	if c.Interval == 0 && (c.IdleAfter > 0 || c.OrphanAfter > 0) {
		add("interval", "is 0 (off) but idle_after or orphan_after is set")
	}
	confcheck.Positive(problems, "remember", c.Remember)
	confcheck.Positive(problems, "history", c.History)
	return problems.Err()
}
