package reaper

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkPass is one reaper pass over 10,000 live sessions of 1,000 users
// (the fake Livy; the fake Hub says half the users' servers run, the others
// stopped a minute ago), with nothing due: the list call, the tracking, the
// Hub's active-server list. BenchmarkListCall is the one list call alone,
// the baseline. `make bench` (part governance) prints the ratio.
func BenchmarkPass(b *testing.B) {
	g := benchRig(b)
	g.r.Pass(context.Background()) // first sight, and every stopped user asked once
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if got := g.r.Pass(context.Background()); len(got) != 0 {
			b.Fatalf("reaped %d", len(got))
		}
	}
}

func BenchmarkListCall(b *testing.B) {
	g := benchRig(b)
	lc := livyClient(b, g.livy.URL())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		entries, err := lc.ListAll(context.Background(), "sessions")
		if err != nil || len(entries) != 10_000 {
			b.Fatalf("%d %v", len(entries), err)
		}
	}
}

func benchRig(b *testing.B) *rig {
	g := newRig(b, cfgWith(24*time.Hour, 24*time.Hour))
	g.livy.NoRecord = true
	for u := 0; u < 1000; u++ {
		user := fmt.Sprintf("user%04d", u)
		if u%2 == 0 {
			g.hub.StartServer(user, t0)
		} else {
			g.hub.StopServer(user, t0.Add(-time.Minute))
		}
	}
	for i := 0; i < 10_000; i++ {
		id := g.livy.Add("sessions", map[string]any{"proxyUser": fmt.Sprintf("user%04d", i%1000), "kind": "pyspark",
			"name": fmt.Sprintf("s%d", i), "conf": map[string]any{"spark.executor.memory": "2g"}})
		if i%10 == 0 {
			g.livy.SetState("sessions", id, "busy")
		}
	}
	return g
}
