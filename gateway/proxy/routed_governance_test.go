package proxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sirupsen/logrus/hooks/test"

	"github.com/livygate/livygate/gateway/clocktest"
	"github.com/livygate/livygate/gateway/limits"
	"github.com/livygate/livygate/gateway/reaper"
	"github.com/livygate/livygate/livy"
)

func TestRoutedLimitsCountAUsersSessionsOnEveryBackend(t *testing.T) {
	r := newRouted(t)
	r.a.Add("sessions", map[string]any{"proxyUser": "alice"})
	r.b.Add("sessions", map[string]any{"proxyUser": "alice"})
	cfg := limits.Default()
	cfg.Default.MaxSessions = 2
	l, err := limits.New(cfg, limits.Deps{Livy: r.client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Admit(context.Background(), livy.Sessions, limits.Caller{User: "alice"}, "alice", map[string]json.RawMessage{})
	var refusal *limits.Refusal
	if !errors.As(err, &refusal) || refusal.Status != 429 {
		t.Fatalf("alice has one session on each backend; limit 2: %v", err)
	}
	release, err := l.Admit(context.Background(), livy.Sessions, limits.Caller{User: "bob"}, "bob", map[string]json.RawMessage{})
	if err != nil {
		t.Fatalf("bob has none: %v", err)
	}
	release()
}

func TestRoutedReaperEndsSessionsOnEveryBackendByGatewayID(t *testing.T) {
	r := newRouted(t)
	onA := r.createAs("alice", map[string]any{"kind": "pyspark"})
	onB := r.createAs("alice", map[string]any{"kind": "pyspark"})
	clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cfg := reaper.Default()
	cfg.IdleAfter = 30 * time.Minute
	quiet, _ := test.NewNullLogger()
	rp, err := reaper.New(cfg, reaper.Deps{Livy: r.client(), Now: clock.Now, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	rp.Pass(context.Background())
	clock.Add(31 * time.Minute)
	reaped := map[int]bool{}
	for _, a := range rp.Pass(context.Background()) {
		reaped[a.SessionID] = a.Error == ""
	}
	if len(reaped) != 2 || !reaped[onA] || !reaped[onB] {
		t.Errorf("reaped %v, want gateway ids %d and %d", reaped, onA, onB)
	}
	if r.a.Count("sessions")+r.b.Count("sessions") != 0 {
		t.Error("a reaped session is still on its backend")
	}
	gone := r.do("alice", "GET", path("sessions", onB), nil)
	if gone.status != 404 || gone.msg(t) == "" {
		t.Errorf("the reaped session: %d %s", gone.status, gone.body)
	}
}
