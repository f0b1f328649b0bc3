package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestCredentialCacheBoundsAndLRU(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := NewCredentialCache(time.Minute, 3)
	put := func(u string) { c.Put(u, "pw-"+u, &Identity{User: u}, now) }
	has := func(u string) bool { return c.Get(u, "pw-"+u, now) != nil }

	put("a")
	put("b")
	put("c")
	if c.Len() != 3 {
		t.Fatalf("Len = %d, want 3", c.Len())
	}
	if !has("a") { // a becomes the most recently used; b is now the oldest
		t.Fatal("a missing")
	}
	put("d")
	if c.Len() != 3 {
		t.Fatalf("Len = %d after exceeding the bound, want 3", c.Len())
	}
	if has("b") {
		t.Error("b, the least recently used, was not evicted")
	}
	for _, u := range []string{"a", "c", "d"} {
		if !has(u) {
			t.Errorf("%s evicted, want kept", u)
		}
	}

	// Many more entries than the bound: never more than MaxEntries.
	for i := range 1000 {
		put(fmt.Sprint("user", i))
		if c.Len() > 3 {
			t.Fatalf("Len = %d > 3 after %d puts", c.Len(), i)
		}
	}

	// Re-putting an existing key replaces it in place.
	c2 := NewCredentialCache(time.Minute, 2)
	c2.Put("a", "pw", &Identity{User: "a", Groups: []string{"g1"}}, now)
	c2.Put("a", "pw", &Identity{User: "a", Groups: []string{"g2"}}, now)
	if c2.Len() != 1 {
		t.Fatalf("Len = %d after re-put, want 1", c2.Len())
	}
	if id := c2.Get("a", "pw", now); id == nil || id.Groups[0] != "g2" {
		t.Fatalf("re-put did not replace the entry: %+v", id)
	}
}

func TestCredentialCacheExpiry(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	c := NewCredentialCache(30*time.Second, 10)
	c.Put("alice", "pw", &Identity{User: "alice"}, t0)

	tests := []struct {
		at   time.Duration
		want bool
	}{
		{0, true},
		{29 * time.Second, true},
		{30 * time.Second, false}, // expiry is exclusive
	}
	for _, tt := range tests {
		if got := c.Get("alice", "pw", t0.Add(tt.at)) != nil; got != tt.want {
			t.Errorf("Get at +%v: hit = %v, want %v", tt.at, got, tt.want)
		}
	}
	if c.Len() != 0 {
		t.Errorf("expired entry still held after a miss: Len = %d", c.Len())
	}

	// Expired entries at the back make room before live ones are evicted.
	c = NewCredentialCache(30*time.Second, 3)
	c.Put("old", "pw", &Identity{User: "old"}, t0)
	c.Put("live1", "pw", &Identity{User: "live1"}, t0.Add(20*time.Second))
	c.Put("live2", "pw", &Identity{User: "live2"}, t0.Add(40*time.Second))
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2 (the expired entry dropped)", c.Len())
	}
}

func TestCredentialCacheKeys(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := NewCredentialCache(time.Minute, 10)
	c.Put("ab", "c", &Identity{User: "ab"}, now)

	misses := []struct{ user, password string }{
		{"a", "bc"},    // the NUL separator keeps the boundary
		{"ab", "C"},    // passwords are exact
		{"AB", "c"},    // names are as typed
		{"ab", "c "},   // no trimming
		{"ab\x00", ""}, // no ambiguity with an empty password
	}
	for _, m := range misses {
		if c.Get(m.user, m.password, now) != nil {
			t.Errorf("Get(%q, %q) hit the entry of (ab, c)", m.user, m.password)
		}
	}
	if c.Get("ab", "c", now) == nil {
		t.Fatal("exact credentials missed")
	}

	// Two caches (two processes) key the same credentials differently.
	c2 := NewCredentialCache(time.Minute, 10)
	if c.key("ab", "c") == c2.key("ab", "c") {
		t.Error("per-process keys are equal: the HMAC key is not random")
	}
	if k1, k2 := c.key("ab", "c"), c.key("ab", "c"); k1 != k2 {
		t.Error("key is not deterministic within a process")
	}
}

func TestCredentialCacheCopies(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := NewCredentialCache(time.Minute, 10)
	orig := &Identity{User: "carol", Groups: []string{"admins"}, Admin: true, Method: "ldap"}
	c.Put("carol", "pw", orig, now)
	orig.Groups[0] = "changed-after-put"

	got := c.Get("carol", "pw", now)
	if got.Groups[0] != "admins" || !got.Admin || got.Method != "ldap" {
		t.Fatalf("cache aliases the caller's identity: %+v", got)
	}
	got.Groups[0] = "changed-after-get"
	if again := c.Get("carol", "pw", now); again.Groups[0] != "admins" {
		t.Fatalf("cache aliases a returned identity: %+v", again)
	}
}

func TestCredentialCacheDisabled(t *testing.T) {
	for _, c := range []*CredentialCache{NewCredentialCache(0, 10), NewCredentialCache(time.Minute, 0)} {
		if c != nil {
			t.Fatal("a zero TTL or size should disable the cache")
		}
		now := time.Now()
		c.Put("a", "b", &Identity{User: "a"}, now) // nil receiver: no-op
		if c.Get("a", "b", now) != nil || c.Len() != 0 {
			t.Fatal("disabled cache returned an entry")
		}
	}
}

func TestCredentialCacheConcurrent(t *testing.T) {
	c := NewCredentialCache(time.Minute, 50)
	now := time.Now()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				u := fmt.Sprint("u", (g*31+i)%120)
				if c.Get(u, "pw", now) == nil {
					c.Put(u, "pw", &Identity{User: u, Groups: []string{"g"}}, now)
				}
			}
		})
	}
	wg.Wait()
	if c.Len() > 50 {
		t.Fatalf("Len = %d > bound 50", c.Len())
	}
}

func BenchmarkCredentialCacheHit(b *testing.B) {
	c := NewCredentialCache(time.Hour, 10_000)
	now := time.Now()
	for i := range 10_000 {
		c.Put(fmt.Sprint("user", i), "password", &Identity{User: "u", Groups: []string{"analysts"}}, now)
	}
	b.ReportAllocs()
	for b.Loop() {
		if c.Get("user42", "password", now) == nil {
			b.Fatal("miss")
		}
	}
}
