package token

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func BenchmarkMint(b *testing.B) {
	for _, alg := range Algorithms {
		b.Run(alg, func(b *testing.B) {
			m, _ := newAlgMinter(b, alg)
			groups := []string{"analysts", "data-eng"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.Mint("alice", groups); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mints/s")
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range Algorithms {
		b.Run(alg, func(b *testing.B) {
			m, _ := newAlgMinter(b, alg)
			tok, err := m.Mint("alice", []string{"analysts", "data-eng"})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if v, err := m.Verify(tok.Token); err != nil || v.User != "alice" {
					b.Fatal(v, err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
		})
	}
}

// benchKeySet is a set as after one rotation: a signing key and a retired one.
func benchKeySet(b *testing.B) *KeySet {
	c := newTestClock()
	old, _ := testKey(b, "RS256", 0)
	cur, _ := testKey(b, "ES256", 0)
	ks := NewKeySet(testLifetime, c.Now)
	if err := ks.Load(Loaded{Key: old}, nil); err != nil {
		b.Fatal(err)
	}
	if err := ks.Load(Loaded{Key: cur}, nil); err != nil {
		b.Fatal(err)
	}
	return ks
}

func serveBench(b *testing.B, h http.Handler) {
	req := httptest.NewRequest(http.MethodGet, JWKSPath, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			b.Fatalf("status %d, %d bytes", rec.Code, rec.Body.Len())
		}
	}
}

// BenchmarkJWKS serves the JWKS through Published.
func BenchmarkJWKS(b *testing.B) {
	serveBench(b, http.HandlerFunc(Published{Keys: benchKeySet(b)}.JWKS))
}

// BenchmarkBaselineHandler writes the same bytes and headers with no routing
// and no key set: the floor BenchmarkJWKS is measured against.
func BenchmarkBaselineHandler(b *testing.B) {
	body := benchKeySet(b).JWKS()
	serveBench(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(body)
	}))
}
