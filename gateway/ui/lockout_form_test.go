package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/ui"
)

// lookAlikeDirectory finds the admin's entry under a full-width spelling
// of the name too, as a directory whose matching rule folds width does.
type lookAlikeDirectory struct{}

func (d lookAlikeDirectory) Verify(ctx context.Context, user, password string) (*auth.Identity, error) {
	return d.VerifyEntry(ctx, user, password, nil)
}

func (lookAlikeDirectory) VerifyEntry(_ context.Context, user, password string, before func(string) error) (*auth.Identity, error) {
	if user != adminUser && user != "ｃ"+adminUser[1:] {
		return nil, fmt.Errorf("%w: no entry", auth.ErrBadCredentials)
	}
	const dn = "uid=admin,ou=people,dc=example,dc=com"
	if before != nil {
		if err := before(dn); err != nil {
			return nil, err
		}
	}
	if password != adminPass {
		return nil, &auth.BadPasswordError{Entry: dn, Name: adminUser}
	}
	return &auth.Identity{User: adminUser, Groups: []string{"livygate-admins"}, Method: "ldap", Entry: dn}, nil
}

// Issue 11, item 4, through the admin UI's form: after the admin's entry is
// locked, a look-alike spelling with the right password does not sign in.
func TestLoginFormLockoutPerEntry(t *testing.T) {
	if adminUser[0] != 'c' {
		t.Skip("the look-alike below assumes the admin's name starts with c")
	}
	h := newHarness(t, func(o *ui.Options) {
		cfg := auth.Default()
		cfg.Lockout.MaxFailures = 3
		basic, err := auth.NewBasic(cfg, lookAlikeDirectory{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.Authn = auth.Chain{basic}
	})
	for i := 0; i < 3; i++ {
		if _, a := login(t, h, adminUser, "wrong"); a.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, a.status)
		}
	}
	if _, a := login(t, h, "ｃ"+adminUser[1:], adminPass); a.status != http.StatusTooManyRequests {
		t.Errorf("look-alike with the right password while locked: %d, want 429", a.status)
	}
}
