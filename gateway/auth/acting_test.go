package auth

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestActingFor(t *testing.T) {
	alice := &Identity{User: "alice", Groups: []string{"analysts"}}
	carol := &Identity{User: "carol", Groups: []string{"admins"}, Admin: true}
	cases := []struct {
		caller  *Identity
		target  string
		allowed bool
		want    string
		err     error
	}{
		{alice, "", false, "alice", nil},
		{alice, "alice", false, "alice", nil},
		{alice, "bob", true, "", ErrMayNotActFor},
		{carol, "bob", false, "", ErrMayNotActFor},
		{carol, "bob", true, "bob", nil},
	}
	for _, c := range cases {
		got, err := ActingFor(c.caller, c.target, c.allowed)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("%s for %q (allowed %v): %q, %v", c.caller.User, c.target, c.allowed, got, err)
		}
	}
}

func TestGroupsActingForNeverLendsTheCallers(t *testing.T) {
	carol := &Identity{User: "carol", Groups: []string{"admins"}, Admin: true}
	ctx := context.Background()
	if g, _ := GroupsActingFor(ctx, carol, "carol", nil); !slices.Equal(g, carol.Groups) {
		t.Errorf("own groups: %v", g)
	}
	if g, err := GroupsActingFor(ctx, carol, "bob", nil); g != nil || err != nil {
		t.Errorf("no lookup: %v %v", g, err)
	}
	lookup := func(_ context.Context, u string) ([]string, error) { return []string{u + "s"}, nil }
	if g, _ := GroupsActingFor(ctx, carol, "bob", lookup); !slices.Equal(g, []string{"bobs"}) {
		t.Errorf("looked up: %v", g)
	}
}
