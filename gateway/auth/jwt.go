package auth

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// TokenVerifier checks a token livygate minted and says whose it is.
type TokenVerifier func(token string) (user string, groups []string, err error)

// JWT authenticates a caller by a token livygate minted itself
// (Authorization: Bearer <jwt>), so a job or script can call the gateway with
// the token it was given. Bearer values that are not JWTs are left to the
// next authenticator (a JupyterHub token may come as Bearer too).
type JWT struct {
	verify     TokenVerifier
	adminGroup string
}

// NewJWT builds the authenticator.
func NewJWT(adminGroup string, verify TokenVerifier) *JWT {
	return &JWT{verify: verify, adminGroup: adminGroup}
}

// Authenticate implements Authenticator.
func (j *JWT) Authenticate(_ context.Context, r *http.Request) (*Identity, error) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "bearer") || !looksLikeJWT(token) {
		return nil, ErrNoCredentials
	}
	user, groups, err := j.verify(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCredentials, err)
	}
	id := &Identity{User: user, Groups: groups, Method: "jwt"}
	id.Admin = j.adminGroup != "" && id.InGroup(j.adminGroup)
	return id, nil
}

// looksLikeJWT is true for three dot-separated parts with a JSON header
// ("eyJ" is the base64url of `{"`).
func looksLikeJWT(s string) bool {
	return strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2
}
