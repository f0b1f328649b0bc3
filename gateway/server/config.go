package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// Config is the listen: section: the gateway's own HTTP listener.
type Config struct {
	Address           string        `yaml:"address"`
	TLSCertFile       string        `yaml:"tls_cert_file"`
	TLSKeyFile        string        `yaml:"tls_key_file"`
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxConnections caps open client connections; MaxConnectionsPerClient
	// caps them per client address, so one client cannot take them all.
	// A connection stays counted until its request ends, after its client
	// has gone: at 1024, a client that reconnected its 1,000 connections
	// at once was refused some while the old ones drained (`make bench`,
	// loadmix), hence 2048, twice what one address is expected to hold.
	MaxConnections          int           `yaml:"max_connections"`
	MaxConnectionsPerClient int           `yaml:"max_connections_per_client"`
	ShutdownTimeout         time.Duration `yaml:"shutdown_timeout"`
	// MaxActiveRequests caps the requests read and handled at once; the
	// next wait, each on its connection, before they are parsed. 256 is
	// twice livy.max_connections' default, so requests that do not go to
	// Livy still find slots while those that do wait for a connection.
	MaxActiveRequests int `yaml:"max_active_requests"`
	// MaxBodyBytes caps request bodies; larger ones get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Default is the section where the file is silent.
func Default() Config {
	return Config{
		Address:                 "127.0.0.1:8999",
		ReadHeaderTimeout:       10 * time.Second,
		ReadTimeout:             60 * time.Second,
		IdleTimeout:             120 * time.Second,
		MaxConnections:          4096,
		MaxConnectionsPerClient: 2048,
		ShutdownTimeout:         30 * time.Second,
		MaxActiveRequests:       256,
		MaxBodyBytes:            1 << 20,
	}
}

// TLS reports whether the listener serves HTTPS.
func (c Config) TLS() bool { return c.TLSCertFile != "" }

// Validate reports every problem of the section, joined, or nil. It reads
// file metadata only.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		bad("listen.address", "%v", err)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		bad("listen", "tls_cert_file and tls_key_file go together")
	}
	for key, path := range map[string]string{"listen.tls_cert_file": c.TLSCertFile, "listen.tls_key_file": c.TLSKeyFile} {
		if path == "" {
			continue
		}
		if st, err := os.Stat(path); err != nil {
			bad(key, "%v", err)
		} else if st.IsDir() {
			bad(key, "%s is a directory, not a file", path)
		}
	}
	if c.MaxBodyBytes <= 0 {
		bad("listen.max_body_bytes", "must be positive")
	}
	if c.ReadHeaderTimeout <= 0 || c.ReadTimeout <= 0 || c.IdleTimeout <= 0 || c.ShutdownTimeout <= 0 {
		bad("listen", "read_header_timeout, read_timeout, idle_timeout and shutdown_timeout must be positive")
	}
	if c.MaxConnections <= 0 || c.MaxConnectionsPerClient <= 0 || c.MaxActiveRequests <= 0 {
		bad("listen", "max_connections, max_connections_per_client and max_active_requests must be positive")
	}
	return errors.Join(errs...)
}
