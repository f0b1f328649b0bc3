package goruntime

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestApplySetsTheRuntimeUnlessTheEnvironmentDid(t *testing.T) {
	oldGC := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(oldGC); debug.SetMemoryLimit(oldLimit) })

	Config{GCPercent: 30, MemoryLimitMB: 64}.Apply(func(string) string { return "" })
	if got := debug.SetGCPercent(-1); got != 30 {
		t.Errorf("gc percent %d; want 30", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Errorf("memory limit %d; want %d", got, 64<<20)
	}

	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	env := map[string]string{"GOGC": "80", "GOMEMLIMIT": "1GiB"}
	Config{GCPercent: 30, MemoryLimitMB: 64}.Apply(func(k string) string { return env[k] })
	if got := debug.SetGCPercent(-1); got != 100 {
		t.Errorf("with GOGC set: gc percent %d; want it left at 100", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set: memory limit %d; want it left alone", got)
	}
}

func TestValidate(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
	if (Config{GCPercent: 0}).Validate() == nil || (Config{GCPercent: 50, MemoryLimitMB: -1}).Validate() == nil {
		t.Fatal("a zero gc_percent or a negative memory limit was accepted")
	}
}
