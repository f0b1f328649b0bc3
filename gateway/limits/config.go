// Package limits is livygate's per-user share of the cluster: how many live
// sessions and batches each user may have, how large their drivers and
// executors may be, which YARN queues they may use, and how long a session
// may live or sit idle (Livy's ttl, idleTimeout and heartbeatTimeoutInSecond,
// clamped or refused). The proxy calls Admit once per create, before Livy
// sees it.
package limits

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/livygate/livygate/gateway/confcheck"
)

// Config is the limits: section. The zero value limits nothing.
type Config struct {
	// AdminsExempt: members of auth.admin_group are not limited (counts,
	// sizes, queues, timeout maxima). Timeout defaults still apply.
	AdminsExempt bool `yaml:"admins_exempt"`
	// Default applies to every user that no override names.
	Default Set `yaml:"default"`
	// Overrides replace some of Default's values for the users and groups
	// they name. The first override that names the user, or one of the
	// user's groups, wins; fields it leaves out keep Default's value.
	Overrides []Override `yaml:"overrides"`
	Timeouts  Timeouts   `yaml:"timeouts"`
}

// Set is one user's limits. A zero number or empty size means no limit.
type Set struct {
	// MaxSessions and MaxBatches count the user's live interactive sessions
	// and batches, as Livy lists them.
	MaxSessions int `yaml:"max_sessions"`
	MaxBatches  int `yaml:"max_batches"`
	// Sizes in Spark's units: 512m, 2g, 2gb (a bare number is MiB).
	MaxDriverMemory   string `yaml:"max_driver_memory"`
	MaxDriverCores    int    `yaml:"max_driver_cores"`
	MaxExecutorMemory string `yaml:"max_executor_memory"`
	MaxExecutorCores  int    `yaml:"max_executor_cores"`
	// MaxExecutors bounds numExecutors, spark.executor.instances and every
	// spark.dynamicAllocation executor count; a request that names no
	// spark.dynamicAllocation.maxExecutors gets this value.
	MaxExecutors int `yaml:"max_executors"`
	// Queues are the YARN queues the user may use; empty allows any.
	Queues []string `yaml:"queues"`
	// DefaultQueue is set when a request names no queue.
	DefaultQueue string `yaml:"default_queue"`
}

// Override is a group's (or a user's) own limits. Only the fields given
// replace the defaults: leave a field out to inherit it, give 0 (or "")
// for no limit.
type Override struct {
	Groups []string `yaml:"groups"`
	Users  []string `yaml:"users"`

	MaxSessions       *int      `yaml:"max_sessions"`
	MaxBatches        *int      `yaml:"max_batches"`
	MaxDriverMemory   *string   `yaml:"max_driver_memory"`
	MaxDriverCores    *int      `yaml:"max_driver_cores"`
	MaxExecutorMemory *string   `yaml:"max_executor_memory"`
	MaxExecutorCores  *int      `yaml:"max_executor_cores"`
	MaxExecutors      *int      `yaml:"max_executors"`
	Queues            *[]string `yaml:"queues"`
	DefaultQueue      *string   `yaml:"default_queue"`
}

// Timeouts bound Livy's per-session timers. Zero durations turn a default
// or a maximum off.
type Timeouts struct {
	// OverMax is what happens to a value over its maximum: "clamp" lowers
	// it to the maximum, "refuse" answers 400.
	OverMax string `yaml:"over_max"`
	// TTL is Livy's ttl (0.8+): a session's maximum lifetime.
	TTL Timeout `yaml:"ttl"`
	// IdleTimeout is Livy's idleTimeout (0.9+): how long Livy keeps a
	// session nobody polls.
	IdleTimeout Timeout `yaml:"idle_timeout"`
	// HeartbeatTimeout is heartbeatTimeoutInSecond: how long Livy keeps a
	// session whose client stopped sending heartbeats (0 in a request means
	// never, so it is over any maximum).
	HeartbeatTimeout Timeout `yaml:"heartbeat_timeout"`
}

// Timeout is one timer's default (filled in when the request has none) and
// maximum.
type Timeout struct {
	Default time.Duration `yaml:"default"`
	Max     time.Duration `yaml:"max"`
}

// Default is the section's defaults: nothing limited, admins exempt, values
// over a maximum clamped.
func Default() Config {
	return Config{AdminsExempt: true, Timeouts: Timeouts{OverMax: "clamp"}}
}

