package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/ldap"
)

// Directory is the LDAP adapter seen from auth: its entries become
// identities and its errors auth's, so the authenticators and the lockout
// need not know which directory answered.
type Directory struct{ *ldap.Client }

// OpenDirectory resolves the bind password and returns the directory for a
// validated configuration.
func OpenDirectory(cfg LDAPConfig, log logrus.FieldLogger) (*Directory, error) {
	password, err := cfg.BindPassword.Resolve()
	if err != nil {
		return nil, fmt.Errorf("auth.ldap.bind_password: %w", err)
	}
	c, err := ldap.New(cfg.Config, password, log)
	if err != nil {
		return nil, err
	}
	return &Directory{c}, nil
}

// Verify implements PasswordVerifier.
func (d *Directory) Verify(ctx context.Context, user, password string) (*Identity, error) {
	return d.VerifyEntry(ctx, user, password, nil)
}

// VerifyEntry implements EntryVerifier.
func (d *Directory) VerifyEntry(ctx context.Context, user, password string, before func(entry string) error) (*Identity, error) {
	if err := CheckUsername(user); err != nil {
		return nil, err
	}
	return identity(d.Client.VerifyEntry(ctx, user, password, before))
}

// Lookup finds a user's entry and groups without their password, for an
// admin minting a token on their behalf. An unknown user is
// ErrBadCredentials.
func (d *Directory) Lookup(ctx context.Context, user string) (*Identity, error) {
	if err := CheckUsername(user); err != nil {
		return nil, err
	}
	return identity(d.Client.Lookup(ctx, user))
}

func identity(e *ldap.Entry, err error) (*Identity, error) {
	if err != nil {
		return nil, classify(err)
	}
	return &Identity{User: e.User, Groups: e.Groups, Method: "ldap", Entry: e.DN}, nil
}

// classify gives a directory error auth's meaning, keeping its message.
func classify(err error) error {
	var bad *BadPasswordError
	switch {
	case errors.As(err, &bad):
		return &BadPasswordError{Entry: bad.Entry, Name: bad.Name}
	case errors.Is(err, ldap.ErrUnavailable):
		return classified{err, ErrUnavailable}
	case errors.Is(err, ldap.ErrBadCredentials):
		return classified{err, ErrBadCredentials}
	}
	return err // a refusal of the caller's before hook (a lockout)
}

// classified is an error that also is one of auth's sentinel errors.
type classified struct{ err, class error }

func (c classified) Error() string   { return c.err.Error() }
func (c classified) Unwrap() []error { return []error{c.err, c.class} }
