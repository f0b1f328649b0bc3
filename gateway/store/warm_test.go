package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Warm sessions: whom each is for is stored once; only its owner can
// adopt it, only once, from any replica.
func testWarmSessions(t *testing.T, b backend) {
	ctx := context.Background()
	a, other := b.replicas(t, Options{})
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	w := WarmSession{Name: "alice~~warm-1", Owner: "alice", Kind: "pyspark", SessionID: 3, Body: `{"kind":"pyspark"}`, Created: at}
	if err := a.AddWarm(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := other.AddWarm(ctx, w); err == nil {
		t.Error("the same warm name was recorded twice")
	}
	got, err := other.WarmByName(ctx, w.Name)
	if err != nil || got.Owner != "alice" || got.SessionID != 3 || got.Body != w.Body || !got.Created.Equal(at) || !got.Adopted.IsZero() {
		t.Fatalf("WarmByName: %+v %v", got, err)
	}
	if _, err := a.WarmByName(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown name: %v", err)
	}
	if ok, err := other.ClaimWarm(ctx, w.Name, "bob", at); ok || err != nil {
		t.Fatalf("bob claimed alice's warm session: %v %v", ok, err)
	}
	if ok, err := other.ClaimWarm(ctx, w.Name, "alice", at.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("alice's claim: %v %v", ok, err)
	}
	if ok, _ := a.ClaimWarm(ctx, w.Name, "alice", at.Add(2*time.Minute)); ok {
		t.Fatal("a second adoption succeeded")
	}
	list, err := a.WarmList(ctx)
	if err != nil || len(list) != 1 || !list[0].Adopted.Equal(at.Add(time.Minute)) {
		t.Fatalf("WarmList: %+v %v", list, err)
	}
	if err := a.DeleteWarm(ctx, w.Name); err != nil {
		t.Fatal(err)
	}
	if list, _ := other.WarmList(ctx); len(list) != 0 {
		t.Fatalf("after delete: %+v", list)
	}
}
