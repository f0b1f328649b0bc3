package auth

import (
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// credKey identifies one (user, password) pair without holding either:
// HMAC-SHA256 under a key that is random per process.
type credKey [sha256.Size]byte

// CredentialCache remembers recently verified Basic credentials so that a
// notebook polling every second does not cost an LDAP bind per request.
//
// Neither user names nor passwords are stored: entries are keyed by
// HMAC-SHA256(k, user NUL password) with k random per process, so a memory
// dump does not even allow an offline guess without k. An entry lives for TTL
// from the moment the credentials were verified (a hit never extends it, so a
// password changed in the directory stops working within TTL), and the cache
// holds at most MaxEntries, dropping the least recently used.
//
// It is safe for concurrent use. The zero value is not usable; a nil
// *CredentialCache is a disabled cache.
type CredentialCache struct {
	ttl time.Duration
	max int

	hashers sync.Pool // of *hasher

	mu    sync.Mutex
	order *list.List // of *cacheEntry, most recently used first
	byKey map[credKey]*list.Element

	hits, misses atomic.Uint64
}

type cacheEntry struct {
	key     credKey
	id      Identity // private copy; Groups never aliased outside
	expires time.Time
}

// NewCredentialCache makes a cache. It returns nil, a disabled cache, when
// ttl or maxEntries is not positive.
func NewCredentialCache(ttl time.Duration, maxEntries int) *CredentialCache {
	if ttl <= 0 || maxEntries <= 0 {
		return nil
	}
	secret := make([]byte, 32)
	rand.Read(secret) // never fails: since Go 1.24 it crashes the program instead
	c := &CredentialCache{
		ttl:   ttl,
		max:   maxEntries,
		order: list.New(),
		byKey: make(map[credKey]*list.Element, min(maxEntries, 1024)),
	}
	c.hashers.New = func() any {
		return &hasher{mac: hmac.New(sha256.New, secret), buf: make([]byte, 0, 128)}
	}
	return c
}

// hasher is an HMAC keyed with the per-process key plus a scratch buffer, so
// that computing a key allocates nothing.
type hasher struct {
	mac hash.Hash
	buf []byte
	sum credKey
}

func (c *CredentialCache) key(user, password string) credKey {
	h := c.hashers.Get().(*hasher)
	h.buf = append(append(append(h.buf[:0], user...), 0), password...)
	h.mac.Reset()
	h.mac.Write(h.buf) // never fails
	h.mac.Sum(h.sum[:0])
	k := h.sum
	clear(h.buf) // do not leave the password lying in the pool
	if cap(h.buf) <= 1024 {
		c.hashers.Put(h)
	}
	return k
}

// Get returns a copy of the identity cached for these credentials, or nil.
func (c *CredentialCache) Get(user, password string, now time.Time) *Identity {
	if c == nil {
		return nil
	}
	k := c.key(user, password)
	c.mu.Lock()
	el, ok := c.byKey[k]
	if !ok {
		c.mu.Unlock()
		c.misses.Add(1)
		return nil
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.removeLocked(el)
		c.mu.Unlock()
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	c.order.MoveToFront(el)
	id := e.id
	c.mu.Unlock()
	id.Groups = slices.Clone(id.Groups)
	return &id
}

// Lookups counts the Gets that found credentials and those that did not,
// for the cache hit ratio.
func (c *CredentialCache) Lookups() (hits, misses uint64) {
	if c == nil {
		return 0, 0
	}
	return c.hits.Load(), c.misses.Load()
}

// Put remembers that these credentials verified as id, until now+TTL.
func (c *CredentialCache) Put(user, password string, id *Identity, now time.Time) {
	if c == nil || id == nil {
		return
	}
	k := c.key(user, password)
	e := &cacheEntry{key: k, id: *id, expires: now.Add(c.ttl)}
	e.id.Groups = slices.Clone(id.Groups)

	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[k]; ok {
		el.Value = e
		c.order.MoveToFront(el)
		return
	}
	c.byKey[k] = c.order.PushFront(e)
	// Least recently used entries sit at the back; expired ones there go
	// first, then whatever exceeds the bound.
	for back := c.order.Back(); back != nil && back != c.order.Front(); back = c.order.Back() {
		if c.order.Len() <= c.max && now.Before(back.Value.(*cacheEntry).expires) {
			break
		}
		c.removeLocked(back)
	}
}

// Len reports how many entries the cache holds, expired ones included until
// they are touched or evicted.
func (c *CredentialCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *CredentialCache) removeLocked(el *list.Element) {
	e := c.order.Remove(el).(*cacheEntry)
	delete(c.byKey, e.key)
}
