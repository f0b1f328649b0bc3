package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/limits"
	"github.com/livygate/livygate/gateway/reaper"
)

// BenchmarkCreate is POST /sessions through the whole chain, with Livy (the
// fake) holding 100 sessions of other users and 2 of the caller's: "plain"
// without governance, "limits" with every limit and timeout configured
// (one extra list call to count, the body checked and completed). `make
// bench` (part governance) prints the ratios; "limits-without-count" leaves
// out max_sessions, so the list call's share shows.
func BenchmarkCreate(b *testing.B) {
	lc := limits.Default()
	lc.Default = limits.Set{MaxSessions: 1000, MaxDriverMemory: "4g", MaxExecutorMemory: "8g", MaxDriverCores: 4,
		MaxExecutorCores: 4, MaxExecutors: 10, Queues: []string{"default", "analysts"}, DefaultQueue: "analysts"}
	lc.Overrides = []limits.Override{{Groups: []string{"etl"}}, {Groups: []string{"interns"}}}
	lc.Timeouts.TTL = limits.Timeout{Default: 8 * time.Hour, Max: 24 * time.Hour}
	lc.Timeouts.IdleTimeout = limits.Timeout{Default: time.Hour, Max: 8 * time.Hour}
	lc.Timeouts.HeartbeatTimeout = limits.Timeout{Max: time.Hour}
	rc := reaper.Default()
	rc.IdleAfter = time.Hour
	body := `{"kind":"pyspark","driverMemory":"2g","executorMemory":"4g","numExecutors":4,"ttl":"3650d",` +
		`"heartbeatTimeoutInSecond":60,"conf":{"spark.executor.cores":"2","spark.sql.shuffle.partitions":"64"}}`
	b.Run("plain", func(b *testing.B) { benchCreate(b, newHarness(b), body) })
	b.Run("limits", func(b *testing.B) {
		h, _, _ := governed(b, lc, rc, time.Minute)
		benchCreate(b, h, body)
	})
	// The same without max_sessions: the checks and rewrite without the count.
	nocount := lc
	nocount.Default.MaxSessions = 0
	b.Run("limits-without-count", func(b *testing.B) {
		h, _, _ := governed(b, nocount, rc, time.Minute)
		benchCreate(b, h, body)
	})
}

func benchCreate(b *testing.B, h *harness, body string) {
	h.livy.NoRecord = true
	for i := 0; i < 100; i++ {
		h.livy.Add("sessions", map[string]any{"proxyUser": "user" + itoa(i%10), "kind": "pyspark"})
	}
	h.livy.Add("sessions", map[string]any{"proxyUser": "alice"})
	h.livy.Add("sessions", map[string]any{"proxyUser": "alice"})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(http.MethodPost, h.gateway.URL+"/sessions", strings.NewReader(body))
		req.SetBasicAuth("alice", "pw")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Requested-By", "bench")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		var s struct{ ID int }
		_ = json.Unmarshal(raw, &s)
		h.livy.Remove("sessions", s.ID) // keep Livy's list the same size
	}
}
