package reaper

import (
	"sync"
	"time"
)

// Activity records when a user last did something in a session (a
// statement, a completion, a cancel). It is in-process today; several
// gateway replicas would share one behind this interface.
type Activity interface {
	Touch(id int, at time.Time)
	Last(id int) (time.Time, bool)
	Forget(id int)
}

// MemoryActivity is the in-process Activity.
type MemoryActivity struct {
	mu   sync.Mutex
	last map[int]time.Time
}

// NewMemoryActivity returns an empty MemoryActivity.
func NewMemoryActivity() *MemoryActivity {
	return &MemoryActivity{last: map[int]time.Time{}}
}

// Touch implements Activity.
func (m *MemoryActivity) Touch(id int, at time.Time) {
	m.mu.Lock()
	if at.After(m.last[id]) {
		m.last[id] = at
	}
	m.mu.Unlock()
}

// Last implements Activity.
func (m *MemoryActivity) Last(id int) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.last[id]
	return t, ok
}

// Forget implements Activity.
func (m *MemoryActivity) Forget(id int) {
	m.mu.Lock()
	delete(m.last, id)
	m.mu.Unlock()
}
