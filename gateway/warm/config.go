// Package warm starts a notebook user's Spark session before they ask for
// it: when the user's JupyterHub server runs and they have no session of a
// configured kind, the gateway creates one in the background, as that user
// and through the same policy, limits and conf completion as any create,
// and hands it over on the user's first POST /sessions whose completed body
// is equivalent. Until then the session is not the user's: it is not in
// their list, does not count against their limits (warm.max_total caps all
// warm sessions together), the reaper leaves it alone, and it is deleted
// after warm.expire_after unused or once the user's server stops. Who a
// warm session is for is kept in the store, so no replica ever hands it to
// anyone else, and its state is checked at adoption.
package warm

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/livygate/livygate/gateway/confcheck"
)

// Config is the warm: section.
type Config struct {
	// Enabled turns warm sessions on. Needs jupyterhub.url (the Hub says
	// whose notebook server runs).
	Enabled bool `yaml:"enabled"`
	// Interval is how often the gateway looks at the Hub and Livy; each
	// look also keeps the warm sessions' Livy heartbeat, so it must be
	// well below the heartbeatTimeoutInSecond they are created with.
	Interval time.Duration `yaml:"interval"`
	// Kinds are the session kinds started for each user (Livy's kind:
	// pyspark, spark, sparkr, sql).
	Kinds []string `yaml:"kinds"`
	// Body is the rest of the create body (driverMemory, executorCores,
	// conf, …); a user's create gets the warm session only when it asks for
	// nothing beyond it. No kind, name or proxyUser here.
	Body map[string]any `yaml:"body"`
	// Prime is the warm-up statement run, by kind, once a warm session is
	// idle: the first Spark job on a new driver pays one-off costs (class
	// loading, code generation, the JIT) that would otherwise land in the
	// user's first cell. An empty statement runs none for that kind. The
	// user sees it as their session's first statement.
	Prime map[string]string `yaml:"prime"`
	// MaxTotal caps the warm sessions not yet adopted, over all users.
	MaxTotal int `yaml:"max_total"`
	// ExpireAfter deletes a warm session nobody adopted for this long.
	ExpireAfter time.Duration `yaml:"expire_after"`
	// RetryAfter is how long a user whose warm create failed waits before
	// the next try.
	RetryAfter time.Duration `yaml:"retry_after"`
}

// Default is the section's defaults: off.
func Default() Config {
	return Config{Interval: 15 * time.Second, Kinds: []string{"pyspark"}, MaxTotal: 10,
		ExpireAfter: 30 * time.Minute, RetryAfter: 5 * time.Minute,
		Prime: map[string]string{
			"pyspark": "spark.range(1).count()",
			"spark":   "spark.range(1).count()",
			"sparkr":  "count(createDataFrame(data.frame(x = 1)))",
			"sql":     "SELECT 1",
		}}
}

// kinds Livy knows.
var knownKinds = []string{"spark", "pyspark", "sparkr", "sql"}

// Validate reports every problem in the section, joined; it has no side
// effects.
func (c Config) Validate() error {
	problems := confcheck.New("warm")
	add := problems.Add
	if c.Interval < time.Second {
		add("interval", "must be at least 1s")
	}
	if c.Enabled && len(c.Kinds) == 0 {
		add("kinds", "names no kind")
	}
	seen := map[string]bool{}
	for _, k := range c.Kinds {
		if !slices.Contains(knownKinds, k) {
			add("kinds", "%q is not one of %s", k, strings.Join(knownKinds, ", "))
		}
		if seen[k] {
			add("kinds", "%q is named twice", k)
		}
		seen[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(c.Prime)) {
		if !slices.Contains(knownKinds, k) {
			add("prime", "%q is not one of %s", k, strings.Join(knownKinds, ", "))
		}
	}
	for _, k := range []string{"kind", "name", "proxyUser", "doAs"} {
		if _, ok := c.Body[k]; ok {
			add("body."+k, "must not be set (kinds come from warm.kinds; the gateway sets the rest)")
		}
	}
	if _, err := json.Marshal(c.Body); err != nil {
		add("body", "cannot be sent as JSON: %v", err)
	}
	confcheck.Positive(problems, "max_total", c.MaxTotal)
	confcheck.Positive(problems, "expire_after", c.ExpireAfter)
	confcheck.Positive(problems, "retry_after", c.RetryAfter)
	return problems.Err()
}

// createBody is the body of a warm create of kind.
func (c Config) createBody(kind string) ([]byte, error) {
	b := make(map[string]any, len(c.Body)+1)
	for k, v := range c.Body {
		b[k] = v
	}
	b["kind"] = kind
	return json.Marshal(b)
}
