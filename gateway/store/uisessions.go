package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"
)

// UISessions keeps the admin UI's logins where every replica finds them.
type UISessions interface {
	// PutUISession stores a login under id, replacing any with that id.
	PutUISession(ctx context.Context, id string, s UISession) error
	// UISession returns the login under id; ErrNotFound when there is none
	// or it has expired.
	UISession(ctx context.Context, id string) (UISession, error)
	// DeleteUISession forgets the login under id (a logout).
	DeleteUISession(ctx context.Context, id string) error
}

// UISession is one admin login. Identity is the UI's own encoding of who
// logged in; the store does not read it.
type UISession struct {
	Identity []byte
	CSRF     string
	Expires  time.Time
}

// hashKey is how session ids and lockout keys are stored: a copy of the
// database then holds no cookie that logs anybody in, and any key fits a
// TEXT column (PostgreSQL refuses NUL bytes, which entry keys hold).
func hashKey(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// PutUISession implements UISessions.
func (s *SQL) PutUISession(ctx context.Context, id string, u UISession) error {
	_, err := s.db.ExecContext(ctx, s.dialect.q(`INSERT INTO ui_sessions (id_hash, identity, csrf, expires_ms) VALUES (?, ?, ?, ?)
		ON CONFLICT (id_hash) DO UPDATE SET identity = excluded.identity, csrf = excluded.csrf, expires_ms = excluded.expires_ms`),
		hashKey(id), string(u.Identity), u.CSRF, u.Expires.UnixMilli())
	return err
}

// UISession implements UISessions.
func (s *SQL) UISession(ctx context.Context, id string) (UISession, error) {
	var u UISession
	var identity string
	var expires int64
	err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT identity, csrf, expires_ms FROM ui_sessions WHERE id_hash = ? AND expires_ms > ?`),
		hashKey(id), s.opts.Now().UnixMilli()).Scan(&identity, &u.CSRF, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	u.Identity, u.Expires = []byte(identity), time.UnixMilli(expires)
	return u, err
}

// DeleteUISession implements UISessions.
func (s *SQL) DeleteUISession(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, s.dialect.q(`DELETE FROM ui_sessions WHERE id_hash = ?`), hashKey(id))
	return err
}
