package route

import (
	"context"
	"sync"

	"github.com/livygate/livygate/gateway/store"
)

// MemoryIDs is an in-memory store.IDs for tests and benchmarks. Down makes
// it fail as a store that is not reachable does.
type MemoryIDs struct {
	mu   sync.Mutex
	next int
	byID map[int]store.IDMapping
	Down bool
}

// NewMemoryIDs starts ids at first.
func NewMemoryIDs(first int) *MemoryIDs {
	return &MemoryIDs{next: first, byID: map[int]store.IDMapping{}}
}

var errMemoryDown = &unavailable{msg: "memory registry is down"}

// NewID implements store.IDs.
func (m *MemoryIDs) NewID(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Down {
		return 0, errMemoryDown
	}
	m.next++
	return m.next - 1, nil
}

// MapID implements store.IDs.
func (m *MemoryIDs) MapID(_ context.Context, im store.IDMapping) (store.IDMapping, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Down {
		return store.IDMapping{}, errMemoryDown
	}
	for _, e := range m.byID {
		if e.Resource == im.Resource && e.Backend == im.Backend && e.LivyID == im.LivyID && e.Owner == im.Owner && e.Name == im.Name {
			return e, nil
		}
	}
	m.byID[im.ID] = im
	return im, nil
}

// MappedID implements store.IDs.
func (m *MemoryIDs) MappedID(_ context.Context, id int) (store.IDMapping, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Down {
		return store.IDMapping{}, errMemoryDown
	}
	e, ok := m.byID[id]
	if !ok {
		return e, store.ErrNotFound
	}
	return e, nil
}
