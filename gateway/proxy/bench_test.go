package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"
)

// BenchmarkGatewayGetSession is the polling request Sparkmagic repeats most,
// through the whole chain (scope, logging, auth, ownership, redaction, proxy).
// BenchmarkBareProxyGetSession is the same request through a bare
// httputil.ReverseProxy: the baseline. `make bench` prints the ratio.
func BenchmarkGatewayGetSession(b *testing.B) {
	h := newHarness(b)
	h.livy.NoRecord = true
	id := h.createAs("alice", map[string]any{"kind": "pyspark"})
	url := h.gateway.URL + "/sessions/" + itoa(id)
	benchGet(b, url, true)
}

func BenchmarkBareProxyGetSession(b *testing.B) {
	h := newHarness(b)
	h.livy.NoRecord = true
	id := h.createAs("alice", map[string]any{"kind": "pyspark"})
	u, _ := url.Parse(h.livy.URL())
	bare := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }})
	defer bare.Close()
	benchGet(b, bare.URL+"/sessions/"+itoa(id), true)
}

func benchGet(b *testing.B, url string, auth bool) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.SetBasicAuth("alice", "pw")
		for pb.Next() {
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

func itoa(n int) string { return string(rune('0' + n)) }

// BenchmarkGatewayBackends compares, in one run, the gateway in front of
// one Livy (livy.url, Livy's own ids) with the gateway in front of two
// (livy.backends: the Router, the gateway's ids, in-memory registry): the
// poll Sparkmagic repeats, and a create.
func BenchmarkGatewayBackends(b *testing.B) {
	setups := []struct {
		name string
		new  func(b *testing.B) *harness
	}{
		{"one", func(b *testing.B) *harness { return newHarness(b) }},
		{"two", func(b *testing.B) *harness {
			r := newRouted(b)
			r.b.NoRecord = true
			return r.harness
		}},
	}
	for _, s := range setups {
		b.Run("poll/"+s.name, func(b *testing.B) {
			h := s.new(b)
			h.livy.NoRecord = true
			id := h.createAs("alice", map[string]any{"kind": "pyspark"})
			benchGet(b, h.gateway.URL+"/sessions/"+strconv.Itoa(id), true)
		})
	}
	for _, s := range setups {
		b.Run("create/"+s.name, func(b *testing.B) {
			h := s.new(b)
			h.livy.NoRecord = true
			b.ReportAllocs()
			for b.Loop() {
				h.createAs("alice", map[string]any{"kind": "pyspark"})
			}
		})
	}
}
