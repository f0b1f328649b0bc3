package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/warm"
	"github.com/livygate/livygate/jupyterhub/hubtest"
)

// warm: on, wired: the warm create is the gateway's own (token delivered
// into its conf as for any create of alice's), the store records it, and
// alice's create gets it; the metrics count both.
func TestWarmWiring(t *testing.T) {
	hub := hubtest.NewFake("svc")
	t.Cleanup(hub.Close)
	tokenFile := filepath.Join(t.TempDir(), "hub.token")
	if err := os.WriteFile(tokenFile, []byte("svc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newTokenHarness(t, "conf", func(c *config.Config) {
		c.JupyterHub.URL = hub.URL()
		c.JupyterHub.Token.File = tokenFile
		c.Warm.Enabled = true
		if err := c.Warm.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	hub.StartServer("alice", time.Now())
	h.gw.warm.Pass(context.Background())
	var sent map[string]any
	for _, r := range h.livy.Requests() {
		if r.Method == http.MethodPost && r.Path == "/sessions" {
			_ = json.Unmarshal(r.Body, &sent)
		}
	}
	name, _ := sent["name"].(string)
	conf, _ := sent["conf"].(map[string]any)
	if sent["proxyUser"] != "alice" || !warm.IsName(name) || conf["spark.plugin.s3.jwt"] == nil {
		t.Fatalf("the warm create Livy got: %v", sent)
	}
	recs, err := h.gw.Store.WarmList(context.Background())
	if err != nil || len(recs) != 1 || recs[0].Owner != "alice" {
		t.Fatalf("stored: %+v %v", recs, err)
	}
	alice := h.bearer("alice", "analysts")
	st, body := h.do(alice, http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
	var got struct {
		ID int `json:"id"`
	}
	_ = json.Unmarshal(body, &got)
	if st != http.StatusCreated || got.ID != recs[0].SessionID || strings.Contains(string(body), name) {
		t.Fatalf("alice's create: %d %s, want the warm session %d", st, body, recs[0].SessionID)
	}
	carol := h.bearer("carol", "livygate-admins")
	_, metrics := h.do(carol, http.MethodGet, "/metrics", nil)
	for _, want := range []string{"livygate_warm_starts_total 1", "livygate_warm_adoptions_total 1"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestWarmNeedsTheHub(t *testing.T) {
	cfg := config.Default()
	cfg.Warm.Enabled = true
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "warm.enabled: needs jupyterhub.url") {
		t.Fatalf("Validate: %v", err)
	}
}
