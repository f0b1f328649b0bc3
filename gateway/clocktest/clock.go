// Package clocktest is the settable clock that tests inject wherever code
// takes a `now func() time.Time` (the store's retention, the reaper's idle
// times, the limits' version cache).
package clocktest

import (
	"sync"
	"time"
)

// Clock is a time source that only moves when told to. Safe for concurrent
// use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock showing t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time; pass c.Now where a func() time.Time is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock forward by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
