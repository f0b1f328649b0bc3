// Package audittest holds the audit sink that tests assert on.
package audittest

import (
	"sync"

	"github.com/livygate/livygate/gateway/audit"
)

// Recorder is an audit.Sink that keeps every event, as the log sink would
// see them. Safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

// Record keeps e.
func (r *Recorder) Record(e audit.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// All returns the events recorded so far, oldest first.
func (r *Recorder) All() []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]audit.Event(nil), r.events...)
}

// Find returns the events recorded so far of one action (audit.ActionOf).
func (r *Recorder) Find(action string) []audit.Event {
	var out []audit.Event
	for _, e := range r.All() {
		if audit.ActionOf(e.Method, e.Path) == action {
			out = append(out, e)
		}
	}
	return out
}
