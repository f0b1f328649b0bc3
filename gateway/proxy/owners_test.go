package proxy

import (
	"testing"
	"time"

	"github.com/livygate/livygate/livy"
)

// Sessions that are never polled again leave the cache within about two
// ttls, not only when it reaches its bound.
func TestOwnerCacheDropsExpiredEntriesOnceATTL(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := newOwnerCache(time.Minute, 100, func() time.Time { return now })
	c.put(livy.Sessions, 1, owner{user: "alice"})
	now = now.Add(30 * time.Second)
	c.put(livy.Sessions, 2, owner{user: "bob"})
	now = now.Add(20 * time.Second) // 50 s after the first put: no pass yet
	c.put(livy.Sessions, 3, owner{user: "carol"})
	if len(c.m) != 3 {
		t.Fatalf("a pass ran before a ttl had gone by: %d entries", len(c.m))
	}
	now = now.Add(15 * time.Second) // 65 s: 1 has expired, 2 and 3 have not
	c.put(livy.Sessions, 4, owner{user: "dave"})
	if _, kept := c.m[cacheKey{livy.Sessions, 1}]; kept || len(c.m) != 3 {
		t.Fatalf("after a ttl the expired entry must go and the live ones stay: %v", c.m)
	}
	if o, ok := c.get(livy.Sessions, 2); !ok || o.user != "bob" {
		t.Fatalf("live entry lost: %v %v", o, ok)
	}
}
