//go:build browser

package jupyterhub_test

// A real notebook in a real browser against the dev stack
// (deploy/dev/stack.sh start): in Debian's headless Chromium, alice signs in
// to JupyterHub with her LDAP password (a wrong one is refused first), the Hub
// spawns her JupyterLab, she opens a notebook on the PySpark kernel
// (Sparkmagic, which reaches livygate with her own Hub token) and runs
// spark.range(1000).count(); the page shows 1000, and Livy ran the session
// as alice. Pages are saved as PNGs (UI_SCREENSHOTS, default
// .cache/dev/screenshots; `make screenshots` writes docs/screenshots).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/chromedp/chromedp/kb"
	"github.com/livygate/livygate/deploy/dev/browser/stackbrowser"
)

// stackEnv reads the running stack's endpoints and demo credentials; the
// Hub must run real notebooks.
func stackEnv(t *testing.T, root string) map[string]string {
	env := stackbrowser.Env(t, root, "STACK_GATEWAY_URL", "STACK_LIVY_URL", "STACK_HUB_PUBLIC_URL", "STACK_ALICE_PASSWORD")
	if env["STACK_HUB_NOTEBOOKS"] != "1" {
		t.Fatalf("the stack runs JupyterHub without notebooks (STACK_HUB_NOTEBOOKS=%q); start it without DEV_HUB_NOTEBOOKS=0", env["STACK_HUB_NOTEBOOKS"])
	}
	return env
}

type livySession struct {
	ID        int    `json:"id"`
	Kind      string `json:"kind"`
	ProxyUser string `json:"proxyUser"`
	State     string `json:"state"`
}

// livySessions asks Livy itself (not the gateway) for every session.
func livySessions(t *testing.T, env map[string]string) []livySession {
	resp, err := http.Get(env["STACK_LIVY_URL"] + "/sessions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Sessions []livySession `json:"sessions"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&list) != nil {
		t.Fatalf("Livy's session list: %d", resp.StatusCode)
	}
	return list.Sessions
}

