package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/token"
)

// serveInBackground runs `livygate serve` in this process on a free
// loopback address, authenticating JupyterHub tokens against a Hub never
// dialled, quiet but for errors, with rest appended to its configuration
// (written in dir). done receives its exit code.
func serveInBackground(t *testing.T, dir, rest string) (addr string, done <-chan int) {
	t.Helper()
	hubToken := writeTestFile(t, dir, "hub.token", "not-used")
	addr = freeAddr(t)
	cfg := writeTestFile(t, dir, "livygate.yaml", fmt.Sprintf(`
listen: {address: %q}
auth: {hub_token: {enabled: true}}
jupyterhub: {url: "http://127.0.0.1:9", token: {file: %q}}
log: {level: error}
`, addr, hubToken)+rest)
	exit := make(chan int, 1)
	go func() { exit <- run([]string{"serve", "--config", cfg}, io.Discard, io.Discard) }()
	return addr, exit
}

// A real `livygate serve` re-reads its signing key on SIGHUP: the new key
// signs, the old one stays published, and a broken key file changes nothing.
func TestServeReloadsKeysOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "signing.pem")
	writeKey := func() string {
		k, pem, err := token.Generate("ES256")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, pem, 0o600); err != nil {
			t.Fatal(err)
		}
		return k.ID
	}
	first := writeKey()
	addr, done := serveInBackground(t, dir, tokensConfig(filepath.Join(dir, "livygate.db"), keyFile, "ES256"))
	kids := func() []string {
		resp, err := http.Get("http://" + addr + "/.well-known/jwks.json")
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var doc struct{ Keys []struct{ Kid string } }
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		var out []string
		for _, k := range doc.Keys {
			out = append(out, k.Kid)
		}
		return out
	}
	waitFor := func(what string, ok func([]string) bool) []string {
		t.Helper()
		var got []string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if got = kids(); ok(got) {
				return got
			}
		}
		t.Fatalf("%s: JWKS kids %v", what, got)
		return nil
	}
	waitFor("first key", func(k []string) bool { return slices.Equal(k, []string{first}) })

	second := writeKey()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	got := waitFor("after SIGHUP", func(k []string) bool { return len(k) == 2 })
	if got[0] != second || got[1] != first {
		t.Errorf("JWKS after rotation: %v, want the new key %s first and the old %s still published", got, second, first)
	}

	if err := os.WriteFile(keyFile, []byte("-----BEGIN PRIVATE KEY-----\nbroken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	if now := kids(); !slices.Equal(now, got) {
		t.Errorf("a broken key file changed the keys: %v, was %v", now, got)
	}

	_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d", code)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
}

// A gateway without tokens keeps serving through a SIGHUP (log rotation
// sends one): it has nothing to reload, and Go's default would end it.
func TestServeWithoutTokensSurvivesSIGHUP(t *testing.T) {
	dir := t.TempDir()
	addr, done := serveInBackground(t, dir, `
store: {path: ""}
ui: {enabled: false}
`)
	healthy := func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	for deadline := time.Now().Add(10 * time.Second); !healthy(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("serve did not come up")
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	select {
	case code := <-done:
		t.Fatalf("serve ended on SIGHUP with %d", code)
	default:
	}
	if !healthy() {
		t.Fatal("serve stopped answering after SIGHUP")
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d on SIGINT", code)
	}
}
