package route

import (
	"context"
	"errors"
	"sync"

	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/livy"
)

// registry is the store's id registry with an in-memory copy of what this
// replica has seen, so a poll costs no database round trip. It only maps:
// who owns a session is always read from Livy's answer.
type registry struct {
	store store.IDs

	mu    sync.RWMutex
	byID  map[int]store.IDMapping
	byInc map[incarnation]int
}

// incarnation is one session or batch: a Livy id reused after a restart
// comes back with another owner or name, and so gets another gateway id.
type incarnation struct {
	res         livy.Resource
	backend     string
	livyID      int
	owner, name string
}

func incarnationOf(res livy.Resource, backend string, s *livy.Brief) incarnation {
	return incarnation{res: res, backend: backend, livyID: s.ID, owner: s.User(), name: s.SessionName()}
}

func (i incarnation) mapping(id int) store.IDMapping {
	return store.IDMapping{ID: id, Resource: string(i.res), Backend: i.backend, LivyID: i.livyID, Owner: i.owner, Name: i.name}
}

func newRegistry(s store.IDs) *registry {
	return &registry{store: s, byID: map[int]store.IDMapping{}, byInc: map[incarnation]int{}}
}

func (g *registry) cached(id int) (store.IDMapping, bool) {
	g.mu.RLock()
	m, ok := g.byID[id]
	g.mu.RUnlock()
	return m, ok
}

func (g *registry) keep(m store.IDMapping) {
	g.mu.Lock()
	g.byID[m.ID] = m
	g.byInc[incarnation{livy.Resource(m.Resource), m.Backend, m.LivyID, m.Owner, m.Name}] = m.ID
	g.mu.Unlock()
}

// lookup is what id stands for; ok is false for an id never given.
func (g *registry) lookup(ctx context.Context, id int) (m store.IDMapping, ok bool, err error) {
	if m, ok := g.cached(id); ok {
		return m, true, nil
	}
	m, err = g.store.MappedID(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return m, false, nil
	case err != nil:
		return m, false, registryDown(err)
	}
	g.keep(m)
	return m, true, nil
}

// idOf is the gateway id of a session seen on a backend, given one now if
// it has none yet (made before, elsewhere, or while the store was down).
func (g *registry) idOf(ctx context.Context, inc incarnation) (int, error) {
	g.mu.RLock()
	id, ok := g.byInc[inc]
	g.mu.RUnlock()
	if ok {
		return id, nil
	}
	id, err := g.store.NewID(ctx)
	if err != nil {
		return 0, registryDown(err)
	}
	return g.bind(ctx, id, inc)
}

// bind maps id to inc, or returns the id another replica mapped it to
// first. When the store does not answer, this replica still serves id
// from memory: the error is for the log.
func (g *registry) bind(ctx context.Context, id int, inc incarnation) (int, error) {
	m, err := g.store.MapID(ctx, inc.mapping(id))
	if err != nil {
		g.keep(inc.mapping(id))
		return id, registryDown(err)
	}
	g.keep(m)
	return m.ID, nil
}
