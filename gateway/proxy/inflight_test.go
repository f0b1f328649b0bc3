package proxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/proxy"
)

// livy.max_connections also bounds the requests proxied at once: the rest
// wait before any work is done for them, and one whose client leaves while
// waiting never reaches Livy.
func TestMaxInFlightBoundsTheRequestsProxiedAtOnce(t *testing.T) {
	var now, peak, seen atomic.Int32
	release := make(chan struct{})
	var once sync.Once
	releaseAll := func() { once.Do(func() { close(release) }) }
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		n := now.Add(1)
		defer now.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"version":"0.9.0"}`))
	}))
	t.Cleanup(upstream.Close)
	h := newHarnessFor(t, nil, upstream.URL, func(o *proxy.Options, _ *policy.Config) { o.MaxInFlight = 2 })
	t.Cleanup(releaseAll) // runs first (cleanups run last-in first-out): a test stopped early must not hang the servers' Close

	get := func(ctx context.Context) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.gateway.URL+"/version", nil)
		req.SetBasicAuth("carol", "pw") // /version is for admins
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	var wg sync.WaitGroup
	statuses := make(chan int, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := get(context.Background())
			if err != nil {
				t.Error(err)
			}
			statuses <- st
		}()
	}
	waitFor(t, func() bool { return seen.Load() == 2 })
	waitFor(t, func() bool { inFlight, waiting := h.proxy.Load(); return inFlight == 2 && waiting == 4 })
	// A seventh whose client gives up while it waits its turn.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := get(ctx); err == nil {
		t.Fatal("the request that waited past its client's deadline was answered")
	}
	if n := seen.Load(); n != 2 {
		t.Fatalf("Livy got %d requests while 2 were in flight, want 2", n)
	}
	// The seventh's handler learns its client left when the connection
	// closes, a moment later.
	waitFor(t, func() bool { inFlight, waiting := h.proxy.Load(); return inFlight == 2 && waiting == 4 })
	releaseAll()
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != http.StatusOK {
			t.Fatalf("a waiting request got %d, want 200", st)
		}
	}
	// A turn is given back once the handler returns, just after its answer.
	waitFor(t, func() bool { inFlight, waiting := h.proxy.Load(); return inFlight == 0 && waiting == 0 })
	if p := peak.Load(); p != 2 {
		t.Fatalf("Livy saw %d requests at once, want at most (and, here, exactly) 2", p)
	}
	if n := seen.Load(); n != 6 {
		t.Fatalf("Livy got %d requests, want the 6 whose clients waited (not the one that left)", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
