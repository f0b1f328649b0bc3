package gateway

import (
	"net/http"
	"strings"
	"testing"
)

// /metrics is the gateway's own Prometheus series, for admins; Livy's JSON
// moved to /admin/livy/metrics. No user name ever becomes a label value.
func TestMetricsForAdmins(t *testing.T) {
	h := newTokenHarness(t, "conf")
	alice := h.bearer("alice", "analysts")
	carol := h.bearer("carol", "livygate-admins")
	if st, b := h.do(alice, http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"}); st != http.StatusCreated {
		t.Fatalf("create: %d %s", st, b)
	}
	h.do(alice, http.MethodGet, "/sessions", nil)
	h.do(alice[:len(alice)-4]+"AAAA", http.MethodGet, "/sessions", nil) // a forged signature
	if st, _ := h.do(alice, http.MethodGet, "/metrics", nil); st != http.StatusForbidden {
		t.Errorf("a user reads /metrics: %d", st)
	}
	st, body := h.do(carol, http.MethodGet, "/metrics", nil)
	if st != http.StatusOK {
		t.Fatalf("admin /metrics: %d %s", st, body)
	}
	text := string(body)
	for _, want := range []string{
		`livygate_http_requests_total{code="201",method="POST",route="livy"} 1`,
		`livygate_http_request_duration_seconds_bucket{route="livy"`,
		`livygate_livy_request_duration_seconds_count{method="POST"} 1`,
		`livygate_authentications_total{method="bearer",outcome="ok"}`,
		`livygate_authentications_total{method="bearer",outcome="invalid"} 1`,
		`livygate_tokens_minted_total{algorithm="ES256"} 1`, // delivered into the session's conf
		`livygate_store_queue_depth`,
		`livygate_requests_active `,
		`livygate_requests_waiting 0`,
		`livygate_proxy_requests_in_flight 0`,
		`livygate_proxy_requests_waiting 0`,
		`livygate_build_info{goversion=`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
			for _, l := range strings.Split(text, "\n") {
				if strings.HasPrefix(l, want[:strings.IndexAny(want, "{ ")]) {
					t.Log(l)
				}
			}
		}
	}
	for _, user := range []string{"alice", "carol", "analysts"} {
		if strings.Contains(text, `"`+user+`"`) {
			t.Errorf("a label names %s", user)
		}
	}
	if st, b := h.do(carol, http.MethodGet, "/admin/livy/metrics", nil); st != http.StatusOK || !strings.Contains(string(b), `"gauges"`) {
		t.Errorf("Livy's metrics for admins: %d %s", st, b)
	}
	if st, _ := h.do(alice, http.MethodGet, "/admin/livy/metrics", nil); st != http.StatusForbidden {
		t.Errorf("a user reads Livy's metrics: %d", st)
	}
}
