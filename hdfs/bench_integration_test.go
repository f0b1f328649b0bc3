//go:build integration

package hdfs

// The user-sync benchmark against a real NameNode (for `make bench`):
//
//	BENCH_USERS=10000 go test -tags integration -run TestIntegrationBenchSync -v -timeout 30m ./hdfs/
//
// It provisions BENCH_USERS synthetic users (default 10000 when set but
// empty), times the first run and a no-change rerun, records peak memory, and
// measures two baselines with the real `hadoop fs` CLI: (a) the old script,
// one `-mkdir` and one `-chmod` invocation per user, timed on a sample and
// scaled; (b) one batched `-mkdir -p`, one `-chown` and one `-chmod`
// invocation over all the paths. It prints a table and fails if a target of
// the issue is missed (first run < 60 s and >= 100x faster than (a), rerun
// < 15 s, peak RSS < 100 MB) unless BENCH_NO_TARGETS=1.
//
// Knobs: BENCH_SAMPLE (users timed for baseline (a), default 20),
// BENCH_CONCURRENCY (Options.Concurrency, default 8), BENCH_POOL (NameNode
// connections of Connect, default poolSize), BENCH_BASELINES=0 to skip the
// CLI baselines, BENCH_OUT=FILE to also write the table there.

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livygate/livygate/hdfs/hdfstest"
)

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}

// memPeak follows the process's memory during a phase: peak RSS from the
// kernel (VmHWM, reset at the start) and the Go runtime's peak heap in use.
type memPeak struct {
	stop      chan struct{}
	done      sync.WaitGroup
	heapInuse uint64
	sys       uint64
}

