package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livygate/livygate/gateway/secrets"
)

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LG_TEST_PG_DSN", "postgres://livygate@127.0.0.1/db")
	pg := func(c Config) Config { c.Driver = DriverPostgres; return c }
	tests := []struct {
		name string
		edit func(*Config)
		want []string // each must appear; none means valid
	}{
		{"default", func(*Config) {}, nil},
		{"store off", func(c *Config) { c.Path = "" }, nil},
		{"path is a directory", func(c *Config) { c.Path = dir }, []string{"store.path: " + dir + " is a directory, not a file"}},
		{"queue", func(c *Config) { c.QueueSize = 0 }, []string{"store.queue_size: must be positive"}},
		{"retention", func(c *Config) { c.Retention.MaxRuns = -1 }, []string{"store.retention: max_age, max_events"}},
		{"driver", func(c *Config) { c.Driver = "mysql" }, []string{`store.driver: must be sqlite or postgres, not "mysql"`}},
		{"postgres without url", func(c *Config) { *c = pg(*c) }, []string{"store.url: is required with driver postgres"}},
		{"postgres url both", func(c *Config) { *c = pg(*c); c.URL = secrets.Ref{File: "f", Env: "E"} }, []string{"store.url: give file or env, not both"}},
		{"postgres url env", func(c *Config) { *c = pg(*c); c.URL = secrets.Ref{Env: "LG_TEST_PG_DSN"} }, nil},
		{"every problem at once", func(c *Config) { *c = pg(*c); c.QueueSize = -1 }, []string{"store.url:", "store.queue_size:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("valid config refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestOpenPicksTheDriver(t *testing.T) {
	ctx := context.Background()
	c := Default()
	c.Path = filepath.Join(t.TempDir(), "x.db")
	s, err := Open(ctx, c, Deps{Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	if sq, ok := s.(*SQL); !ok || sq.dialect.name != DriverSQLite {
		t.Errorf("sqlite config opened %T", s)
	}
	s.Close()

	c.Driver = DriverPostgres
	if _, err := Open(ctx, c, Deps{Log: quietLog()}); err == nil || !strings.HasPrefix(err.Error(), "store.url: ") {
		t.Errorf("postgres without a DSN resolver: %v", err)
	}
	secretErr := errors.New("environment variable LIVYGATE_PG is not set")
	_, err = Open(ctx, c, Deps{Log: quietLog(), DSN: func() (string, error) { return "", secretErr }})
	if !errors.Is(err, secretErr) || !strings.HasPrefix(err.Error(), "store.url: ") {
		t.Errorf("unresolved DSN: %v", err)
	}
	// A DSN that cannot connect fails without showing its password.
	_, err = Open(ctx, c, Deps{Log: quietLog(), DSN: func() (string, error) {
		return "postgres://livygate:s3cr3t-pw@127.0.0.1:1/db?connect_timeout=2", nil
	}})
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Errorf("unreachable server: %v", err)
	}

	c = Default()
	c.Path = ""
	if c.Enabled() {
		t.Error("an empty path enables the store")
	}
	if _, err := Open(ctx, c, Deps{}); err == nil {
		t.Error("a disabled store opened")
	}
}
