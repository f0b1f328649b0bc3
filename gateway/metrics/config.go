package metrics

import (
	"fmt"
	"net"
)

// Config is the metrics: section.
type Config struct {
	// Listen, when set (host:port), serves /metrics there without
	// authentication, for a Prometheus on a private network; empty serves
	// it on the main listener, to admins only.
	Listen string `yaml:"listen"`
}

// Default is the section where the file is silent: /metrics on the main
// listener, for admins.
func Default() Config { return Config{} }

// Validate reports a listen address that is not host:port.
func (c Config) Validate() error {
	if c.Listen == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("metrics.listen: %v", err)
	}
	return nil
}

// Version is the build's version for livygate_build_info; the binary sets
// it before building the gateway.
var Version = "dev"
