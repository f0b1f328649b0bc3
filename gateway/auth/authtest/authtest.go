// Package authtest is an authenticator for unit tests: Basic credentials
// looked up in a fixed map, standing in for LDAP (which has its own tests
// against a real slapd).
package authtest

import (
	"context"
	"net/http"

	"github.com/livygate/livygate/gateway/auth"
)

// Static authenticates Basic credentials against Users. With Password set,
// every user's password is Password; without, any password is accepted.
// Each call returns a copy of the user's identity.
type Static struct {
	Users    map[string]*auth.Identity
	Password string
}

// Authenticate implements auth.Authenticator.
func (s Static) Authenticate(_ context.Context, r *http.Request) (*auth.Identity, error) {
	u, p, ok := r.BasicAuth()
	if !ok {
		return nil, auth.ErrNoCredentials
	}
	id, known := s.Users[u]
	if !known || (s.Password != "" && p != s.Password) {
		return nil, auth.ErrBadCredentials
	}
	c := *id
	return &c, nil
}
