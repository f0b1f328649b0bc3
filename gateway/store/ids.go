package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// IDs is the registry of the gateway's own session and batch ids, for
// several Livy backends: each id stands for one session or batch (one
// incarnation: a Livy restarted from 0 makes new ones) on one backend. Ids
// come from one counter in the database, so replicas sharing it never hand
// out the same id, and an id is never given twice.
type IDs interface {
	// NewID draws the next id.
	NewID(ctx context.Context) (int, error)
	// MapID records what m.ID stands for, unless the same incarnation
	// (resource, backend, Livy id, owner, name) already has an id: then the
	// stored mapping, with its id, is returned instead.
	MapID(ctx context.Context, m IDMapping) (IDMapping, error)
	// MappedID returns what an id stands for; ErrNotFound when nothing.
	MappedID(ctx context.Context, id int) (IDMapping, error)
}

// IDMapping is one gateway id and the session or batch it stands for.
type IDMapping struct {
	ID       int
	Resource string // "sessions" or "batches"
	Backend  string
	LivyID   int
	// Owner and Name (its Livy name, "" for none) tell incarnations of one
	// Livy id apart.
	Owner, Name string
	Created     time.Time
}

// NewID implements IDs.
func (s *SQL) NewID(ctx context.Context) (int, error) {
	var id int
	err := s.db.QueryRowContext(ctx, s.dialect.q(`INSERT INTO gateway_ids (allocated_ms) VALUES (?) RETURNING id`),
		s.opts.Now().UnixMilli()).Scan(&id)
	return id, err
}

// MapID implements IDs. The unique incarnation makes two replicas that map
// the same session at once agree on the first id stored.
func (s *SQL) MapID(ctx context.Context, m IDMapping) (IDMapping, error) {
	if m.Created.IsZero() {
		m.Created = s.opts.Now()
	}
	_, err := s.db.ExecContext(ctx, s.dialect.q(`INSERT INTO id_mappings (id, resource, backend, livy_id, owner, name, created_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (resource, backend, livy_id, owner, name) DO NOTHING`),
		m.ID, m.Resource, m.Backend, m.LivyID, m.Owner, m.Name, m.Created.UnixMilli())
	if err != nil {
		return IDMapping{}, err
	}
	return s.mapping(ctx, `resource = ? AND backend = ? AND livy_id = ? AND owner = ? AND name = ?`,
		m.Resource, m.Backend, m.LivyID, m.Owner, m.Name)
}

// MappedID implements IDs.
func (s *SQL) MappedID(ctx context.Context, id int) (IDMapping, error) {
	return s.mapping(ctx, `id = ?`, id)
}

func (s *SQL) mapping(ctx context.Context, where string, a ...any) (IDMapping, error) {
	var m IDMapping
	var created int64
	err := s.db.QueryRowContext(ctx, s.dialect.q(`SELECT id, resource, backend, livy_id, owner, name, created_ms FROM id_mappings WHERE `+where), a...).
		Scan(&m.ID, &m.Resource, &m.Backend, &m.LivyID, &m.Owner, &m.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	m.Created = time.UnixMilli(created)
	return m, err
}
