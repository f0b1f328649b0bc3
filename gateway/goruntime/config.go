// Package goruntime is the runtime: section: how the Go runtime trades
// memory for collection work. It is applied once, when `serve` starts.
package goruntime

import (
	"errors"
	"runtime/debug"
)

// Config is the runtime: section.
type Config struct {
	// GCPercent is the heap growth, in percent of the live heap, that
	// starts the next collection (Go's GOGC). Lower keeps the resident set
	// smaller for a little more CPU.
	GCPercent int `yaml:"gc_percent"`
	// MemoryLimitMB, when positive, is a soft limit on the memory the Go
	// runtime holds, in MiB (Go's GOMEMLIMIT): the collector works harder
	// as it is approached. 0 sets none.
	MemoryLimitMB int64 `yaml:"memory_limit_mb"`
}

// Default is the section where the file is silent. gc_percent 35 rather
// than Go's 100: under `make bench`'s mix at 1,000 connections, 50 kept
// livygate's peak RSS ~15 MB below 100's and 35 another ~5 MB below 50's,
// at about the same req/s; collection stays under a tenth of the CPU (see
// README, Performance).
func Default() Config { return Config{GCPercent: 35} }

// Validate reports values the runtime cannot take.
func (c Config) Validate() error {
	var errs []error
	if c.GCPercent <= 0 {
		errs = append(errs, errors.New("runtime.gc_percent: must be positive"))
	}
	if c.MemoryLimitMB < 0 {
		errs = append(errs, errors.New("runtime.memory_limit_mb: must not be negative"))
	}
	return errors.Join(errs...)
}

// Apply sets the runtime's GC percent and memory limit from c, except
// where the environment already set them (GOGC, GOMEMLIMIT), which wins as
// it does for any Go program. getenv is os.Getenv outside tests.
func (c Config) Apply(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(c.GCPercent)
	}
	if getenv("GOMEMLIMIT") == "" && c.MemoryLimitMB > 0 {
		debug.SetMemoryLimit(c.MemoryLimitMB << 20)
	}
}