// deleteAliceSessions deletes, through the gateway as alice, what her
// notebook left in Livy (the kernel's own clean-up normally did it already).
func deleteAliceSessions(t *testing.T, env map[string]string) {
	for _, s := range livySessions(t, env) {
		if s.ProxyUser != "alice" {
			continue
		}
		req, _ := http.NewRequest("DELETE", fmt.Sprintf("%s/sessions/%d", env["STACK_GATEWAY_URL"], s.ID), nil)
		req.SetBasicAuth("alice", env["STACK_ALICE_PASSWORD"])
		req.Header.Set("X-Requested-By", "browser-test")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
}

func TestBrowserNotebook(t *testing.T) {
	root := stackbrowser.Root(t)
	env := stackEnv(t, root)
	shots := stackbrowser.ScreenshotDir(t, root)
	hub := env["STACK_HUB_PUBLIC_URL"]
	before := map[int]bool{}
	for _, s := range livySessions(t, env) {
		before[s.ID] = true
	}
	t.Cleanup(func() { deleteAliceSessions(t, env) })

	ctx := stackbrowser.Start(t, root, 9*time.Minute)
	run := func(what string, timeout time.Duration, actions ...chromedp.Action) {
		t.Helper()
		stackbrowser.Step(t, ctx, timeout, what, actions...)
	}
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var png []byte
			if err := chromedp.CaptureScreenshot(&png).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	// poll evaluates js (an expression yielding a string) until it is not
	// empty; a value starting with "error:" fails the test at once.
	poll := func(what string, timeout time.Duration, js string) string {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			var s string
			run(what, 30*time.Second, chromedp.Evaluate(js, &s))
			if strings.HasPrefix(s, "error:") {
				run(what+" (screenshot)", 30*time.Second, shot("notebook-failure"))
				t.Fatalf("%s: %s", what, s)
			}
			if s != "" {
				return s
			}
			if time.Now().After(deadline) {
				run(what+" (screenshot)", 30*time.Second, shot("notebook-failure"))
				t.Fatalf("%s: nothing after %s", what, timeout)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	login := func(password string) {
		run("login form", 60*time.Second,
			chromedp.Navigate(hub+"/hub/login"),
			chromedp.WaitVisible(`#username_input`, chromedp.ByQuery),
			chromedp.SendKeys(`#username_input`, "alice", chromedp.ByQuery),
			chromedp.SendKeys(`#password_input`, password, chromedp.ByQuery),
		)
		if password != "" {
			run("login shot", 30*time.Second, shot("notebook-login"))
		}
		run("submit", 60*time.Second, chromedp.Click(`#login_submit`, chromedp.ByQuery))
	}

	// 1. A wrong password is refused: the Hub checks LDAP, not a dummy.
	login("not-" + env["STACK_ALICE_PASSWORD"])
	msg := poll("refusal", 60*time.Second, `(() => {
		const e = document.querySelector('p.login_error');
		return e && location.pathname.endsWith('/hub/login') ? e.textContent.trim() : '';
	})()`)
	if !strings.Contains(strings.ToLower(msg), "invalid") {
		t.Errorf("wrong password: %q", msg)
	}

	// 2. Her LDAP password: the Hub spawns her JupyterLab.
	t0 := time.Now()
	login(env["STACK_ALICE_PASSWORD"])
	poll("JupyterLab after login", 3*time.Minute, `(() => {
		if (location.pathname.startsWith('/user/alice/lab')) return 'lab';
		const e = document.querySelector('p.login_error, p.spawn-error-msg, #progress-message');
		return e && /error|fail|invalid/i.test(e.textContent) ? 'error: ' + e.textContent.trim() : '';
	})()`)
	// A fresh workspace (?reset), so an earlier run's notebook is not reopened.
	run("fresh workspace", 60*time.Second, chromedp.Navigate(hub+"/user/alice/lab?reset"))
	cards := poll("launcher", 3*time.Minute, `(() => {
		const c = [...document.querySelectorAll('.jp-LauncherCard[data-category="Notebook"]')];
		return c.map(e => e.querySelector('.jp-LauncherCard-label').textContent.trim()).join('|');
	})()`)
	spawned := time.Since(t0)
	for _, k := range []string{"PySpark", "Spark"} {
		found := false
		for _, c := range strings.Split(cards, "|") {
			found = found || c == k
		}
		if !found {
			t.Errorf("launcher offers no %s notebook: %s", k, cards)
		}
	}
	run("launcher shot", 30*time.Second, shot("notebook-launcher"))

	// 3. A new PySpark notebook; the cell runs spark.range(1000).count().
	var clicked bool
	run("new PySpark notebook", 30*time.Second, chromedp.Evaluate(`(() => {
		const c = [...document.querySelectorAll('.jp-LauncherCard[data-category="Notebook"]')]
			.find(e => e.querySelector('.jp-LauncherCard-label').textContent.trim() === 'PySpark');
		if (c) c.click();
		return !!c;
	})()`, &clicked))
	if !clicked {
		t.Fatalf("no PySpark card in the launcher: %s", cards)
	}
	const panel = `.jp-NotebookPanel:not(.lm-mod-hidden)`
	const editor = panel + ` .jp-Cell .cm-content`
	run("notebook", 2*time.Minute, chromedp.WaitVisible(editor, chromedp.ByQuery))
	// The kernel must be up (its own process, not yet Livy) before the cell
	// runs: the status bar reads "PySpark | Idle".
	poll("PySpark kernel idle", 3*time.Minute, `(() => {
		const s = [...document.querySelectorAll('.jp-StatusBar-TextItem')].map(e => e.textContent.trim());
		return s.find(x => /^PySpark \| Idle$/.test(x)) || '';
	})()`)
	t1 := time.Now()
	run("type and run the cell", 60*time.Second,
		chromedp.Click(editor, chromedp.ByQuery),
		chromedp.SendKeys(editor, "spark.range(1000).count()", chromedp.ByQuery),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(input.ModifierShift)),
	)
	poll("the cell running", 30*time.Second, `(() => {
		const p = document.querySelector('`+panel+` .jp-Cell:first-child .jp-InputArea-prompt');
		return p && /\[(\*|\d+)\]/.test(p.textContent) ? p.textContent : '';
	})()`)
	// Sparkmagic shows its session table, then the result as a stream; any
	// failure is a stderr stream (its execute reply stays "ok").
	result := poll("the cell's result", 6*time.Minute, `(() => {
		const outs = [...document.querySelectorAll('`+panel+` .jp-Cell:first-child .jp-OutputArea-output')];
		const err = outs.find(o => o.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr');
		if (err) return 'error: ' + err.textContent.trim();
		return outs.some(o => o.textContent.trim() === '1000') ? outs.map(o => o.textContent.trim()).join('\n') : '';
	})()`)
	firstCell := time.Since(t1)
	run("result shot", 30*time.Second, shot("notebook-result"))
	if !strings.Contains(result, "SparkSession available as 'spark'") {
		t.Errorf("cell output lacks Sparkmagic's session start:\n%s", result)
	}

	// 4. Livy ran it as alice: a new pyspark session with proxyUser alice.
	var mine []livySession
	for _, s := range livySessions(t, env) {
		if !before[s.ID] {
			mine = append(mine, s)
		}
	}
	if len(mine) != 1 || mine[0].ProxyUser != "alice" || mine[0].Kind != "pyspark" {
		t.Errorf("Livy's new sessions: %+v, want one pyspark session as alice", mine)
	}

	// 5. Shut the notebook's kernel down from the page (Jupyter's own API with
	// the page's XSRF cookie): Sparkmagic deletes its Livy session. The
	// notebook file goes too, so alice's home (kept in the cache) stays clean.
	var shut string
	run("kernel shutdown", 60*time.Second, chromedp.Evaluate(`(async () => {
		const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || '';
		const h = {'X-XSRFToken': decodeURIComponent(xsrf)};
		const ss = await (await fetch('/user/alice/api/sessions', {headers: h})).json();
		for (const s of ss) {
			await fetch('/user/alice/api/sessions/' + s.id, {method: 'DELETE', headers: h});
			if (/^Untitled\d*\.ipynb$/.test(s.path)) {
				await fetch('/user/alice/api/contents/' + encodeURIComponent(s.path), {method: 'DELETE', headers: h});
			}
		}
		return 'shut ' + ss.length;
	})()`, &shut, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	deadline := time.Now().Add(60 * time.Second)
	for {
		left := 0
		for _, s := range livySessions(t, env) {
			if s.ProxyUser == "alice" && !before[s.ID] && s.State != "dead" && s.State != "killed" {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: Livy still has %d of alice's sessions a minute after the kernel shut down", shut, left)
			break
		}
		time.Sleep(time.Second)
	}

	t.Logf("login to JupyterLab ready (spawn): %s; first cell (Livy session start + count): %s",
		spawned.Round(100*time.Millisecond), firstCell.Round(100*time.Millisecond))
	for _, name := range []string{"notebook-login", "notebook-launcher", "notebook-result"} {
		if st, err := os.Stat(filepath.Join(shots, name+".png")); err != nil || st.Size() < 5000 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
	t.Logf("screenshots in %s", shots)
}
