// Package audit records who did what through the gateway: one event per
// mutating call and per refusal.
package audit

import (
	"time"

	"github.com/sirupsen/logrus"
)

// Event is one audit record. It never holds a password, token or secret.
type Event struct {
	Time       time.Time
	RequestID  string
	User       string
	ClientAddr string
	Method     string
	Path       string
	Detail
	Status int
}

// Detail is what the gateway learns about a call while serving it; the
// request's scope collects it and the audit event carries it. Never a
// secret.
type Detail struct {
	// SessionID is the Livy session or batch id (or name) the call touched.
	SessionID string
	// ProxyUser is the user the session or batch runs as.
	ProxyUser string
	// Subject is the user a token minted on /token names.
	Subject string
	// Outcome is ok, refused or error; empty in a scope means the status
	// code decides.
	Outcome string
	// Reason says why a call was refused or failed (or why the reaper
	// acted).
	Reason string
	// Note says what an allowed call did that the rest does not show: the
	// token a mint produced (its id, key and expiry; never the token).
	Note string
}

// Sink receives audit events. Record must not block the request for long.
type Sink interface {
	Record(Event)
}

// LogSink writes each event as one structured log line.
type LogSink struct {
	Log logrus.FieldLogger
	// Flush, when set, runs after each event, so a buffered log never holds
	// an audit line back.
	Flush func()
}

// Record implements Sink.
func (s LogSink) Record(e Event) {
	s.Log.WithFields(logrus.Fields{
		"audit":      true,
		"request_id": e.RequestID,
		"user":       e.User,
		"client":     e.ClientAddr,
		"method":     e.Method,
		"path":       e.Path,
		"session_id": e.SessionID,
		"proxy_user": e.ProxyUser,
		"subject":    e.Subject,
		"outcome":    e.Outcome,
		"reason":     e.Reason,
		"note":       e.Note,
		"status":     e.Status,
	}).WithTime(e.Time).Info("audit")
	if s.Flush != nil {
		s.Flush()
	}
}
