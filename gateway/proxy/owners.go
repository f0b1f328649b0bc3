package proxy

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/livygate/livygate/livy"
)

// owner is what the gateway remembers of one session or batch.
type owner struct {
	user    string
	id      int
	name    string
	secrets []string // sensitive conf values, masked wherever Livy echoes them
	expires time.Time
}

// ownerCache maps a session's id and name to its owner, so steady polling
// costs no extra Livy call. Create and list fill it, delete evicts it, and
// entries expire after ttl so a session Livy dropped on its own is forgotten.
type ownerCache struct {
	ttl        time.Duration
	maxEntries int
	now        func() time.Time

	mu sync.RWMutex
	m  map[string]*owner
}

func newOwnerCache(ttl time.Duration, maxEntries int, now func() time.Time) *ownerCache {
	return &ownerCache{ttl: ttl, maxEntries: maxEntries, now: now, m: map[string]*owner{}}
}

// cacheKey names an item the way Livy resolves it: all digits is an id (so
// "007" and "7" are one session), anything else a name.
func cacheKey(res livy.Resource, item string) (string, bool) {
	if item != "" && strings.Trim(item, "0123456789") == "" {
		n, err := strconv.ParseInt(item, 10, 32)
		if err != nil {
			return "", false // Livy cannot parse it either
		}
		return string(res) + "#" + strconv.FormatInt(n, 10), true
	}
	return string(res) + "@" + item, true
}

func (c *ownerCache) get(res livy.Resource, item string) *owner {
	if c.ttl <= 0 {
		return nil
	}
	k, ok := cacheKey(res, item)
	if !ok {
		return nil
	}
	c.mu.RLock()
	o := c.m[k]
	c.mu.RUnlock()
	if o == nil || c.now().After(o.expires) {
		return nil
	}
	return o
}

func (c *ownerCache) put(res livy.Resource, o owner) {
	if c.ttl <= 0 {
		return
	}
	o.expires = c.now().Add(c.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.maxEntries {
		c.pruneLocked()
	}
	idKey, _ := cacheKey(res, strconv.Itoa(o.id))
	c.m[idKey] = &o
	if nameKey, ok := nameKeyOf(res, o.name); ok {
		c.m[nameKey] = &o
	}
}

// nameKeyOf is the key for a session's name. A name of digits only is never
// a key: Livy reads such a path segment as an id, and caching the name there
// would let a session named "5" claim session 5.
func nameKeyOf(res livy.Resource, name string) (string, bool) {
	if name == "" || strings.Trim(name, "0123456789") == "" {
		return "", false
	}
	return cacheKey(res, name)
}

// evict forgets a session under both its id and its name.
func (c *ownerCache) evict(res livy.Resource, o *owner) {
	c.mu.Lock()
	defer c.mu.Unlock()
	idKey, _ := cacheKey(res, strconv.Itoa(o.id))
	delete(c.m, idKey)
	if nameKey, ok := nameKeyOf(res, o.name); ok {
		delete(c.m, nameKey)
	}
}

// pruneLocked drops expired entries, and everything if that is not enough:
// the cache is only an optimisation, and a refill costs one Livy call each.
func (c *ownerCache) pruneLocked() {
	now := c.now()
	for k, o := range c.m {
		if now.After(o.expires) {
			delete(c.m, k)
		}
	}
	if len(c.m) >= c.maxEntries {
		clear(c.m)
	}
}
