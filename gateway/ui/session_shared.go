package ui

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/store"
)

// storeTimeout bounds one question to the store about a login.
const storeTimeout = 2 * time.Second

// sharedSessions keeps logins in the store, so that a login on one replica
// works on every other. A nil *sharedSessions keeps nothing: logins stay in
// the process's map.
type sharedSessions struct {
	store store.UISessions
	log   logrus.FieldLogger
}

// put reports whether the store kept the login; if not, the caller keeps it
// in memory, where it works on this replica only.
func (s *sharedSessions) put(sid string, sess *session) bool {
	if s == nil {
		return false
	}
	identity, err := json.Marshal(sess.identity)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		err = s.store.PutUISession(ctx, sid, store.UISession{Identity: identity, CSRF: sess.csrf, Expires: sess.expires})
	}
	if err != nil {
		s.log.WithError(err).WithField("user", sess.identity.User).
			Error("ui: the store did not keep the login; it works on this replica only")
		return false
	}
	return true
}

// get returns the login under sid, or nil. The UI's own clock decides
// expiry too, as it does for logins kept in memory.
func (s *sharedSessions) get(sid string, now time.Time) *session {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	u, err := s.store.UISession(ctx, sid)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.WithError(err).Error("ui: reading a login from the store failed")
		}
		return nil
	}
	var id auth.Identity
	if err := json.Unmarshal(u.Identity, &id); err != nil || !now.Before(u.Expires) {
		return nil
	}
	return &session{identity: id, csrf: u.CSRF, expires: u.Expires}
}

func (s *sharedSessions) delete(sid string) {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := s.store.DeleteUISession(ctx, sid); err != nil {
		s.log.WithError(err).Error("ui: deleting a login from the store failed; it lasts until it expires")
	}
}
