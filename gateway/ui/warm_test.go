package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/clocktest"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/ui"
	"github.com/livygate/livygate/gateway/warm"
)

type fakeWarm struct{ st warm.Status }

func (f fakeWarm) Status(context.Context) warm.Status { return f.st }
func (fakeWarm) Config() warm.Config                  { return warm.Default() }

// The Sessions page shows the warm sessions waiting, their age and the
// adoption rate.
func TestSessionsPageShowsWarmSessions(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	clk := clocktest.New(t0.Add(3 * time.Minute))
	h := newHarness(t, func(o *ui.Options) {
		o.Now = clk.Now
		o.Warm = fakeWarm{warm.Status{Started: 4, Adopted: 3, LastPass: t0,
			Sessions: []store.WarmSession{{Name: "alice~~warm-ab", Owner: "alice", Kind: "pyspark", SessionID: 7, Created: t0}}}}
	})
	page := h.admin("GET", "/admin/ui/sessions", nil).body
	for _, want := range []string{"<h2>Warm sessions</h2>", "4 started, 3 adopted (adoption rate 75%)",
		"<td>7 (alice~~warm-ab)</td><td>alice</td><td>pyspark</td>", "at most 10 waiting"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if !strings.Contains(page, "3m") {
		t.Errorf("no age:\n%s", page)
	}
}
