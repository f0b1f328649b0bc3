package proxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/clocktest"
	"github.com/livygate/livygate/gateway/limits"
	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/reaper"
	"github.com/livygate/livygate/livy"
)

// governor joins limits and the reaper as the gateway does (gateway/governance.go).
type governor struct {
	l *limits.Limiter
	r *reaper.Reaper
}

func (g governor) Admit(ctx context.Context, res livy.Resource, c *auth.Identity, runAs string, req map[string]json.RawMessage) (func(), error) {
	return g.l.Admit(ctx, res, limits.Caller{User: c.User, Groups: c.Groups, Admin: c.Admin}, runAs, req)
}
func (g governor) Used(res livy.Resource, id int, method, rest string) {
	g.r.Used(res, id, method, rest)
}
func (g governor) Ended(res livy.Resource, item string) (string, string, bool) {
	return g.r.Ended(res, item)
}

func governed(t testing.TB, lc limits.Config, rc reaper.Config, ownerTTL time.Duration) (*harness, *reaper.Reaper, *clocktest.Clock) {
	t.Helper()
	clk := clocktest.New(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	var g governor
	h := newHarness(t, func(o *proxy.Options, _ *policy.Config) {
		o.Governor = &g
		o.OwnerCacheTTL = ownerTTL
	})
	u, _ := url.Parse(h.livy.URL())
	client := &livy.Client{BaseURL: u, HTTP: &http.Client{Timeout: 5 * time.Second}}
	v, _ := limits.NewBackendVersion("", client.ServerVersion, clk.Now)
	var err error
	if g.l, err = limits.New(lc, limits.Deps{Livy: client, Version: v.Get}); err != nil {
		t.Fatal(err)
	}
	if g.r, err = reaper.New(rc, reaper.Deps{Livy: client, Now: clk.Now}); err != nil {
		t.Fatal(err)
	}
	return h, g.r, clk
}

func TestLimitsRefuseTheFourthSessionAndClampTimeouts(t *testing.T) {
	lc := limits.Default()
	lc.Default.MaxSessions = 3
	lc.Timeouts.TTL.Max = 24 * time.Hour
	h, _, _ := governed(t, lc, reaper.Default(), time.Minute)
	for i := 0; i < 3; i++ {
		h.createAs("alice", map[string]any{"kind": "pyspark", "ttl": "3650d"})
	}
	var posted map[string]any
	_ = json.Unmarshal(h.livy.Last().Body, &posted)
	if posted["ttl"] != "1d" || posted["proxyUser"] != "alice" {
		t.Errorf("Livy got %v", posted)
	}
	h.livy.Reset()
	a := h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
	expectStatus(t, a, http.StatusTooManyRequests)
	if a.msg(t) != "you have 3 live sessions; the limit is 3 (limits.default.max_sessions)" {
		t.Errorf("msg %q", a.msg(t))
	}
	for _, r := range h.livy.Requests() {
		if r.Method == http.MethodPost {
			t.Errorf("Livy got a create: %s %s", r.Method, r.Path)
		}
	}
	if n := h.livy.Count("sessions"); n != 3 {
		t.Errorf("%d sessions", n)
	}
	ev := h.audit.All()
	if last := ev[len(ev)-1]; last.Outcome != "refused" || last.Status != 429 || !strings.Contains(last.Reason, "max_sessions") {
		t.Errorf("audit: %+v", last)
	}
	expectStatus(t, h.do("carol", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"}), http.StatusCreated)
	a = h.do("bob", http.MethodPost, "/sessions", map[string]any{"driverMemory": "1g"})
	expectStatus(t, a, http.StatusCreated)
}

// The next cell in a reaped session says the gateway ended it and why, to
// its owner (and admins); anyone else gets Livy's plain 404. Both when the
// gateway still remembers the owner (Livy's own 404 is rewritten) and when
// it does not (the look-up's 404).
func TestReapedSessionIsExplained(t *testing.T) {
	for _, ownerTTL := range []time.Duration{time.Minute, 0} {
		rc := reaper.Default()
		rc.IdleAfter = 30 * time.Minute
		h, r, clk := governed(t, limits.Default(), rc, ownerTTL)
		idle := h.createAs("alice", map[string]any{"kind": "pyspark", "name": "nb"})
		used := h.createAs("alice", map[string]any{"kind": "pyspark"})
		r.Pass(context.Background())
		clk.Add(20 * time.Minute)
		expectStatus(t, h.do("alice", http.MethodPost, "/sessions/"+strconv.Itoa(used)+"/statements", map[string]any{"code": "1+1"}), http.StatusCreated)
		for i := 0; i < 20; i++ { // polling the idle one is not activity
			expectStatus(t, h.do("alice", http.MethodGet, "/sessions/"+strconv.Itoa(idle), nil), http.StatusOK)
		}
		clk.Add(11 * time.Minute)
		got := r.Pass(context.Background())
		if len(got) != 1 || got[0].SessionID != idle {
			t.Fatalf("owner cache %v: reaped %+v", ownerTTL, got)
		}
		for _, item := range []string{strconv.Itoa(idle), "nb"} {
			a := h.do("alice", http.MethodPost, "/sessions/"+item+"/statements", map[string]any{"code": "1+1"})
			expectStatus(t, a, http.StatusNotFound)
			if m := a.msg(t); !strings.Contains(m, "was ended by livygate") || !strings.Contains(m, "idle for 31m (reaper.idle_after 30m)") {
				t.Errorf("owner cache %v, %s: %q", ownerTTL, item, m)
			}
		}
		a := h.do("bob", http.MethodPost, "/sessions/"+strconv.Itoa(idle)+"/statements", map[string]any{"code": "1"})
		expectStatus(t, a, http.StatusNotFound)
		if a.msg(t) != "Session '"+strconv.Itoa(idle)+"' not found." {
			t.Errorf("bob sees %q", a.msg(t))
		}
		a = h.do("carol", http.MethodGet, "/sessions/"+strconv.Itoa(idle), nil)
		if !strings.Contains(a.msg(t), "was ended by livygate") {
			t.Errorf("admin sees %q", a.msg(t))
		}
		expectStatus(t, h.do("alice", http.MethodGet, "/sessions/"+strconv.Itoa(used), nil), http.StatusOK)
	}
}

// refuseAll is a Governor that admits nothing, as limits over their count do.
type refuseAll struct{}

type overLimit struct{}

func (overLimit) Error() string   { return "you have 3 live sessions; the limit is 3" }
func (overLimit) HTTPStatus() int { return http.StatusTooManyRequests }

func (refuseAll) Admit(context.Context, livy.Resource, *auth.Identity, string, map[string]json.RawMessage) (func(), error) {
	return nil, overLimit{}
}
func (refuseAll) Used(livy.Resource, int, string, string)            {}
func (refuseAll) Ended(livy.Resource, string) (string, string, bool) { return "", "", false }

// A create over a limit is refused before the conf is finished: no token is
// minted or written and no secret resolved for it.
func TestLimitsComeBeforeTheConfIsFinished(t *testing.T) {
	finished := 0
	h := newHarness(t, func(o *proxy.Options, _ *policy.Config) {
		o.Governor = refuseAll{}
		o.FinishConf = func(_ context.Context, _ *auth.Identity, _ string, conf map[string]string) (map[string]string, error) {
			finished++
			return conf, nil
		}
	})
	a := h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark", "conf": map[string]string{"spark.x": "secret@db"}})
	expectStatus(t, a, http.StatusTooManyRequests)
	if finished != 0 {
		t.Errorf("the conf was finished %d times for a refused create", finished)
	}
	if n := h.livy.Count("sessions"); n != 0 {
		t.Errorf("Livy has %d sessions", n)
	}
}
