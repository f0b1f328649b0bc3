// Package delivery names how a user's token reaches their Spark job. It is
// its own leaf package so the configuration can hold a Mode without
// importing the code that delivers (sparkconf, which imports config).
package delivery

import "fmt"

// Mode is how the token of the user a session runs as is delivered. YAML
// and environment overrides set it as a plain string; Validate checks it.
type Mode string

const (
	// None delivers no token. An empty Mode means None.
	None Mode = "none"
	// Conf puts the token itself under the configured conf keys.
	Conf Mode = "conf"
	// HDFSFile writes the token to <home>/.livygate/token and puts that
	// path under the conf keys.
	HDFSFile Mode = "hdfs-file"
)

// Validate says whether m is a mode livygate knows.
func (m Mode) Validate() error {
	switch m {
	case "", None, Conf, HDFSFile:
		return nil
	}
	return fmt.Errorf("must be %s, %s or %s, not %q", None, Conf, HDFSFile, string(m))
}

// Delivers reports whether m puts a token into the conf at all.
func (m Mode) Delivers() bool { return m == Conf || m == HDFSFile }
