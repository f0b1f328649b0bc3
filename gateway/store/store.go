// Package store keeps what the admin UI shows beyond the live views (the
// audit trail, sync runs with their per-user results and so each user's
// last known home state, token mint records) and what gateway replicas must
// share (admin UI logins, failed-login counts, leases of singleton jobs).
// The Store interface is the seam: a SQLite file (pure Go, no server) for
// one gateway, PostgreSQL for several, with the same portable SQL.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/provision"
)

// Store is the admin UI's persistence. Record and RecordMint never block and
// never fail the caller: they queue, and a full queue drops (counted). The
// rest are synchronous and used off the proxied path.
type Store interface {
	audit.Sink
	UISessions
	LoginFailures
	Leases
	IDs
	WarmSessions
	// RecordMint queues a record of a minted token (never the token).
	RecordMint(MintRecord)
	// SaveRun persists a sync run and its per-user results, and updates each
	// user's last known home state. It returns the run's id.
	SaveRun(ctx context.Context, run *provision.Run, trigger string) (int64, error)
	// Runs lists runs newest first, without their results.
	Runs(ctx context.Context, limit, offset int) ([]RunSummary, error)
	// Run returns one run with its results.
	Run(ctx context.Context, id int64) (*RunDetail, error)
	// Homes returns the last known home state of the given users (all when
	// users is nil); users never seen by a sync are absent.
	Homes(ctx context.Context, users []string) (map[string]Home, error)
	// LastActivity returns each given user's newest audit event time.
	LastActivity(ctx context.Context, users []string) (map[string]time.Time, error)
	// CreatedAt returns when each given session or batch id was last created
	// through the gateway (res is "sessions" or "batches").
	CreatedAt(ctx context.Context, res string, ids []string) (map[string]time.Time, error)
	// Audit returns one page of events matching q, newest first, and how
	// many match in all.
	Audit(ctx context.Context, q AuditQuery) ([]AuditRecord, int, error)
	// Mints lists mint records newest first.
	Mints(ctx context.Context, limit int) ([]MintRecord, error)
	// Prune applies the retention rules now.
	Prune(ctx context.Context) error
	// Stats reports the queue's health.
	Stats() Stats
	// Close writes what is queued and closes the store.
	Close() error
}

// ErrNotFound is returned for a run id or a UI session that does not exist.
var ErrNotFound = errors.New("not found")

// MintRecord is one minted token, without the token itself.
type MintRecord struct {
	JTI       string
	User      string
	Kid       string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// AuditRecord is a stored audit event with its id and derived action.
type AuditRecord struct {
	ID int64
	audit.Event
	Action string
}

// AuditQuery filters the audit trail. Zero fields do not filter.
type AuditQuery struct {
	User    string
	Action  string
	Outcome string
	From    time.Time // inclusive
	To      time.Time // exclusive
	Limit   int
	Offset  int
}

// RunSummary is a sync run without its results.
type RunSummary struct {
	ID       int64
	Started  time.Time
	Finished time.Time
	DryRun   bool
	Trigger  string
	Users    int
	Summary  map[string]int
	Orphans  []string
	Error    string
}

// RunDetail is a run with its per-user results.
type RunDetail struct {
	RunSummary
	Results []UserResult
}

// UserResult is one user's outcome in a run.
type UserResult struct {
	User   string
	Path   string
	Action string
	Detail string
}

// Home states, as the Users page shows them.
const (
	HomeOK      = "ok"
	HomeMissing = "missing"
	HomeDrift   = "drift"
	HomeRefused = "refused name"
	HomeFailed  = "failed"
)

// Home is a user's last known HDFS home state.
type Home struct {
	State   string
	Action  string
	Detail  string
	Path    string
	RunID   int64
	Updated time.Time
}

// HomeState maps a sync action to the home's state after the run.
func HomeState(action string) string {
	switch action {
	case "created", "unchanged", "repaired":
		return HomeOK
	case "would-create":
		return HomeMissing
	case "drift", "would-repair":
		return HomeDrift
	case "refused":
		return HomeRefused
	}
	return HomeFailed
}

// Stats is the write queue's health.
type Stats struct {
	Queued  int
	Dropped uint64
	Written uint64
}
