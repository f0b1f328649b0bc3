// Package sparkconf completes the Spark conf of a session or batch just
// before Livy gets it: secret references become their values, and the
// user's token is delivered (in the conf itself, or as a file in their HDFS
// home whose path the conf names).
package sparkconf

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/scope"
	"github.com/livygate/livygate/gateway/secrets"
	"github.com/livygate/livygate/gateway/sparkconf/delivery"
	"github.com/livygate/livygate/gateway/token"
)

// Finisher completes create requests' conf. Its zero parts are off.
type Finisher struct {
	// Secrets resolves secret@NAME references; nil leaves them as written.
	Secrets *secrets.Resolver
	// Check is the conf policy, applied again to the resolved conf: a
	// secret's value must not smuggle in what the policy refuses.
	Check func(conf map[string]string) error

	// Minter, Mode and ConfKeys deliver the token of the user the session
	// runs as.
	Minter   *token.Minter
	Mode     delivery.Mode
	ConfKeys []string
	// WriteToken stores a token in user's home (hdfs-file) and returns its
	// path.
	WriteToken func(ctx context.Context, user string, token []byte) (string, error)
	// GroupsOf finds the groups of a user other than the caller (an admin
	// acting for them); nil gives them none.
	GroupsOf func(ctx context.Context, user string) ([]string, error)
	// Minted hears of every token minted (never its text).
	Minted func(token.Minted)
}

// Error is a refusal with its HTTP status; its message never holds a value.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string   { return e.Msg }
func (e *Error) HTTPStatus() int { return e.Status }

// Finish returns the conf Livy gets for a session that runs as runAs.
func (f *Finisher) Finish(ctx context.Context, caller *auth.Identity, runAs string, conf map[string]string) (map[string]string, error) {
	// runAs was allowed by auth.ActingFor; only its groups are needed here,
	// and only when something uses them.
	user, groups := runAs, []string(nil)
	if f.Secrets != nil || f.delivers() {
		var err error
		if groups, err = auth.GroupsActingFor(ctx, caller, runAs, f.GroupsOf); err != nil {
			return nil, &Error{http.StatusServiceUnavailable, fmt.Sprintf("looking up %q's groups failed; try again later", runAs)}
		}
	}
	if f.Secrets != nil {
		resolved, _, err := f.Secrets.Resolve(ctx, user, groups, conf)
		var refused *secrets.RefusedError
		switch {
		case errors.As(err, &refused):
			return nil, &Error{http.StatusBadRequest, refused.Error()}
		case err != nil:
			return nil, &Error{http.StatusServiceUnavailable, "the secret store is unavailable; try again later"}
		}
		if f.Check != nil && !maps.Equal(resolved, conf) {
			if err := f.Check(resolved); err != nil {
				return nil, &Error{http.StatusBadRequest, err.Error() + " (through a secret reference)"}
			}
		}
		conf = resolved
	}
	if !f.delivers() {
		return conf, nil
	}
	m, err := f.Minter.Mint(user, groups)
	if err != nil {
		return nil, &Error{http.StatusInternalServerError, "minting the session's token failed"}
	}
	value := m.Token
	if f.Mode == delivery.HDFSFile {
		if value, err = f.WriteToken(ctx, user, []byte(m.Token)); err != nil {
			return nil, &Error{http.StatusServiceUnavailable, fmt.Sprintf("delivering %q's token to HDFS failed: %v", user, err)}
		}
	}
	// The create's audit event says which token went into it.
	scope.From(ctx).Note = token.MintNote(m)
	if f.Minted != nil {
		f.Minted(m)
	}
	out := make(map[string]string, len(conf)+len(f.ConfKeys))
	maps.Copy(out, conf)
	for _, k := range f.ConfKeys {
		out[k] = value // the gateway's value wins over one the caller sent
	}
	return out, nil
}

func (f *Finisher) delivers() bool {
	return f.Minter != nil && f.Mode.Delivers()
}
