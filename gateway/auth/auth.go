// Package auth decides who is calling. Each way of proving identity (LDAP
// Basic, a JupyterHub token, the gateway's own JWT) is an Authenticator; a
// Chain tries them in order so new methods never touch the proxy.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/livygate/livygate/gateway/ldap"
)

// Identity is a verified caller. It is only ever built by an Authenticator,
// never from anything the client asserts.
type Identity struct {
	User   string
	Groups []string
	Admin  bool
	// Method names the authenticator that verified the caller ("ldap", …).
	Method string
	// Entry is the directory entry the caller logged in as (its DN), where
	// the verifier knows one: failed logins are counted per entry.
	Entry string
}

// InGroup reports whether the identity is a member of group.
func (id *Identity) InGroup(group string) bool {
	for _, g := range id.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// Authenticator verifies the credentials carried by a request.
//
// It returns ErrNoCredentials when the request carries no credentials of its
// kind (the chain then asks the next one), an error wrapping
// ErrBadCredentials when they are wrong, an error wrapping ErrUnavailable
// when its backend cannot be reached, or a *LockedError.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request) (*Identity, error)
}

var (
	// ErrNoCredentials: the request carries nothing this authenticator reads.
	ErrNoCredentials = errors.New("no credentials")
	// ErrBadCredentials: credentials were presented and are wrong. Maps to 401.
	// It is the directory's own sentinel, so a *BadPasswordError is one.
	ErrBadCredentials = ldap.ErrBadCredentials
	// ErrUnavailable: the identity backend cannot answer. Maps to 503, never 401,
	// so an outage is not mistaken for a wrong password.
	ErrUnavailable = errors.New("authentication backend unavailable")
)

// LockedError says the caller failed too often and must wait. Maps to 429.
type LockedError struct {
	RetryAfter time.Duration
}

// BadPasswordError is a wrong password for an entry the directory found:
// the failure counts against that entry, whatever spelling of the name
// found it.
type BadPasswordError = ldap.BadPasswordError

// EntryVerifier is a PasswordVerifier that finds the directory entry before
// it tries the password, and lets the caller refuse the entry first (a
// locked entry is refused under any spelling of its name).
type EntryVerifier interface {
	VerifyEntry(ctx context.Context, user, password string, before func(entry string) error) (*Identity, error)
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("too many failed logins; retry after %s", e.RetryAfter.Round(time.Second))
}

// Chain asks each authenticator in turn; the first that finds its kind of
// credentials decides.
type Chain []Authenticator

// Authenticate implements Authenticator.
func (c Chain) Authenticate(ctx context.Context, r *http.Request) (*Identity, error) {
	for _, a := range c {
		id, err := a.Authenticate(ctx, r)
		if errors.Is(err, ErrNoCredentials) {
			continue
		}
		return id, err
	}
	return nil, ErrNoCredentials
}
