package hdfstest

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// MemPeak follows this process's memory during a phase: the kernel's peak
// RSS (VmHWM, reset at the start) and the Go runtime's peak heap and Sys.
type MemPeak struct {
	stop      chan struct{}
	done      sync.WaitGroup
	heapInuse uint64
	sys       uint64
}

// StartMemPeak starts following; call End to read the peaks.
func StartMemPeak() *MemPeak {
	runtime.GC()
	// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	m := &MemPeak{stop: make(chan struct{})}
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			m.heapInuse = max(m.heapInuse, ms.HeapInuse)
			m.sys = max(m.sys, ms.Sys)
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

// End returns peak RSS, peak Go heap in use and Go runtime Sys, in MB.
func (m *MemPeak) End() (rss, heap, sys float64) {
	close(m.stop)
	m.done.Wait()
	return float64(vmHWM()) / 1024, float64(m.heapInuse) / (1 << 20), float64(m.sys) / (1 << 20)
}

// vmHWM is the peak resident set size in kB.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return -1
}

// FSChunks runs `hadoop fs ARGS... PATHS` over all paths in as few
// invocations as the argument list allows, and returns how many it made.
func (c *Cluster) FSChunks(t testing.TB, args []string, paths []string) int {
	t.Helper()
	const maxArgBytes = 1 << 20 // well under ARG_MAX, with the environment
	n := 0
	for len(paths) > 0 {
		size, i := 0, 0
		for i < len(paths) && size+len(paths[i])+1 <= maxArgBytes {
			size += len(paths[i]) + 1
			i++
		}
		c.FS(t, append(append([]string{}, args...), paths[:i]...)...)
		paths = paths[i:]
		n++
	}
	return n
}
