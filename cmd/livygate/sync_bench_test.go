//go:build integration && bench

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/hdfs/hdfstest"
	"github.com/livygate/livygate/jupyterhub/hubtest"
)

// TestBenchSync is `make bench`'s user-sync part: BENCH_USERS (default
// 10,000) users in a real JupyterHub, synced by `livygate sync` into a real
// NameNode, first run and no-change rerun, against two baselines measured in
// the same run with the real `hadoop fs` CLI: the old script (one -mkdir and
// one -chmod per user, timed on BENCH_SAMPLE users and scaled) and one
// batched invocation per command. It fails when a target of issue 4 is missed.
func TestBenchSync(t *testing.T) {
	n := benchEnv(t, "BENCH_USERS", 10000)
	sample := benchEnv(t, "BENCH_SAMPLE", 20)

	hub := hubtest.Start(t, 200, "alice")
	t0 := time.Now()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("bench%05d", i)
	}
	for i := 0; i < n; i += 500 {
		hub.CreateUsers(t, names[i:min(i+500, n)]...)
	}
	t.Logf("created %d Hub users in %s", n, time.Since(t0).Round(time.Millisecond))

	nn := hdfstest.Start(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "hub-token")
	if err := os.WriteFile(tokenFile, []byte(hub.ServiceToken), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "livygate.yaml")
	yaml := fmt.Sprintf("jupyterhub:\n  url: %s\n  token: {file: %s}\nhdfs:\n  namenodes: [%s]\n  user: %s\n  group: analysts\nsync:\n  lock_file: %s/lock\nstore:\n  path: %s/livygate.db\nlog:\n  level: warn\n",
		hub.URL, tokenFile, nn.Addr, nn.Superuser, dir, dir)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}

	timed := func() (time.Duration, float64, syncReport) {
		mem := hdfstest.StartMemPeak()
		start := time.Now()
		code, r, stderr := runSync(t, cfg)
		d := time.Since(start)
		rss, _, _ := mem.End()
		if code != 0 {
			t.Fatalf("sync exit %d: %s", code, stderr)
		}
		return d, rss, r
	}
	first, rss1, r := timed()
	if r.Summary["created"] != r.Users || r.Users < n {
		t.Fatalf("first run: %d users, %v", r.Users, r.Summary)
	}
	users := r.Users
	rerun, rss2, r := timed()
	if r.Summary["unchanged"] != users {
		t.Fatalf("rerun: %v", r.Summary)
	}
	last := names[n-1]
	if homes := nn.List(t, "/user"); len(homes) != users || homes[last].Owner != last || homes[last].Mode != "750" {
		t.Fatalf("%d homes; %s: %+v", len(homes), last, homes[last])
	}

	// (a) the old script: one JVM per command, two commands per user.
	nn.FS(t, "-mkdir", "/bench-script")
	t0 = time.Now()
	for i := 0; i < sample; i++ {
		p := fmt.Sprintf("/bench-script/%s", names[i])
		nn.FS(t, "-mkdir", p)
		nn.FS(t, "-chmod", "777", p)
	}
	perUser := time.Since(t0).Seconds() / float64(sample)
	script := perUser * float64(users)

	// (b) one batched invocation per command over every path.
	nn.FS(t, "-mkdir", "/bench-batch")
	paths := make([]string, users)
	for i := range paths {
		paths[i] = fmt.Sprintf("/bench-batch/u%05d", i)
	}
	t0 = time.Now()
	jvms := nn.FSChunks(t, []string{"-mkdir", "-p"}, paths)
	jvms += nn.FSChunks(t, []string{"-chown", "benchowner:analysts"}, paths)
	jvms += nn.FSChunks(t, []string{"-chmod", "750"}, paths)
	batched := time.Since(t0).Seconds()

	var b strings.Builder
	fmt.Fprintf(&b, "%d JupyterHub users (page limit 200) → real NameNode %s, %d CPUs\n\n", users, nn.Addr, runtime.NumCPU())
	fmt.Fprintf(&b, "| %-46s | %9s | %-12s | %s\n", "method", "seconds", "vs 1st run", "note")
	fmt.Fprintf(&b, "|%s|%s|%s|%s\n", strings.Repeat("-", 48), strings.Repeat("-", 11), strings.Repeat("-", 14), strings.Repeat("-", 6))
	row := func(what string, secs float64, ratio, note string) {
		fmt.Fprintf(&b, "| %-46s | %9.2f | %-12s | %s\n", what, secs, ratio, note)
	}
	row("livygate sync, first run", first.Seconds(), "1x", fmt.Sprintf("peak RSS %.1f MB", rss1))
	row("livygate sync, no-change rerun", rerun.Seconds(), fmt.Sprintf("%.3fx", rerun.Seconds()/first.Seconds()), fmt.Sprintf("peak RSS %.1f MB", rss2))
	row("(a) old script: -mkdir + -chmod per user", script, fmt.Sprintf("%.0fx slower", script/first.Seconds()),
		fmt.Sprintf("%d JVMs; timed on %d users (%.2f s each), scaled", 2*users, sample, perUser))
	row("(b) one batched -mkdir -p, -chown, -chmod", batched, fmt.Sprintf("%.1fx slower", batched/first.Seconds()),
		fmt.Sprintf("%d JVMs; one owner for all (per-user owners need a -chown each)", jvms))
	var missed []string
	target := func(ok bool, s string) {
		mark := "ok"
		if !ok {
			mark, missed = "MISSED", append(missed, s)
		}
		fmt.Fprintf(&b, "target %-44s %s\n", s+":", mark)
	}
	b.WriteString("\n")
	target(first < 60*time.Second, fmt.Sprintf("first run < 60 s (%.1f s)", first.Seconds()))
	target(script/first.Seconds() >= 100, fmt.Sprintf(">= 100x faster than the script (%.0fx)", script/first.Seconds()))
	target(rerun < 15*time.Second, fmt.Sprintf("rerun < 15 s (%.2f s)", rerun.Seconds()))
	target(max(rss1, rss2) < 100, fmt.Sprintf("memory < 100 MB (peak RSS %.1f MB)", max(rss1, rss2)))

	fmt.Print(b.String())
	if out := os.Getenv("BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Errorf("BENCH_OUT: %v", err)
		}
	}
	if len(missed) > 0 {
		t.Errorf("targets missed: %s", strings.Join(missed, "; "))
	}
}

func benchEnv(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}
