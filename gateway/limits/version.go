package limits

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/livygate/livygate/livy"
)

// BackendVersion knows which Livy release is behind the gateway: the one
// configured (livy.version), or the one Livy names at GET /version, asked
// once and remembered. A failed ask is retried at most every retryAfter.
type BackendVersion struct {
	fixed *livy.Version
	ask   func(ctx context.Context) (livy.Version, error)
	now   func() time.Time

	mu       sync.Mutex
	known    *livy.Version
	failedAt time.Time
	lastErr  error
}

// retryAfter spaces out the asks while Livy is down.
const retryAfter = 10 * time.Second

// NewBackendVersion returns the configured version when configured is set
// ("0.7.1"), else asks Livy through ask.
func NewBackendVersion(configured string, ask func(ctx context.Context) (livy.Version, error), now func() time.Time) (*BackendVersion, error) {
	if now == nil {
		now = time.Now
	}
	b := &BackendVersion{ask: ask, now: now}
	if configured != "" {
		v, err := livy.ParseVersion(configured)
		if err != nil {
			return nil, fmt.Errorf("livy.version: %w", err)
		}
		b.fixed = &v
	}
	return b, nil
}

// Get returns the backend's version.
func (b *BackendVersion) Get(ctx context.Context) (livy.Version, error) {
	if b.fixed != nil {
		return *b.fixed, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.known != nil {
		return *b.known, nil
	}
	if !b.failedAt.IsZero() && b.now().Sub(b.failedAt) < retryAfter {
		return livy.Version{}, b.lastErr
	}
	v, err := b.ask(ctx)
	if err != nil {
		b.failedAt, b.lastErr = b.now(), fmt.Errorf("asking Livy its version: %w", err)
		return livy.Version{}, b.lastErr
	}
	b.known = &v
	return v, nil
}
