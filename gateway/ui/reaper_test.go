package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/clocktest"
	"github.com/livygate/livygate/gateway/reaper"
	"github.com/livygate/livygate/gateway/ui"
	"github.com/livygate/livygate/livy"
)

// The Sessions page shows each live session's idle time and its owner's
// notebook state as the reaper sees them, and the reaper's recent actions.
func TestSessionsPageShowsTheReaper(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	var r *reaper.Reaper
	h := newHarness(t, func(o *ui.Options) {
		cfg := reaper.Default()
		cfg.IdleAfter = time.Hour
		var err error
		if r, err = reaper.New(cfg, reaper.Deps{Livy: o.Livy.(*livy.Client), Now: clk.Now}); err != nil {
			t.Fatal(err)
		}
		o.Reaper = r
		o.Now = clk.Now
	})
	idle := h.livy.Add("sessions", map[string]any{"proxyUser": "alice", "kind": "pyspark"})
	busy := h.livy.Add("sessions", map[string]any{"proxyUser": "bob", "kind": "pyspark"})
	h.livy.SetState("sessions", busy, "busy")
	r.Pass(context.Background())
	clk.Add(31 * time.Minute)
	page := h.admin("GET", "/admin/ui/sessions", nil).body
	for _, want := range []string{"<th>Idle</th><th>Notebook</th>", "<td>31m</td><td>unknown</td>", "<td>not idle</td>",
		"<h2>Reaper</h2>", "idle after 1h0m0s", "The reaper has ended no session yet."} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	clk.Add(30 * time.Minute)
	if got := r.Pass(context.Background()); len(got) != 1 || got[0].SessionID != idle {
		t.Fatalf("pass: %+v", got)
	}
	page = h.admin("GET", "/admin/ui/sessions", nil).body
	if !strings.Contains(page, "idle for 1h1m (reaper.idle_after 1h)") || !strings.Contains(page, "<td>reaped</td>") {
		t.Errorf("the reap is not shown:\n%s", page)
	}
}

// Without a reaper the page has no such columns.
func TestSessionsPageWithoutTheReaper(t *testing.T) {
	h := newHarness(t)
	h.livy.Add("sessions", map[string]any{"proxyUser": "alice"})
	if page := h.admin("GET", "/admin/ui/sessions", nil).body; strings.Contains(page, "Notebook") || strings.Contains(page, "Reaper") {
		t.Errorf("reaper columns without a reaper:\n%s", page)
	}
}
