// Package confcheck collects what a configuration section's Validate finds
// wrong, each problem named by its key under the section ("warm.max_total:
// must be positive"), for config.Validate to list one per line.
package confcheck

import (
	"errors"
	"fmt"
)

// Problems are one section's problems.
type Problems struct {
	section string
	errs    []error
}

// New collects the problems of section (its YAML key).
func New(section string) *Problems { return &Problems{section: section} }

// Add records a problem with key (relative to the section).
func (p *Problems) Add(key, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s.%s: %s", p.section, key, fmt.Sprintf(format, args...)))
}

// Keep records err, a problem that names its key already; nil is none.
func (p *Problems) Keep(err error) {
	if err != nil {
		p.errs = append(p.errs, err)
	}
}

// Positive records that key must be positive unless v is.
func Positive[T ~int | ~int64](p *Problems, key string, v T) {
	if v <= 0 {
		p.Add(key, "must be positive")
	}
}

// Err is every problem recorded, joined; nil without any.
func (p *Problems) Err() error { return errors.Join(p.errs...) }
