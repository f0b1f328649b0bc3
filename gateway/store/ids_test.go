package store

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// testIDs: ids drawn by replicas sharing one database never repeat, and one
// incarnation mapped by two replicas at once gets one id.
func testIDs(t *testing.T, b backend) {
	ctx := context.Background()
	o := b.fresh(t)
	a, other := reopen(t, o, Options{}), reopen(t, o, Options{})
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := []*SQL{a, other}[i%2].NewID(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[id] {
				t.Errorf("id %d drawn twice", id)
			}
			seen[id] = true
		}()
	}
	wg.Wait()

	first, _ := a.NewID(ctx)
	second, _ := other.NewID(ctx)
	alice := IDMapping{ID: first, Resource: "sessions", Backend: "emr-a", LivyID: 0, Owner: "alice", Name: "alice~etl"}
	got, err := a.MapID(ctx, alice)
	if err != nil || got.ID != first || got.Owner != "alice" {
		t.Fatalf("map: %+v %v", got, err)
	}
	again := alice
	again.ID = second
	if got, err := other.MapID(ctx, again); err != nil || got.ID != first {
		t.Errorf("the same incarnation mapped again: %+v %v, want id %d", got, err, first)
	}
	// Livy restarted from 0: bob's session 0 is another incarnation.
	bob := IDMapping{ID: second, Resource: "sessions", Backend: "emr-a", LivyID: 0, Owner: "bob", Name: "bob~~x"}
	if got, err := other.MapID(ctx, bob); err != nil || got.ID != second {
		t.Errorf("a new incarnation: %+v %v, want id %d", got, err, second)
	}
	if got, err := a.MappedID(ctx, first); err != nil || got.Owner != "alice" || got.Backend != "emr-a" {
		t.Errorf("MappedID(%d) = %+v %v", first, got, err)
	}
	if _, err := a.MappedID(ctx, 999999); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown id: %v", err)
	}
}
