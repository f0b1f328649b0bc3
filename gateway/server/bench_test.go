package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/livygate/livygate/gateway/auth"
)

// BenchmarkRoute is the routing and middleware cost alone (no network, no
// Livy): a Livy poll, which takes the hot path past the table, and a
// table route.
func BenchmarkRoute(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	h := newTestServer(fixedAuth{id: &auth.Identity{User: "alice"}}, ok, Default()).Handler()
	for _, path := range []string{"/sessions/1", "/healthz"} {
		b.Run(path, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
