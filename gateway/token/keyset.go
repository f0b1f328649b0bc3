package token

import (
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"time"
)

// KeySet holds the signing key and the keys that only verify. A key that
// stops signing (a rotation) stays, verifying and published, until the last
// token it may have signed has expired, and then disappears.
type KeySet struct {
	now      func() time.Time
	lifetime time.Duration
	started  time.Time

	mu      sync.RWMutex
	signing *Key
	keys    map[string]*entry

	jwksMu   sync.Mutex
	jwks     []byte
	jwksTill time.Time // when the published set next changes
	version  int       // bumped by Load
	jwksVer  int
}

type entry struct {
	key     *Key
	created time.Time
	// until is when the key stops verifying; zero while it signs.
	until time.Time
	// retired: the key signed here until a rotation and is no longer
	// configured; it is kept across reloads until its time is up.
	retired bool
}

// KeyInfo describes one key for operators (admin pages, logs).
type KeyInfo struct {
	ID        string
	Algorithm string
	Created   time.Time
	Signing   bool
	// NotAfter is when a verify-only key is dropped; zero for the signing key.
	NotAfter  time.Time
	PublicPEM []byte
	jwk       JWK
}

// NewKeySet makes an empty set; lifetime is the longest a token lives.
func NewKeySet(lifetime time.Duration, now func() time.Time) *KeySet {
	if now == nil {
		now = time.Now
	}
	return &KeySet{now: now, lifetime: lifetime, started: now(), keys: map[string]*entry{}}
}

// Loaded is a key as configured, with when its file was written.
type Loaded struct {
	Key     *Key
	Created time.Time
}

// Load installs the configured keys (again, on SIGHUP). A key that signed
// here until a rotation keeps verifying for one token lifetime from then,
// across later reloads, even when it is gone from the configuration: rotating
// is replacing the signing key. Configured verify-only keys this process
// never signed with may have signed tokens until it started: they verify for
// one lifetime from then. Other keys that left the configuration are dropped
// at once; a compromised key that was signing here is revoked by removing it
// and restarting.
func (s *KeySet) Load(signing Loaded, verify []Loaded) error {
	if signing.Key == nil {
		return errors.New("no signing key")
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	next := map[string]*entry{}
	for id, e := range s.keys {
		if e.retired && now.Before(e.until) {
			next[id] = e
		}
	}
	if old := s.signing; old != nil && old.ID != signing.Key.ID {
		e := *s.keys[old.ID]
		e.until, e.retired = now.Add(s.lifetime), true
		next[old.ID] = &e
	}
	for _, v := range verify {
		if v.Key.ID == signing.Key.ID {
			continue
		}
		until := s.started.Add(s.lifetime)
		if kept, ok := next[v.Key.ID]; ok && kept.until.After(until) {
			until = kept.until
		} else if prev, ok := s.keys[v.Key.ID]; ok && !prev.until.IsZero() && prev.until.After(until) {
			until = prev.until
		}
		next[v.Key.ID] = &entry{key: v.Key, created: v.Created, until: until}
	}
	next[signing.Key.ID] = &entry{key: signing.Key, created: signing.Created}
	s.signing, s.keys = signing.Key, next
	s.version++
	return nil
}

// Signing returns the key that signs new tokens.
func (s *KeySet) Signing() *Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.signing
}

// Verifying returns the key with id when it may still verify tokens.
func (s *KeySet) Verifying(id string) (*Key, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.keys[id]
	if !ok || (!e.until.IsZero() && !s.now().Before(e.until)) {
		return nil, false
	}
	return e.key, true
}

// List describes the live keys, the signing key first.
func (s *KeySet) List() []KeyInfo {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []KeyInfo
	for _, e := range s.keys {
		if !e.until.IsZero() && !now.Before(e.until) {
			continue
		}
		out = append(out, KeyInfo{
			ID: e.key.ID, Algorithm: e.key.Algorithm, Created: e.created,
			Signing: e.until.IsZero(), NotAfter: e.until, PublicPEM: e.key.PublicPEM(), jwk: e.key.JWK(),
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Signing != out[j].Signing {
			return out[i].Signing
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// JWKS is the published key set as JSON, rebuilt only when it changes.
func (s *KeySet) JWKS() []byte {
	now := s.now()
	s.mu.RLock()
	version := s.version
	s.mu.RUnlock()
	s.jwksMu.Lock()
	defer s.jwksMu.Unlock()
	if s.jwks != nil && s.jwksVer == version && now.Before(s.jwksTill) {
		return s.jwks
	}
	doc := struct {
		Keys []JWK `json:"keys"`
	}{Keys: []JWK{}}
	till := now.Add(time.Hour)
	for _, k := range s.List() {
		doc.Keys = append(doc.Keys, k.jwk)
		if !k.NotAfter.IsZero() && k.NotAfter.Before(till) {
			till = k.NotAfter
		}
	}
	s.jwks, _ = json.Marshal(doc)
	s.jwksVer, s.jwksTill = version, till
	return s.jwks
}
