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
	SessionID  string
	ProxyUser  string
	Outcome    string
	Reason     string
	Status     int
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
		"outcome":    e.Outcome,
		"reason":     e.Reason,
		"status":     e.Status,
	}).WithTime(e.Time).Info("audit")
	if s.Flush != nil {
		s.Flush()
	}
}