func startMemPeak() *memPeak {
	// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	m := &memPeak{stop: make(chan struct{})}
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

// end returns peak RSS (VmHWM), peak heap in use and Go runtime Sys, in MB.
func (m *memPeak) end() (rss, heap, sys float64) {
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

// fsChunks runs `hadoop fs ARGS... PATHS` over all paths in as few
// invocations as the argument list allows; it returns the invocations made.
func fsChunks(t *testing.T, c *hdfstest.Cluster, args []string, paths []string) int {
	t.Helper()
	const maxArgBytes = 1 << 20 // well under ARG_MAX (2 MB here, with the environment)
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

func TestIntegrationBenchSync(t *testing.T) {
	if _, set := os.LookupEnv("BENCH_USERS"); !set {
		t.Skip("set BENCH_USERS (e.g. 10000) to run the sync benchmark")
	}
	n := envInt(t, "BENCH_USERS", 10000)
	if n == 0 {
		n = 10000
	}
	sample := envInt(t, "BENCH_SAMPLE", 20)
	conc := envInt(t, "BENCH_CONCURRENCY", DefaultConcurrency)
	if p := envInt(t, "BENCH_POOL", 0); p > 0 {
		old := poolSize
		poolSize = p
		t.Cleanup(func() { poolSize = old })
	}
	baselines := os.Getenv("BENCH_BASELINES") != "0"
	checkTargets := os.Getenv("BENCH_NO_TARGETS") != "1"

	c := hdfstest.Start(t)
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("bench%05d", i)
	}
	o := Options{Group: "analysts", Concurrency: conc}
	ctx := context.Background()

	// First run (connection included: it is part of what a cron run costs).
	runtime.GC()
	mem := startMemPeak()
	t0 := time.Now()
	fs, closeFS, err := Connect([]string{c.Addr}, c.Superuser)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFS()
	cfs := &countingFS{FS: fs}
	rep, err := Provision(ctx, cfs, users, o)
	first := time.Since(t0)
	rss1, heap1, sys1 := mem.end()
	if err != nil || rep.Count(ActionCreated) != n {
		t.Fatalf("first run: %v; %s", err, rep.Summary())
	}
	calls1 := cfs.calls.Load()

	// Every home, as the real CLI sees it (not timed).
	wantHomes(t, c, "/user", users, "analysts", "750")

	// No-change rerun, on a new connection like the next cron run.
	runtime.GC()
	mem = startMemPeak()
	t0 = time.Now()
	fs2, closeFS2, err := Connect([]string{c.Addr}, c.Superuser)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFS2()
	cfs2 := &countingFS{FS: fs2}
	rep, err = Provision(ctx, cfs2, users, o)
	rerun := time.Since(t0)
	rss2, heap2, sys2 := mem.end()
	if err != nil || rep.Count(ActionUnchanged) != n {
		t.Fatalf("rerun: %v; %s", err, rep.Summary())
	}
	calls2 := cfs2.calls.Load()

	type row struct {
		what        string
		secs        float64
		invocations string
		note        string
	}
	rows := []row{
		{"livygate sync, first run", first.Seconds(), fmt.Sprintf("%d FS calls", calls1),
			fmt.Sprintf("concurrency %d, pool %d", conc, poolSize)},
		{"livygate sync, no-change rerun", rerun.Seconds(), fmt.Sprintf("%d FS calls", calls2), ""},
	}

	var scriptScaled float64
	if baselines && sample > 0 {
		// (a) The old script: one JVM per command, two commands per user.
		c.FS(t, "-mkdir", "/bench-script")
		t0 = time.Now()
		for i := 0; i < sample; i++ {
			p := fmt.Sprintf("/bench-script/s%05d", i)
			c.FS(t, "-mkdir", p)
			c.FS(t, "-chmod", "777", p)
		}
		perUser := time.Since(t0).Seconds() / float64(sample)
		scriptScaled = perUser * float64(n)
		rows = append(rows, row{"(a) old script: -mkdir + -chmod per user", scriptScaled,
			fmt.Sprintf("%d JVMs", 2*n), fmt.Sprintf("scaled from %d users: %.2f s/user; sets no owner", sample, perUser)})

		// (b) Batched CLI: one invocation per command over all the paths.
		c.FS(t, "-mkdir", "/bench-batch")
		paths := make([]string, n)
		for i := range paths {
			paths[i] = "/bench-batch/" + users[i]
		}
		t0 = time.Now()
		inv := fsChunks(t, c, []string{"-mkdir", "-p"}, paths)
		inv += fsChunks(t, c, []string{"-chown", "benchowner:analysts"}, paths)
		inv += fsChunks(t, c, []string{"-chmod", "750"}, paths)
		batched := time.Since(t0).Seconds()
		rows = append(rows, row{"(b) batched CLI: -mkdir -p, -chown, -chmod", batched,
			fmt.Sprintf("%d JVMs", inv), "one owner for all: per-user owners need one -chown per user"})
		if got := c.List(t, "/bench-batch"); len(got) != n {
			t.Errorf("batched baseline made %d dirs, want %d", len(got), n)
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\nuser sync benchmark: %d users, real NameNode %s (MiniDFSCluster), %d CPUs\n\n", n, c.Addr, runtime.NumCPU())
	fmt.Fprintf(&b, "| %-44s | %9s | %10s | %-16s | %s\n", "method", "seconds", "/ sync 1st", "calls", "note")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s\n", strings.Repeat("-", 46), strings.Repeat("-", 11), strings.Repeat("-", 12), strings.Repeat("-", 18), strings.Repeat("-", 6))
	for _, r := range rows {
		ratio := "-"
		if !strings.HasPrefix(r.what, "livygate") {
			ratio = fmt.Sprintf("%.1fx", r.secs/first.Seconds())
		}
		fmt.Fprintf(&b, "| %-44s | %9.2f | %10s | %-16s | %s\n", r.what, r.secs, ratio, r.invocations, r.note)
	}
	fmt.Fprintf(&b, "\nmemory (this Go process): first run peak RSS %.1f MB (Go heap in use %.1f MB, runtime Sys %.1f MB); "+
		"rerun peak RSS %.1f MB (heap %.1f MB, Sys %.1f MB)\n", rss1, heap1, sys1, rss2, heap2, sys2)
	var missed []string
	target := func(ok bool, s string) {
		mark := "ok"
		if !ok {
			mark = "MISSED"
			missed = append(missed, s)
		}
		fmt.Fprintf(&b, "target %-40s %s\n", s+":", mark)
	}
	target(first < 60*time.Second, fmt.Sprintf("first run < 60 s (%.1f s)", first.Seconds()))
	if scriptScaled > 0 {
		target(scriptScaled/first.Seconds() >= 100, fmt.Sprintf(">= 100x the old script (%.0fx)", scriptScaled/first.Seconds()))
	}
	target(rerun < 15*time.Second, fmt.Sprintf("rerun < 15 s (%.2f s)", rerun.Seconds()))
	target(max(rss1, rss2) < 100, fmt.Sprintf("peak RSS < 100 MB (%.1f MB)", max(rss1, rss2)))

	fmt.Print(b.String())
	if out := os.Getenv("BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Errorf("BENCH_OUT: %v", err)
		}
	}
	if checkTargets && len(missed) > 0 {
		t.Errorf("benchmark targets missed: %s", strings.Join(missed, "; "))
	}
}
