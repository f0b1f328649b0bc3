package auth

import (
	"context"
	"errors"
)

// ErrMayNotActFor: the caller asked to act for another user and may not.
var ErrMayNotActFor = errors.New("may not act for another user")

// ActingFor is the one rule for who may act for another user: run a
// session as them (proxyUser) or mint a token that names them
// (GET /token?user=). Only a gateway admin may, and only where the
// configuration allows it (auth.admins_may_impersonate,
// tokens.admins_may_mint_for_others). It returns the user the request acts
// for: the caller when target is empty or the caller's own name.
func ActingFor(caller *Identity, target string, allowed bool) (string, error) {
	if target == "" || target == caller.User {
		return caller.User, nil
	}
	if !caller.Admin || !allowed {
		return "", ErrMayNotActFor
	}
	return target, nil
}

// GroupsActingFor returns the groups that go with acting for user: the
// caller's own, or another user's as lookup finds them (none when lookup is
// nil). Never the caller's groups for someone else: an admin's groups must
// not reach a token or a secret grant of the user they act for.
func GroupsActingFor(ctx context.Context, caller *Identity, user string, lookup func(context.Context, string) ([]string, error)) ([]string, error) {
	if user == caller.User {
		return caller.Groups, nil
	}
	if lookup == nil {
		return nil, nil
	}
	return lookup(ctx, user)
}
