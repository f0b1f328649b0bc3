package proxy

import (
	"sync"
	"time"

	"github.com/livygate/livygate/livy"
)

// owner is what the gateway reads of a session to decide on a request.
type owner struct {
	user    string
	name    string   // its Livy name
	secrets []string // sensitive conf values, masked wherever Livy echoes them
}

// ownerCache remembers who owned a session id, so that steady polling of
// GET /{id} by its owner costs no extra Livy call. It never decides alone:
// a hit only lets the poll through, and the answer itself is checked before
// it is returned (see checkItemAnswer). Names are never cached: they are
// always resolved by Livy, since a name can be reused.
type ownerCache struct {
	ttl        time.Duration
	maxEntries int
	now        func() time.Time

	mu sync.RWMutex
	m  map[cacheKey]cached
	// pruned is when expired entries were last dropped: once a ttl, so
	// sessions that are never polled again do not stay until the bound.
	pruned time.Time
}

type cacheKey struct {
	res livy.Resource
	id  int
}

type cached struct {
	owner
	expires time.Time
}

func newOwnerCache(ttl time.Duration, maxEntries int, now func() time.Time) *ownerCache {
	return &ownerCache{ttl: ttl, maxEntries: maxEntries, now: now, m: map[cacheKey]cached{}}
}

func (c *ownerCache) get(res livy.Resource, id int) (owner, bool) {
	if c.ttl <= 0 {
		return owner{}, false
	}
	c.mu.RLock()
	e, ok := c.m[cacheKey{res, id}]
	c.mu.RUnlock()
	if !ok || c.now().After(e.expires) {
		return owner{}, false
	}
	return e.owner, true
}

func (c *ownerCache) put(res livy.Resource, id int, o owner) {
	if c.ttl <= 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.maxEntries || now.Sub(c.pruned) >= c.ttl {
		c.pruneLocked(now)
	}
	c.m[cacheKey{res, id}] = cached{owner: o, expires: now.Add(c.ttl)}
}

func (c *ownerCache) evict(res livy.Resource, id int) {
	c.mu.Lock()
	delete(c.m, cacheKey{res, id})
	c.mu.Unlock()
}

// pruneLocked drops expired entries, and everything if that is not enough:
// the cache is only an optimisation, and a refill costs one Livy call each.
func (c *ownerCache) pruneLocked(now time.Time) {
	c.pruned = now
	for k, e := range c.m {
		if now.After(e.expires) {
			delete(c.m, k)
		}
	}
	if len(c.m) >= c.maxEntries {
		clear(c.m)
	}
}