// Validate reports every problem in the section, joined; it has no side
// effects.
func (c Config) Validate() error {
	problems := confcheck.New("limits")
	add := problems.Add
	checkSet := func(prefix string, s Set) {
		for _, n := range []struct {
			name string
			n    int
		}{{"max_sessions", s.MaxSessions}, {"max_batches", s.MaxBatches}, {"max_driver_cores", s.MaxDriverCores},
			{"max_executor_cores", s.MaxExecutorCores}, {"max_executors", s.MaxExecutors}} {
			if n.n < 0 {
				add(prefix+n.name, "must not be negative (0 is no limit)")
			}
		}
		for _, m := range []struct{ name, v string }{{"max_driver_memory", s.MaxDriverMemory}, {"max_executor_memory", s.MaxExecutorMemory}} {
			if m.v == "" {
				continue
			}
			if n, err := ParseSize(m.v); err != nil {
				add(prefix+m.name, "%v", err)
			} else if n == 0 {
				add(prefix+m.name, "must be positive (leave it out for no limit)")
			}
		}
		for _, q := range s.Queues {
			if strings.TrimSpace(q) == "" {
				add(prefix+"queues", "holds an empty queue name")
			}
		}
		if s.DefaultQueue != "" && len(s.Queues) > 0 && !slices.Contains(s.Queues, s.DefaultQueue) {
			add(prefix+"default_queue", "%q is not one of the allowed queues %v", s.DefaultQueue, s.Queues)
		}
	}
	checkSet("default.", c.Default)
	for i, o := range c.Overrides {
		prefix := fmt.Sprintf("overrides[%d].", i)
		if len(o.Groups) == 0 && len(o.Users) == 0 {
			add(fmt.Sprintf("overrides[%d]", i), "names no groups or users")
		}
		for _, n := range append(slices.Clone(o.Groups), o.Users...) {
			if strings.TrimSpace(n) == "" {
				add(fmt.Sprintf("overrides[%d]", i), "holds an empty group or user name")
			}
		}
		checkSet(prefix, o.apply(c.Default))
	}
	switch c.Timeouts.OverMax {
	case "clamp", "refuse":
	default:
		add("timeouts.over_max", "must be clamp or refuse, not %q", c.Timeouts.OverMax)
	}
	for _, t := range []struct {
		name string
		t    Timeout
	}{{"ttl", c.Timeouts.TTL}, {"idle_timeout", c.Timeouts.IdleTimeout}, {"heartbeat_timeout", c.Timeouts.HeartbeatTimeout}} {
		if t.t.Default < 0 || t.t.Max < 0 {
			add("timeouts."+t.name, "default and max must not be negative (0 turns them off)")
		}
		if t.t.Max > 0 && t.t.Default > t.t.Max {
			add("timeouts."+t.name+".default", "%s is over the maximum %s", t.t.Default, t.t.Max)
		}
	}
	if t := c.Timeouts.HeartbeatTimeout; t.Default%time.Second != 0 || t.Max%time.Second != 0 {
		add("timeouts.heartbeat_timeout", "must be whole seconds (Livy takes heartbeatTimeoutInSecond)")
	}
	return problems.Err()
}

// apply returns base with the override's fields put over it.
func (o Override) apply(base Set) Set {
	s := base
	setInt := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	setStr := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	setInt(&s.MaxSessions, o.MaxSessions)
	setInt(&s.MaxBatches, o.MaxBatches)
	setStr(&s.MaxDriverMemory, o.MaxDriverMemory)
	setInt(&s.MaxDriverCores, o.MaxDriverCores)
	setStr(&s.MaxExecutorMemory, o.MaxExecutorMemory)
	setInt(&s.MaxExecutorCores, o.MaxExecutorCores)
	setInt(&s.MaxExecutors, o.MaxExecutors)
	if o.Queues != nil {
		s.Queues = *o.Queues
	}
	setStr(&s.DefaultQueue, o.DefaultQueue)
	return s
}

// names reports whether the override names user or one of groups.
func (o Override) names(user string, groups []string) bool {
	if slices.Contains(o.Users, user) {
		return true
	}
	for _, g := range groups {
		if slices.Contains(o.Groups, g) {
			return true
		}
	}
	return false
}
