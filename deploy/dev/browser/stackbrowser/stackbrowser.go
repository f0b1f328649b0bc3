// Package stackbrowser is what the browser tests (-tags browser) share: the
// running dev stack's env file, the screenshot folder, and Debian's headless
// Chromium started with the flags this machine needs (deploy/dev/browser).
package stackbrowser

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Root is the repository's top folder (where go.mod is).
func Root(t testing.TB) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// Env reads the running stack's endpoints and demo credentials
// (.cache/dev/stack.env) and fails the test when a required key is missing.
func Env(t testing.TB, root string, required ...string) map[string]string {
	t.Helper()
	path := filepath.Join(root, ".cache/dev/stack.env")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v: start the stack first: bash deploy/dev/stack.sh start", err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = strings.Trim(v, `"`)
		}
	}
	for _, k := range required {
		if env[k] == "" {
			t.Fatalf("%s lacks %s", path, k)
		}
	}
	return env
}

// ScreenshotDir is where pages are saved: UI_SCREENSHOTS (relative to the
// repository), default .cache/dev/screenshots.
func ScreenshotDir(t testing.TB, root string) string {
	t.Helper()
	shots := os.Getenv("UI_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(root, ".cache/dev/screenshots")
	} else if !filepath.IsAbs(shots) {
		shots = filepath.Join(root, shots)
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return shots
}

// Start launches headless Chromium with a fresh profile and returns a
// browser context that lasts timeout; everything is ended and removed when
// the test is done.
func Start(t testing.TB, root string, timeout time.Duration) context.Context {
	t.Helper()
	out, err := exec.Command("bash", filepath.Join(root, "deploy/dev/browser/chromium.sh"), "path").Output()
	if err != nil {
		t.Fatalf("chromium: %v (install it with make deps-browser)", err)
	}
	browser := strings.TrimSpace(string(out))
	// A profile of its own, removed after the browser has gone (Chromium may
	// still be writing to it when t.TempDir's own clean-up would run).
	profile, err := os.MkdirTemp("", "livygate-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
		os.RemoveAll(profile)
	})
	// Start the browser on this context: the first Run owns it, and a
	// step's shorter deadline must not close it.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting %s: %v", browser, err)
	}
	return ctx
}

// Step runs actions in the browser with a deadline of their own, so a stuck
// step fails fast and says which (what).
func Step(t testing.TB, ctx context.Context, timeout time.Duration, what string, actions ...chromedp.Action) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Run(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
