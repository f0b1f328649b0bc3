package ui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/livygate/livygate/jupyterhub"
	"github.com/livygate/livygate/livy"
)

// errNotConfigured marks a backend the gateway was not configured with.
var errNotConfigured = errors.New("not configured")

// hubCache keeps the Hub's user list briefly: the Users page must not page
// through 10,000 users on every load.
type hubCache struct {
	hub HubUsers
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	users   []jupyterhub.User // sorted by name
	fetched time.Time
}

func (c *hubCache) get(ctx context.Context) ([]jupyterhub.User, error) {
	if c.hub == nil {
		return nil, errNotConfigured
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.users != nil && c.now().Sub(c.fetched) < c.ttl {
		return c.users, nil
	}
	users, err := c.hub.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	people := users[:0:0]
	for _, u := range users {
		if u.Kind == "" || u.Kind == "user" {
			people = append(people, u)
		}
	}
	sort.Slice(people, func(i, j int) bool { return people[i].Name < people[j].Name })
	c.users, c.fetched = people, c.now()
	return people, nil
}

// livyCache keeps Livy's session and batch lists a few seconds, so the
// Overview and Users pages share one look-up. A kill forgets it.
type livyCache struct {
	livy Livy
	ttl  time.Duration
	now  func() time.Time

	mu       sync.Mutex
	sessions []livy.Entry
	batches  []livy.Entry
	fetched  time.Time
}

func (c *livyCache) get(ctx context.Context) (sessions, batches []livy.Entry, err error) {
	if c.livy == nil {
		return nil, nil, errNotConfigured
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fetched.IsZero() && c.now().Sub(c.fetched) < c.ttl {
		return c.sessions, c.batches, nil
	}
	if sessions, err = c.livy.List(ctx, livy.Sessions); err != nil {
		return nil, nil, err
	}
	if batches, err = c.livy.List(ctx, livy.Batches); err != nil {
		return nil, nil, err
	}
	c.sessions, c.batches, c.fetched = sessions, batches, c.now()
	return sessions, batches, nil
}

func (c *livyCache) forget() {
	c.mu.Lock()
	c.fetched = time.Time{}
	c.mu.Unlock()
}

// live reports whether a Livy state is one of a running session or batch.
func live(state string) bool {
	switch state {
	case "dead", "killed", "success", "error", "shutting_down":
		return false
	}
	return true
}

// probeCache runs the reachability probes concurrently, each with its own
// short timeout, and keeps the answers a few seconds so reloading the
// Overview does not hammer the backends.
type probeCache struct {
	probes  []Probe
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time

	mu      sync.Mutex
	results []probeResult
	checked time.Time
}

type probeResult struct {
	Name     string
	OK       bool
	Error    string
	Duration time.Duration
}

func (c *probeCache) get(ctx context.Context) []probeResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.results != nil && c.now().Sub(c.checked) < c.ttl {
		return c.results
	}
	out := make([]probeResult, len(c.probes))
	var wg sync.WaitGroup
	for i, p := range c.probes {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			start := time.Now()
			// A check that ignores its context (an HDFS dial) must not hold
			// the page: stop waiting at the timeout.
			errc := make(chan error, 1)
			go func() { errc <- p.Check(pctx) }()
			var err error
			select {
			case err = <-errc:
			case <-pctx.Done():
				err = fmt.Errorf("no answer within %s", c.timeout)
			}
			out[i] = probeResult{Name: p.Name, OK: err == nil, Duration: time.Since(start)}
			if err != nil {
				out[i].Error = err.Error()
			}
		})
	}
	wg.Wait()
	c.results, c.checked = out, c.now()
	return out
}

// syncState allows one sync started from the UI at a time (the Syncer's
// flock also keeps it apart from cron and the timer).
type syncState struct {
	mu      sync.Mutex
	running bool
	dryRun  bool
	by      string
	started time.Time
}

func (s *syncState) start(dryRun bool, by string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return false
	}
	s.running, s.dryRun, s.by, s.started = true, dryRun, by, now
	return true
}

func (s *syncState) done() {
	s.mu.Lock()
	s.running = false
	s.mu.Unlock()
}

type syncStatus struct {
	Running bool
	DryRun  bool
	By      string
	Started time.Time
}

func (s *syncState) status() syncStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return syncStatus{s.running, s.dryRun, s.by, s.started}
}
