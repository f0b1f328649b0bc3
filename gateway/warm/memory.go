package warm

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/livygate/livygate/gateway/store"
)

// Memory keeps warm sessions in the process, for a gateway without a store
// (one replica; a restart forgets them and the next pass deletes them as
// unknown).
type Memory struct {
	mu sync.Mutex
	m  map[string]store.WarmSession
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{m: map[string]store.WarmSession{}} }

// AddWarm implements store.WarmSessions.
func (r *Memory) AddWarm(_ context.Context, w store.WarmSession) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[w.Name] = w
	return nil
}

// WarmList implements store.WarmSessions.
func (r *Memory) WarmList(context.Context) ([]store.WarmSession, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]store.WarmSession, 0, len(r.m))
	for _, w := range r.m {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// WarmByName implements store.WarmSessions.
func (r *Memory) WarmByName(_ context.Context, name string) (store.WarmSession, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.m[name]
	if !ok {
		return w, store.ErrNotFound
	}
	return w, nil
}

// ClaimWarm implements store.WarmSessions.
func (r *Memory) ClaimWarm(_ context.Context, name, owner string, at time.Time) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.m[name]
	if !ok || w.Owner != owner || !w.Adopted.IsZero() {
		return false, nil
	}
	w.Adopted = at
	r.m[name] = w
	return true, nil
}

// DeleteWarm implements store.WarmSessions.
func (r *Memory) DeleteWarm(_ context.Context, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, name)
	return nil
}
