//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/hdfs/hdfstest"
	"github.com/livygate/livygate/jupyterhub/hubtest"
)

// syncReport is the part of `livygate sync`'s JSON report the test reads.
type syncReport struct {
	Users   int            `json:"users"`
	Summary map[string]int `json:"summary"`
	Results []struct {
		User, Action, Detail string
	} `json:"results"`
	Error string `json:"error"`
}

func runSync(t *testing.T, cfg string, extra ...string) (int, syncReport, string) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "report.json")
	code, _, stderr := runCLI(append([]string{"sync", "--config", cfg, "--report", report}, extra...)...)
	var r syncReport
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("no report (exit %d): %v\n%s", code, err, stderr)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	return code, r, stderr
}

// TestIntegrationSyncRealHubToRealHDFS is the cron job end to end: a real
// JupyterHub with more users than its page limit, some with names that
// cannot be directories, synced into a real NameNode, checked with the real
// `hadoop fs` CLI.
func TestIntegrationSyncRealHubToRealHDFS(t *testing.T) {
	hub := hubtest.Start(t, 4, "alice", "bob")
	good := hub.CreateNumberedUsers(t, 17)
	good = append(good, "alice", "bob", "carol")
	// Names a Hub accepts but a home must not have; keep the ones this Hub takes.
	var hostile []string
	for _, name := range []string{"ünïcode", "x:y", "-lead", "..", ".", "semi;colon", "a b"} {
		func() {
			defer func() { _ = recover() }()
			hostile = append(hostile, hub.CreateUsers(&softT{T: t}, name)...)
		}()
	}
	if len(hostile) < 2 {
		t.Fatalf("the Hub accepted only %v of the hostile names; the test needs at least two", hostile)
	}
	t.Logf("hostile names the Hub accepted: %q", hostile)

	nn := hdfstest.Start(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "hub-token")
	if err := os.WriteFile(tokenFile, []byte(hub.ServiceToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "livygate.yaml")
	writeConfig := func(namenode string) {
		yaml := fmt.Sprintf(`jupyterhub:
  url: %s
  token: {file: %s}
hdfs:
  namenodes: [%s]
  user: %s
  group: analysts
sync:
  lock_file: %s/sync.lock
store:
  path: %s/livygate.db
log:
  level: warn
`, hub.URL, tokenFile, namenode, nn.Superuser, dir, dir)
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig(nn.Addr)

	// A dry run plans and touches nothing.
	code, r, stderr := runSync(t, cfg, "--dry-run")
	if code != 1 || r.Summary["would-create"] != len(good) || r.Summary["refused"] != len(hostile) {
		t.Fatalf("dry run: exit %d, %v\n%s", code, r.Summary, stderr)
	}
	if homes := nn.List(t, "/user"); len(homes) != 0 {
		t.Fatalf("the dry run created %v", homes)
	}

	// The real run: every good user gets a correct home; hostile names are
	// refused and reported, and exit 1 says so.
	code, r, stderr = runSync(t, cfg)
	if code != 1 || r.Summary["created"] != len(good) || r.Summary["refused"] != len(hostile) || r.Users != len(good)+len(hostile) {
		t.Fatalf("first run: exit %d, %+v\n%s", code, r.Summary, stderr)
	}
	if !strings.Contains(stderr, fmt.Sprintf("created %d", len(good))) {
		t.Errorf("summary line: %s", stderr)
	}
	homes := nn.List(t, "/user")
	for _, u := range good {
		h, ok := homes[u]
		if !ok || !h.IsDir() || h.Owner != u || h.Group != "analysts" || h.Mode != "750" {
			t.Errorf("home of %s: %+v (exists %v)", u, h, ok)
		}
	}
	if len(homes) != len(good) {
		t.Errorf("%d entries under /user, want %d: %v", len(homes), len(good), homes)
	}
	for _, res := range r.Results {
		if slices.Contains(hostile, res.User) && (res.Action != "refused" || res.Detail == "") {
			t.Errorf("hostile %q: %+v", res.User, res)
		}
	}

	// A second run changes nothing.
	if _, r, _ = runSync(t, cfg); r.Summary["unchanged"] != len(good) || r.Summary["created"] != 0 {
		t.Errorf("second run: %v", r.Summary)
	}

	// Drift is reported, and fixed only with repair on.
	nn.FS(t, "-chmod", "777", "/user/alice")
	nn.FS(t, "-chown", "bob:bob", "/user/user03")
	if _, r, _ = runSync(t, cfg); r.Summary["drift"] != 2 || nn.Stat(t, "/user/alice")["alice"].Mode != "777" {
		t.Errorf("drift without repair: %v", r.Summary)
	}

	// Every run, cron's too, is in the store the admin UI reads, and alice's
	// home shows its drift there.
	st, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "livygate.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := st.Runs(context.Background(), 100, 0)
	known, _ := st.Homes(context.Background(), []string{"alice"})
	st.Close()
	if len(runs) != 4 || runs[0].Trigger != "cron" || !runs[3].DryRun || known["alice"].State != store.HomeDrift {
		t.Errorf("store after 4 runs: %+v, alice %+v", runs, known["alice"])
	}
	t.Setenv("LIVYGATE_HDFS_REPAIR", "true")
	if _, r, _ = runSync(t, cfg); r.Summary["repaired"] != 2 {
		t.Errorf("repair: %v", r.Summary)
	}
	if a, u := nn.Stat(t, "/user/alice")["alice"], nn.Stat(t, "/user/user03")["user03"]; a.Mode != "750" || u.Owner != "user03" || u.Group != "analysts" {
		t.Errorf("after repair: alice %+v, user03 %+v", a, u)
	}

	// NameNode unreachable, then Hub unreachable: exit 2 with a clear reason.
	writeConfig("127.0.0.1:1")
	code, r, stderr = runSync(t, cfg)
	if code != 2 || !strings.Contains(stderr, "could not run") || !strings.Contains(r.Error, "127.0.0.1:1") {
		t.Errorf("NameNode down: exit %d, %q, %q", code, r.Error, stderr)
	}
	writeConfig(nn.Addr)
	hub.Stop(t)
	code, r, stderr = runSync(t, cfg)
	if code != 2 || !strings.Contains(r.Error, "JupyterHub") {
		t.Errorf("Hub down: exit %d, %q, %q", code, r.Error, stderr)
	}
}

// softT turns a Fatalf from hubtest into a panic the caller recovers, so one
// name the Hub refuses does not end the test.
type softT struct{ *testing.T }

func (s *softT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (s *softT) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (s *softT) Helper()                           {}
