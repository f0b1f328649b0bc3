package logging

import (
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"
)

// Config is the log: section.
type Config struct {
	Level string `yaml:"level"`
	// Format is json (default) or text.
	Format string `yaml:"format"`
}

// Default is the section where the file is silent.
func Default() Config { return Config{Level: "info", Format: "json"} }

// Validate reports every problem of the section, joined, or nil.
func (c Config) Validate() error {
	var errs []error
	if _, err := logrus.ParseLevel(c.Level); err != nil {
		errs = append(errs, fmt.Errorf("log.level: %v", err))
	}
	if c.Format != "json" && c.Format != "text" {
		errs = append(errs, fmt.Errorf("log.format: must be json or text, not %q", c.Format))
	}
	return errors.Join(errs...)
}
