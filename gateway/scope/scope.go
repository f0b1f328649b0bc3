// Package scope carries one request's facts (id, caller, what it touched,
// how it ended) through the context, so the logger and the audit trail read
// them from one place.
package scope

import (
	"context"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/auth"
)

// Outcome of a request, as the audit trail records it.
const (
	OutcomeOK      = "ok"
	OutcomeRefused = "refused"
	OutcomeError   = "error"
)

// Scope is filled in as the request passes through the gateway. Handlers run
// on one goroutine per request, so it needs no lock.
type Scope struct {
	RequestID  string
	ClientAddr string
	Identity   *auth.Identity
	// Detail is set by whoever learns it: the session touched, the user it
	// runs as, a refusal's reason (Outcome empty: the status code decides).
	audit.Detail
	// Audit records an event for a read-only call too (a token mint).
	Audit bool
}

// User is the authenticated user's name, or "".
func (s *Scope) User() string {
	if s == nil || s.Identity == nil {
		return ""
	}
	return s.Identity.User
}

// Refuse records a refusal and its reason.
func (s *Scope) Refuse(reason string) {
	if s != nil {
		s.Outcome, s.Reason = OutcomeRefused, reason
	}
}

// Fail records a failure and its reason.
func (s *Scope) Fail(reason string) {
	if s != nil {
		s.Outcome, s.Reason = OutcomeError, reason
	}
}

type key struct{}

// With returns ctx carrying s.
func With(ctx context.Context, s *Scope) context.Context {
	return context.WithValue(ctx, key{}, s)
}

// From returns the request's scope. It never returns nil, so callers need no
// check; a request without one gets a throwaway scope.
func From(ctx context.Context) *Scope {
	if s, ok := ctx.Value(key{}).(*Scope); ok {
		return s
	}
	return &Scope{}
}
