package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// WarmSessions are the warm sessions (gateway/warm) every replica sees:
// who each one is for is decided once, here, so no replica can hand one to
// anyone else, and only one adoption of each can ever succeed.
type WarmSessions interface {
	// AddWarm records a warm session just created.
	AddWarm(ctx context.Context, w WarmSession) error
	// WarmList lists every warm session, adopted ones included.
	WarmList(ctx context.Context) ([]WarmSession, error)
	// WarmByName returns one; ErrNotFound when there is none.
	WarmByName(ctx context.Context, name string) (WarmSession, error)
	// ClaimWarm marks the named warm session adopted by owner, if it is
	// owner's and not adopted yet; false otherwise.
	ClaimWarm(ctx context.Context, name, owner string, at time.Time) (bool, error)
	// DeleteWarm forgets a warm session.
	DeleteWarm(ctx context.Context, name string) error
}

// WarmSession is one warm session.
type WarmSession struct {
	// Name is its Livy name (unique).
	Name      string
	Owner     string
	Kind      string
	SessionID int
	// Body is the create body after the gateway's completion, before
	// per-create values (name, proxyUser, minted tokens, secrets).
	Body    string
	Created time.Time
	// Adopted is zero until the owner adopted it.
	Adopted time.Time
}

// AddWarm implements WarmSessions.
func (s *SQL) AddWarm(ctx context.Context, w WarmSession) error {
	_, err := s.db.ExecContext(ctx, s.dialect.q(`INSERT INTO warm_sessions (name, owner, kind, session_id, body, created_ms, adopted_ms)
		VALUES (?, ?, ?, ?, ?, ?, 0)`), w.Name, w.Owner, w.Kind, w.SessionID, w.Body, w.Created.UnixMilli())
	return err
}

const warmColumns = `SELECT name, owner, kind, session_id, body, created_ms, adopted_ms FROM warm_sessions`

// WarmList implements WarmSessions.
func (s *SQL) WarmList(ctx context.Context) ([]WarmSession, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.q(warmColumns+` ORDER BY created_ms, name`))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []WarmSession
	for rows.Next() {
		w, err := scanWarm(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// WarmByName implements WarmSessions.
func (s *SQL) WarmByName(ctx context.Context, name string) (WarmSession, error) {
	w, err := scanWarm(s.db.QueryRowContext(ctx, s.dialect.q(warmColumns+` WHERE name = ?`), name).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return w, ErrNotFound
	}
	return w, err
}

func scanWarm(scan func(...any) error) (WarmSession, error) {
	var w WarmSession
	var created, adopted int64
	if err := scan(&w.Name, &w.Owner, &w.Kind, &w.SessionID, &w.Body, &created, &adopted); err != nil {
		return w, err
	}
	w.Created = time.UnixMilli(created)
	if adopted != 0 {
		w.Adopted = time.UnixMilli(adopted)
	}
	return w, nil
}

// ClaimWarm implements WarmSessions: one conditional update, so of two
// replicas adopting at once exactly one changes the row.
func (s *SQL) ClaimWarm(ctx context.Context, name, owner string, at time.Time) (bool, error) {
	ms := at.UnixMilli()
	if ms == 0 {
		ms = 1
	}
	return s.changedOne(ctx, `UPDATE warm_sessions SET adopted_ms = ? WHERE name = ? AND owner = ? AND adopted_ms = 0`, ms, name, owner)
}

// DeleteWarm implements WarmSessions.
func (s *SQL) DeleteWarm(ctx context.Context, name string) error {
	_, err := s.db.ExecContext(ctx, s.dialect.q(`DELETE FROM warm_sessions WHERE name = ?`), name)
	return err
}
