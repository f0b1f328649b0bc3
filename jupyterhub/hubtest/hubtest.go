//go:build integration

// Package hubtest starts a real, private JupyterHub (deploy/dev/jupyterhub)
// for integration tests: its own state, port and page limit, stopped when
// the test ends. A Hub that cannot be installed or started fails the test.
package hubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Hub is a running JupyterHub.
type Hub struct {
	URL          string // http://127.0.0.1:PORT
	ServiceToken string // scopes list:users, read:users, admin:users, tokens
	env          []string
	script       string
}

// Start runs a Hub whose API pages at most pageLimit users, with the
// initial users given plus the dev config's admin, carol.
func Start(t testing.TB, pageLimit int, users ...string) *Hub {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	port := freePort(t)
	instance := fmt.Sprintf("jupyterhub-test-%d", port)
	h := &Hub{
		URL:    fmt.Sprintf("http://127.0.0.1:%d", port),
		script: filepath.Join(root, "deploy/dev/jupyterhub/hub.sh"),
		env: append(os.Environ(),
			"DEV_HUB_INSTANCE="+instance,
			fmt.Sprintf("DEV_HUB_PORT=%d", port),
			fmt.Sprintf("DEV_HUB_PAGE_MAX_LIMIT=%d", pageLimit),
			"DEV_HUB_USERS="+strings.Join(users, ","),
		),
	}
	if out, err := h.run("start"); err != nil {
		t.Fatalf("starting JupyterHub (hub.sh start) failed: %v\n%s", err, out)
	}
	t.Cleanup(func() { h.Reset(t) })
	env, err := h.run("env")
	if err != nil {
		t.Fatalf("hub.sh env: %v\n%s", err, env)
	}
	for _, line := range strings.Split(env, "\n") {
		if f, ok := strings.CutPrefix(line, "DEV_HUB_SERVICE_TOKEN_FILE="); ok {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("reading the Hub's service token: %v", err)
			}
			h.ServiceToken = strings.TrimSpace(string(b))
		}
	}
	if h.ServiceToken == "" {
		t.Fatal("hub.sh env names no service token file")
	}
	return h
}

func (h *Hub) run(args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{h.script}, args...)...)
	cmd.Env = h.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Stop stops the Hub (idempotent).
func (h *Hub) Stop(t testing.TB) {
	if out, err := h.run("stop"); err != nil {
		t.Errorf("stopping JupyterHub: %v\n%s", err, out)
	}
}

// Restart starts a stopped Hub again on the same port, with the users and
// tokens it had, as an operator bringing it back does.
func (h *Hub) Restart(t testing.TB) {
	t.Helper()
	if out, err := h.run("start"); err != nil {
		t.Fatalf("restarting JupyterHub (hub.sh start) failed: %v\n%s", err, out)
	}
}

// Reset stops the Hub and forgets its users and tokens.
func (h *Hub) Reset(t testing.TB) {
	if out, err := h.run("reset"); err != nil {
		t.Errorf("resetting JupyterHub: %v\n%s", err, out)
	}
}

// CreateUsers adds users through the Hub's API and returns the names the Hub
// made of them (it lower-cases), or fails the test.
func (h *Hub) CreateUsers(t testing.TB, names ...string) []string {
	t.Helper()
	var created []map[string]any
	h.api(t, http.MethodPost, "/hub/api/users", map[string]any{"usernames": names}, &created)
	out := make([]string, 0, len(created))
	for _, u := range created {
		out = append(out, u["name"].(string))
	}
	return out
}

// CreateNumberedUsers adds n users named user00, user01, … and returns
// those names.
func (h *Hub) CreateNumberedUsers(t testing.TB, n int) []string {
	t.Helper()
	names := make([]string, 0, n)
	for i := range n {
		names = append(names, fmt.Sprintf("user%02d", i))
	}
	h.CreateUsers(t, names...)
	return names
}

// TokenFor makes an API token for user.
func (h *Hub) TokenFor(t testing.TB, user string) string {
	t.Helper()
	var tok map[string]any
	h.api(t, http.MethodPost, "/hub/api/users/"+user+"/tokens", map[string]any{"note": "test"}, &tok)
	return tok["token"].(string)
}

// TokenWithScopes makes an API token for user holding only scopes.
func (h *Hub) TokenWithScopes(t testing.TB, user string, scopes ...string) string {
	t.Helper()
	var tok map[string]any
	h.api(t, http.MethodPost, "/hub/api/users/"+user+"/tokens", map[string]any{"note": "test", "scopes": scopes}, &tok)
	return tok["token"].(string)
}

func (h *Hub) api(t testing.TB, method, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, h.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "token "+h.ServiceToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, m)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	time.Sleep(10 * time.Millisecond)
	return l.Addr().(*net.TCPAddr).Port
}
