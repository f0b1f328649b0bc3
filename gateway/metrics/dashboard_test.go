package metrics

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The Grafana dashboard in deploy/grafana uses only series livygate exports.
func TestDashboardUsesOnlyExportedSeries(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana/livygate-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	m := New()
	// Every series has a sample once each hook ran once.
	m.Request("livy", "GET", 200, time.Millisecond)
	m.Authentication("basic", "locked")
	m.SyncRun("timer", 0, time.Second)
	m.Minted("RS256")
	m.CacheRatio("credentials", func() (uint64, uint64) { return 1, 1 })
	m.StoreQueue(func() (int, uint64, uint64) { return 0, 1, 0 })
	m.ProxyLoad(func() (int, int) { return 1, 0 })
	m.RequestLoad(func() (int, int) { return 1, 0 })
	m.livyDuration.WithLabelValues("GET").Observe(0.01)
	m.livyErrors.WithLabelValues("timeout").Inc()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	exported := map[string]bool{}
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if name, _, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") {
			name, _, _ = strings.Cut(name, "{")
			exported[name] = true
		}
	}
	series := regexp.MustCompile(`\b(?:livygate|process|go)_[a-z_]+\b`)
	if len(dash.Panels) < 10 {
		t.Fatalf("%d panels", len(dash.Panels))
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			for _, name := range series.FindAllString(q.Expr, -1) {
				if !exported[name] {
					t.Errorf("panel %q uses %s, which livygate does not export", p.Title, name)
				}
			}
		}
	}
}
