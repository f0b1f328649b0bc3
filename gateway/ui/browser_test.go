//go:build browser

package ui_test

// The admin UI in Debian's headless Chromium against the real dev stack
// (deploy/dev/stack.sh start): log in as the admin through the form, see the
// Hub's users and their homes, run Sync now and see the new run, kill a
// batch and see it gone from Livy, filter the audit trail. Every page is
// saved as a PNG (UI_SCREENSHOTS, default .cache/dev/screenshots;
// `make screenshots` writes docs/screenshots).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livygate/livygate/deploy/dev/browser/stackbrowser"
)

// submitSleeper puts a job that sleeps on HDFS and submits it as alice
// through the gateway, returning the batch id.
func submitSleeper(t *testing.T, root string, env map[string]string) int {
	job := filepath.Join(t.TempDir(), "sleeper.py")
	if err := os.WriteFile(job, []byte("import time\ntime.sleep(900)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	put := exec.Command("bash", filepath.Join(root, "deploy/dev/hdfs/fs.sh"), "-put", "-f", job, "/user/alice/ui-sleeper.py")
	put.Env = append(os.Environ(), "HADOOP_USER_NAME=alice")
	if out, err := put.CombinedOutput(); err != nil {
		t.Fatalf("hadoop fs -put: %v\n%s", err, out)
	}
	req, _ := http.NewRequest("POST", env["STACK_GATEWAY_URL"]+"/batches",
		strings.NewReader(`{"file": "hdfs:///user/alice/ui-sleeper.py", "name": "ui-sleeper"}`))
	req.SetBasicAuth("alice", env["STACK_ALICE_PASSWORD"])
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-By", "browser-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b struct {
		ID int `json:"id"`
	}
	if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&b) != nil {
		t.Fatalf("submitting the batch: %d", resp.StatusCode)
	}
	return b.ID
}

// livyHas asks Livy itself (not the gateway) whether it knows a batch.
func livyHas(t *testing.T, env map[string]string, id int) bool {
	resp, err := http.Get(fmt.Sprintf("%s/batches/%d", env["STACK_LIVY_URL"], id))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

func TestBrowserAdminUI(t *testing.T) {
	root := stackbrowser.Root(t)
	env := stackbrowser.Env(t, root, "STACK_GATEWAY_URL", "STACK_LIVY_URL", "STACK_CAROL_PASSWORD", "STACK_ALICE_PASSWORD")
	shots := stackbrowser.ScreenshotDir(t, root)
	gw := env["STACK_GATEWAY_URL"]
	started := time.Now()
	batch := submitSleeper(t, root, env)
	t.Cleanup(func() { // never leave a sleeping Spark job behind
		req, _ := http.NewRequest("DELETE", fmt.Sprintf("%s/batches/%d", env["STACK_LIVY_URL"], batch), nil)
		req.Header.Set("X-Requested-By", "browser-test")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	})

	ctx := stackbrowser.Start(t, root, 4*time.Minute)
	// Each step gets its own deadline, so a stuck step fails fast and says which.
	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		stackbrowser.Step(t, ctx, 45*time.Second, what, actions...)
	}
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var png []byte
			if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	text := func(sel string) string {
		t.Helper()
		var s string
		run("reading "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
		return s
	}
	var url string
	// waitURL waits for a navigation to land: waiting for an element the old
	// page also has would race with the page unloading.
	waitURL := func(what, part string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			run(what, chromedp.Location(&url))
			if strings.Contains(url, part) {
				run(what, chromedp.WaitReady(`body`, chromedp.ByQuery))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: still at %s, want %s", what, url, part)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// 1. Unauthenticated: the login form. Sign in as carol, the admin.
	run("login form",
		chromedp.Navigate(gw+"/admin/ui/users"),
		chromedp.WaitVisible(`input[name=password]`, chromedp.ByQuery),
		chromedp.Location(&url),
		shot("login"),
		chromedp.SendKeys(`input[name=user]`, "carol", chromedp.ByQuery),
		chromedp.SendKeys(`input[name=password]`, env["STACK_CAROL_PASSWORD"], chromedp.ByQuery),
		chromedp.Submit(`form.login`, chromedp.ByQuery),
		chromedp.WaitVisible(`form.filter input[name=q]`, chromedp.ByQuery),
	)
	if !strings.Contains(url, "/admin/ui/login?next=") {
		t.Errorf("anonymous visit landed on %s", url)
	}

	// 2. Users: the Hub's users with their HDFS homes (from the stack's first sync).
	body := text("main")
	for _, u := range []string{"alice", "bob", "carol"} {
		if !strings.Contains(body, u) {
			t.Errorf("users page lacks %s:\n%s", u, body)
		}
	}
	var homes []string
	run("home cells", chromedp.Evaluate(`[...document.querySelectorAll('span[class^=home-]')].map(e => e.textContent)`, &homes))
	if strings.Join(homes, ",") != "ok,ok,ok" {
		t.Errorf("homes shown: %v, want ok for alice, bob and carol", homes)
	}
	run("users shot", shot("users"))

	// 3. Overview: every backend reachable.
	run("overview", chromedp.Navigate(gw+"/admin/ui/"), chromedp.WaitVisible(`section.cards`, chromedp.ByQuery), shot("overview"))
	body = text("main")
	for _, b := range []string{"Livy", "JupyterHub", "HDFS", "LDAP"} {
		if !strings.Contains(body, b) {
			t.Errorf("overview lacks %s", b)
		}
	}
	if strings.Contains(body, "unreachable") {
		t.Errorf("a backend is unreachable:\n%s", body)
	}

	// 4. Sync now, then the new run appears.
	// Runs are listed newest first; the first row's link is the newest id.
	newestID := `(document.querySelector('main table tr:nth-child(2) a') || {textContent: '0'}).textContent`
	var before int
	run("sync page", chromedp.Navigate(gw+"/admin/ui/sync"), chromedp.WaitVisible(`.actions`, chromedp.ByQuery),
		chromedp.Evaluate(`parseInt(`+newestID+`)`, &before))
	run("sync now", chromedp.Click(`form[action$="/sync/run"] button`, chromedp.ByQuery), chromedp.WaitVisible(`p.flash`, chromedp.ByQuery))
	// The newest run must be a new one, by carol, after the click.
	deadline := time.Now().Add(90 * time.Second)
	for {
		var after int
		var newest []string
		run("runs", chromedp.Evaluate(`parseInt(`+newestID+`)`, &after),
			chromedp.Evaluate(`[...document.querySelectorAll('main table tr')[1].cells].map(c => c.textContent)`, &newest))
		if after > before && len(newest) == 6 && newest[3] == "admin:carol" && !strings.Contains(text("main"), "is running since") {
			if at, err := time.Parse("2006-01-02 15:04:05Z", newest[1]); err != nil || at.Before(started.Add(-time.Second)) {
				t.Errorf("newest run: %v (%v)", newest, err)
			}
			if strings.Contains(newest[5], "could not run") {
				t.Errorf("Sync now could not run: %v", newest)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new run by admin:carol after Sync now (newest run %d before, %d now):\n%s", before, after, text("main"))
		}
		time.Sleep(2 * time.Second)
		run("reload sync", chromedp.Reload(), chromedp.WaitVisible(`main table`, chromedp.ByQuery))
	}
	run("sync shot", shot("sync"))
	run("sync run", chromedp.Click(`main table tr:nth-child(2) a`, chromedp.ByQuery))
	waitURL("sync run", "/admin/ui/sync/")
	run("sync run shot", chromedp.WaitVisible(`main table`, chromedp.ByQuery), shot("sync-run"))
	if body = text("main"); !strings.Contains(body, "admin:carol") || !strings.Contains(body, "/user/alice") {
		t.Errorf("run detail:\n%s", body)
	}

	// 5. Kill alice's batch; Livy no longer has it.
	if !livyHas(t, env, batch) {
		t.Fatalf("Livy does not list batch %d before the kill", batch)
	}
	kill := fmt.Sprintf(`a[href$="/sessions/batches/%d/kill"]`, batch)
	run("sessions page", chromedp.Navigate(gw+"/admin/ui/sessions"), chromedp.WaitVisible(kill, chromedp.ByQuery), shot("sessions"))
	if body = text("main table"); !strings.Contains(body, "ui-sleeper") || !strings.Contains(body, "alice") {
		t.Errorf("sessions page:\n%s", body)
	}
	run("kill confirmation", chromedp.Click(kill, chromedp.ByQuery), chromedp.WaitVisible(`button.danger`, chromedp.ByQuery), shot("kill-confirm"))
	run("kill", chromedp.Click(`button.danger`, chromedp.ByQuery), chromedp.WaitVisible(`p.flash`, chromedp.ByQuery))
	if flash := text("p.flash"); flash != fmt.Sprintf("Batch %d was killed.", batch) {
		t.Errorf("flash after kill: %q", flash)
	}
	deadline = time.Now().Add(30 * time.Second)
	for livyHas(t, env, batch) {
		if time.Now().After(deadline) {
			t.Fatalf("Livy still lists batch %d after the kill", batch)
		}
		time.Sleep(time.Second)
	}

	// 6. The audit trail, filtered through the form to carol's kills since
	// the test began (the dev stack's store outlives the stack).
	from := started.UTC().Truncate(time.Minute).Format("2006-01-02T15:04")
	run("audit filter",
		chromedp.Navigate(gw+"/admin/ui/audit"),
		chromedp.WaitVisible(`form.filter`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name=user]`, "carol", chromedp.ByQuery),
		chromedp.SetValue(`select[name=action]`, "admin kill batch", chromedp.ByQuery),
		chromedp.SendKeys(`input[name=from]`, from, chromedp.ByQuery),
		chromedp.Submit(`form.filter`, chromedp.ByQuery),
	)
	waitURL("audit filter", "action=admin+kill+batch")
	run("audit shot", chromedp.WaitVisible(`main table`, chromedp.ByQuery), shot("audit"))
	var rows [][]string
	run("audit rows", chromedp.Evaluate(`[...document.querySelectorAll('main table tr')].slice(1).map(r => [...r.cells].map(c => c.textContent))`, &rows))
	if !strings.Contains(url, "action=admin+kill+batch") || len(rows) == 0 {
		t.Fatalf("filtered audit (%s): %v", url, rows)
	}
	for _, r := range rows { // Time User Action Outcome Status Path Session ProxyUser Reason Client
		if len(r) != 10 || r[1] != "carol" || r[2] != "admin kill batch" {
			t.Errorf("a row outside the filter: %v", r)
		}
	}
	newest := rows[0]
	at, err := time.Parse("2006-01-02 15:04:05Z", newest[0])
	if err != nil || at.Before(started.Add(-time.Second)) || newest[3] != "ok" || newest[7] != "alice" ||
		newest[5] != fmt.Sprintf("POST /admin/ui/sessions/batches/%d/kill", batch) {
		t.Errorf("newest kill event: %v (%v)", newest, err)
	}

	// 7. Keys: the dev stack signs with an RS256 key and keeps others to verify.
	run("keys", chromedp.Navigate(gw+"/admin/ui/keys"), chromedp.WaitVisible(`main table`, chromedp.ByQuery), shot("keys"))
	var keyRows [][]string
	run("key rows", chromedp.Evaluate(`[...document.querySelectorAll('main table:first-of-type tr')].slice(1).map(r => [...r.cells].map(c => c.textContent))`, &keyRows))
	signing := 0
	for _, r := range keyRows {
		if len(r) == 6 && r[4] == "signing" {
			signing++
			if r[1] != "RS256" || r[5] != "download PEM" {
				t.Errorf("signing key row: %v", r)
			}
		}
	}
	if signing != 1 {
		t.Errorf("key rows: %v, want exactly one signing key", keyRows)
	}

	for _, name := range []string{"login", "users", "overview", "sync", "sync-run", "sessions", "kill-confirm", "audit", "keys"} {
		if st, err := os.Stat(filepath.Join(shots, name+".png")); err != nil || st.Size() < 5000 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
	t.Logf("screenshots in %s", shots)
}
