//go:build integration

package hdfs

// Integration tests against a real NameNode (the dev stack's MiniDFSCluster,
// started on free ports by hdfstest). Every home is checked with the real
// `hadoop fs` CLI, not through colinmarc/hdfs.
//
//	go test -tags integration -run Integration -timeout 30m ./hdfs/

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/livygate/livygate/hdfs/hdfstest"
)

// connect connects as the superuser and closes at the end of the test.
func connect(t *testing.T, c *hdfstest.Cluster) FS {
	t.Helper()
	fs, closeFS, err := Connect([]string{c.Addr}, c.Superuser)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		if err := closeFS(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return fs
}

// wantHomes checks with the real CLI that every user in users has a
// directory under base owned by user:group with mode (octal string).
func wantHomes(t *testing.T, c *hdfstest.Cluster, base string, users []string, group, mode string) map[string]hdfstest.Entry {
	t.Helper()
	got := c.List(t, base)
	bad := 0
	for _, u := range users {
		e, ok := got[u]
		switch {
		case !ok:
			t.Errorf("hadoop fs: %s/%s does not exist", base, u)
		case !e.IsDir() || e.Owner != u || e.Group != group || e.Mode != mode:
			t.Errorf("hadoop fs: %s/%s is %s %s:%s %s, want directory %s:%s %s", base, u, e.Type, e.Owner, e.Group, e.Mode, u, group, mode)
		default:
			continue
		}
		if bad++; bad > 10 {
			t.Fatal("too many wrong homes")
		}
	}
	return got
}

func byUser(rep Report) map[string]Result {
	m := make(map[string]Result, len(rep.Results))
	for _, r := range rep.Results {
		m[r.User] = r
	}
	return m
}

func synthetic(prefix string, n int) []string {
	u := make([]string, n)
	for i := range u {
		u[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return u
}

// countingFS counts the calls that reach the NameNode.
type countingFS struct {
	FS
	calls atomic.Int64
}

func (c *countingFS) ReadDir(d string) ([]os.FileInfo, error) { c.calls.Add(1); return c.FS.ReadDir(d) }
func (c *countingFS) Stat(n string) (os.FileInfo, error)      { c.calls.Add(1); return c.FS.Stat(n) }
func (c *countingFS) Mkdir(n string, p os.FileMode) error     { c.calls.Add(1); return c.FS.Mkdir(n, p) }
func (c *countingFS) Chown(n, u, g string) error              { c.calls.Add(1); return c.FS.Chown(n, u, g) }
func (c *countingFS) Chmod(n string, p os.FileMode) error     { c.calls.Add(1); return c.FS.Chmod(n, p) }

func TestIntegrationProvision(t *testing.T) {
	c := hdfstest.Start(t)
	fs := connect(t, c)
	ctx := context.Background()

	// What an old installation left behind, made with the real CLI: a home
	// from the old script (mkdir + chmod 777, owned by hdfs), a user gone from
	// the Hub, and a file where a home should be.
	c.FS(t, "-mkdir", "/user/dave", "/user/olduser")
	c.FS(t, "-chmod", "777", "/user/dave")
	c.FS(t, "-touchz", "/user/carol")

	good := append([]string{"alice", "bob", "erin"}, synthetic("u", 120)...)
	hostile := []string{"", ".", "..", "a/b", "../x", "../../tmp/evil", "/etc", "x\n", "\x00", "tab\there",
		"ａlice", "ü", strings.Repeat("a", 300), "Alice", "a:b", "-rf", "bob ", "bad\xff"}
	users := slices.Concat(good, []string{"carol", "dave"}, hostile, []string{"alice", "bob"}) // with duplicates
	o := Options{Group: "analysts"}

	t.Run("first run", func(t *testing.T) {
		rep, err := Provision(ctx, fs, users, o)
		if err != nil {
			t.Fatalf("Provision: %v", err)
		}
		res := byUser(rep)
		if len(rep.Results) != len(good)+2+len(hostile) {
			t.Errorf("%d results, want one per distinct user (%d)", len(rep.Results), len(good)+2+len(hostile))
		}
		for _, u := range good {
			if res[u].Action != ActionCreated {
				t.Errorf("%s: %+v", u, res[u])
			}
		}
		for _, h := range hostile {
			if r := res[h]; r.Action != ActionRefused || r.Detail == "" {
				t.Errorf("%q: %+v, want refused", h, r)
			}
		}
		if r := res["carol"]; r.Action != ActionFailed || !strings.Contains(r.Detail, "is a file") {
			t.Errorf("carol: %+v", r)
		}
		if r := res["dave"]; r.Action != ActionDrift || r.Detail != "owner hdfs (want dave), group supergroup (want analysts), mode 0777 (want 0750)" {
			t.Errorf("dave: %+v", r)
		}
		if !slices.Equal(rep.Orphans, []string{"/user/olduser"}) {
			t.Errorf("orphans %q", rep.Orphans)
		}
		t.Log(rep.Summary())

		// The real CLI: every home right; the rest untouched; nothing else
		// anywhere (no hostile name created a path).
		got := wantHomes(t, c, "/user", good, "analysts", "750")
		if e := got["carol"]; e.IsDir() || e.Owner != "hdfs" {
			t.Errorf("carol touched: %+v", e)
		}
		if e := got["dave"]; e.Owner != "hdfs" || e.Group != "supergroup" || e.Mode != "777" {
			t.Errorf("dave changed without repair: %+v", e)
		}
		want := slices.Concat(good, []string{"carol", "dave", "olduser"})
		sort.Strings(want)
		if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, want) {
			t.Errorf("entries under /user: %q, want %q", names, want)
		}
		if names := slices.Sorted(maps.Keys(c.List(t, "/"))); !slices.Equal(names, []string{"tmp", "user"}) {
			t.Errorf("entries under /: %q", names)
		}
		if n := len(c.List(t, "/tmp")); n != 0 {
			t.Errorf("%d entries under /tmp", n)
		}
	})

	t.Run("second run changes nothing", func(t *testing.T) {
		before := c.List(t, "/user")
		cfs := &countingFS{FS: fs}
		rep, err := Provision(ctx, cfs, users, o)
		if err != nil {
			t.Fatalf("Provision: %v", err)
		}
		res := byUser(rep)
		for _, u := range good {
			if res[u].Action != ActionUnchanged {
				t.Errorf("%s: %+v", u, res[u])
			}
		}
		if rep.Count(ActionUnchanged) != len(good) || rep.Count(ActionDrift) != 1 || rep.Count(ActionFailed) != 1 ||
			rep.Count(ActionRefused) != len(hostile) {
			t.Errorf("%s", rep.Summary())
		}
		if n := cfs.calls.Load(); n != 2 {
			t.Errorf("%d FS calls, want 2 (stat + list of the base dir)", n)
		}
		if after := c.List(t, "/user"); !maps.Equal(before, after) {
			t.Errorf("the second run changed HDFS")
		}
	})

	t.Run("drift reported, repaired only with repair", func(t *testing.T) {
		c.FS(t, "-chmod", "777", "/user/alice")
		c.FS(t, "-chown", "mallory:evil", "/user/bob")
		c.FS(t, "-chgrp", "supergroup", "/user/erin")
		c.FS(t, "-chmod", "1750", "/user/u0007")
		wantDrift := map[string]string{
			"alice": "mode 0777 (want 0750)",
			"bob":   "owner mallory (want bob), group evil (want analysts)",
			"erin":  "group supergroup (want analysts)",
			"u0007": "mode 1750 (want 0750)",
			"dave":  "owner hdfs (want dave), group supergroup (want analysts), mode 0777 (want 0750)",
		}
		before := c.List(t, "/user")

		for _, run := range []struct {
			name string
			o    Options
			want Action
		}{
			{"no repair", o, ActionDrift},
			{"dry run with repair", Options{Group: "analysts", Repair: true, DryRun: true}, ActionWouldRepair},
		} {
			rep, err := Provision(ctx, fs, users, run.o)
			if err != nil {
				t.Fatalf("%s: %v", run.name, err)
			}
			res := byUser(rep)
			for u, d := range wantDrift {
				if r := res[u]; r.Action != run.want || r.Detail != d {
					t.Errorf("%s: %s: %+v, want %s %q", run.name, u, r, run.want, d)
				}
			}
			if n := rep.Count(run.want); n != len(wantDrift) {
				t.Errorf("%s: %s", run.name, rep.Summary())
			}
			if after := c.List(t, "/user"); !maps.Equal(before, after) {
				t.Errorf("%s changed HDFS", run.name)
			}
		}

		rep, err := Provision(ctx, fs, users, Options{Group: "analysts", Repair: true})
		if err != nil {
			t.Fatal(err)
		}
		res := byUser(rep)
		for u, d := range wantDrift {
			if r := res[u]; r.Action != ActionRepaired || r.Detail != "was: "+d {
				t.Errorf("%s: %+v", u, r)
			}
		}
		if r := res["carol"]; r.Action != ActionFailed {
			t.Errorf("carol: %+v", r)
		}
		wantHomes(t, c, "/user", append(good, "dave"), "analysts", "750")
		if e := c.Stat(t, "/user/carol")["carol"]; e.IsDir() || e.Owner != "hdfs" || e.Mode != "644" {
			t.Errorf("the file at /user/carol was touched: %+v", e)
		}

		rep, err = Provision(ctx, fs, users, Options{Group: "analysts", Repair: true})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Count(ActionUnchanged) != len(good)+1 {
			t.Errorf("after repair: %s", rep.Summary())
		}
	})

	t.Run("dry run creates nothing", func(t *testing.T) {
		rep, err := Provision(ctx, fs, []string{"newbie", "alice"}, Options{Group: "analysts", DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if r := byUser(rep)["newbie"]; r.Action != ActionWouldCreate {
			t.Errorf("newbie: %+v", r)
		}
		if _, ok := c.List(t, "/user")["newbie"]; ok {
			t.Error("dry run created /user/newbie")
		}
	})

	t.Run("group inherited when not configured", func(t *testing.T) {
		c.FS(t, "-mkdir", "/homes")
		c.FS(t, "-chgrp", "hadoopers", "/homes")
		rep, err := Provision(ctx, fs, []string{"alice", "bob"}, Options{BaseDir: "/homes", Mode: 0o700})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Count(ActionCreated) != 2 {
			t.Errorf("%s %+v", rep.Summary(), rep.Results)
		}
		wantHomes(t, c, "/homes", []string{"alice", "bob"}, "hadoopers", "700")
	})

	t.Run("missing base dir", func(t *testing.T) {
		_, err := Provision(ctx, fs, []string{"alice"}, Options{BaseDir: "/nope"})
		if err == nil || !strings.Contains(err.Error(), "base dir /nope") || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("not a superuser", func(t *testing.T) {
		// Connected as a plain user, creation is refused by the NameNode and
		// reported per user; nothing is half-done.
		bobFS, closeBob, err := Connect([]string{c.Addr}, "bob")
		if err != nil {
			t.Fatal(err)
		}
		defer closeBob()
		rep, err := Provision(ctx, bobFS, []string{"zed"}, o)
		if err != nil {
			t.Fatal(err)
		}
		if r := byUser(rep)["zed"]; r.Action != ActionFailed || !strings.Contains(r.Detail, "mkdir failed (nothing done)") ||
			!strings.Contains(r.Detail, "permission denied") {
			t.Errorf("zed: %+v", r)
		}
		if _, ok := c.List(t, "/user")["zed"]; ok {
			t.Error("/user/zed exists")
		}
	})
}

// stopOnceFS stops the cluster (synchronously, inside the call) when the
// n-th Chown starts, so the NameNode goes away in the middle of a run.
type stopOnceFS struct {
	FS
	c     *hdfstest.Cluster
	t     *testing.T
	n     int64
	count atomic.Int64
	once  sync.Once
}

func (s *stopOnceFS) Chown(name, user, group string) error {
	if s.count.Add(1) == s.n {
		s.once.Do(func() { s.c.Stop(s.t) })
	}
	return s.FS.Chown(name, user, group)
}

func TestIntegrationNameNodeDownAndRestart(t *testing.T) {
	c := hdfstest.Start(t)
	fs := connect(t, c)
	ctx := context.Background()
	o := Options{Group: "analysts"}

	first := synthetic("a", 20)
	rep, err := Provision(ctx, fs, first, o)
	if err != nil || rep.Count(ActionCreated) != 20 {
		t.Fatalf("Provision: %v %s", err, rep.Summary())
	}

	t.Run("down at the start", func(t *testing.T) {
		c.Stop(t)
		_, _, err := Connect([]string{c.Addr}, "hdfs")
		if !errors.Is(err, ErrUnavailable) || !strings.HasPrefix(err.Error(), "NameNode "+c.Addr+" unreachable: ") {
			t.Errorf("Connect: %v", err)
		}
		t.Logf("Connect: %v", err)
		rep, err := Provision(ctx, fs, first, o)
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "NameNode "+c.Addr+" unreachable") {
			t.Errorf("Provision: %v", err)
		}
		t.Logf("Provision: %v", err)
		if len(rep.Results) != 0 {
			t.Errorf("results after a failed start: %+v", rep.Results)
		}
	})

	t.Run("restart between two runs", func(t *testing.T) {
		c.Restart(t)
		// The same FS: its broken connections are replaced.
		users := append(first, synthetic("b", 20)...)
		rep, err := Provision(ctx, fs, users, o)
		if err != nil {
			t.Fatalf("Provision after restart: %v", err)
		}
		if rep.Count(ActionUnchanged) != 20 || rep.Count(ActionCreated) != 20 {
			t.Errorf("%s", rep.Summary())
		}
		// And a new connection too.
		fs2 := connect(t, c)
		rep, err = Provision(ctx, fs2, users, o)
		if err != nil || rep.Count(ActionUnchanged) != 40 {
			t.Errorf("new connection: %v %s", err, rep.Summary())
		}
		wantHomes(t, c, "/user", users, "analysts", "750")
	})

	t.Run("down in the middle of a run, then a rerun", func(t *testing.T) {
		users := synthetic("m", 300)
		sfs := &stopOnceFS{FS: fs, c: c, t: t, n: 40}
		rep, err := Provision(ctx, sfs, users, Options{Group: "analysts", Concurrency: 4})
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Provision with the NameNode stopped mid-run: err = %v, want ErrUnavailable", err)
		}
		t.Logf("interrupted run: %v; %s", err, rep.Summary())
		if len(rep.Results) != len(users) {
			t.Fatalf("%d results, want %d (every user reported)", len(rep.Results), len(users))
		}
		c.Restart(t)

		// Nothing half-done unreported: every user reported created has a
		// correct home, every user not attempted has none, and every home that
		// is not right belongs to a user reported failed.
		got := c.List(t, "/user")
		res := byUser(rep)
		var halfDone []string
		for _, u := range users {
			r, e := res[u], got[u]
			_, exists := got[u]
			right := exists && e.IsDir() && e.Owner == u && e.Group == "analysts" && e.Mode == "750"
			switch {
			case r.Action == ActionCreated && !right:
				t.Errorf("%s reported created but is %+v (exists %v)", u, e, exists)
			case r.Action == ActionFailed && strings.HasPrefix(r.Detail, "not attempted: ") && exists:
				t.Errorf("%s reported not attempted but exists: %+v", u, e)
			case r.Action != ActionCreated && r.Action != ActionFailed:
				t.Errorf("%s: unexpected %+v", u, r)
			case exists && !right && r.Action != ActionFailed:
				t.Errorf("%s is half-done (%+v) and reported %+v", u, e, r)
			case exists && !right:
				halfDone = append(halfDone, u)
			}
		}
		if rep.Count(ActionCreated) < 39 || rep.Count(ActionFailed) == 0 {
			t.Errorf("unexpected split: %s", rep.Summary())
		}
		t.Logf("half-done homes after the interruption: %q", halfDone)
		for _, u := range halfDone {
			t.Logf("  %s: %s", u, res[u].Detail)
		}
		for _, r := range rep.Results {
			if strings.HasPrefix(r.Detail, "not attempted") {
				t.Logf("  e.g. %s: %s", r.User, r.Detail)
				break
			}
		}

		// Rerun without repair: every missing home is created, and a home left
		// half-done (mode 0000) is finished; all are then right.
		rep, err = Provision(ctx, fs, users, o)
		if err != nil {
			t.Fatalf("rerun: %v", err)
		}
		res = byUser(rep)
		for _, u := range users {
			r := res[u]
			switch {
			case slices.Contains(halfDone, u) && (r.Action != ActionCreated || !strings.Contains(r.Detail, "interrupted")):
				t.Errorf("half-done %s: %+v, want it finished", u, r)
			case r.Action != ActionCreated && r.Action != ActionUnchanged:
				t.Errorf("%s: %+v", u, r)
			}
		}
		wantHomes(t, c, "/user", users, "analysts", "750")
	})
}
