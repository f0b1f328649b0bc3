package warm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/livy"
)

// Livy is what the warm sessions need of Livy (the proxy's client, which
// speaks the gateway's ids when there are several backends).
type Livy interface {
	ListAll(ctx context.Context, res livy.Resource) ([]livy.Brief, error)
	Get(ctx context.Context, res livy.Resource, item string) (*livy.Session, []byte, error)
	Delete(ctx context.Context, res livy.Resource, id int) error
	StatementCount(ctx context.Context, sessionID int) (int, error)
	RunStatement(ctx context.Context, sessionID int, code string) error
}

// Hub says whose notebook server runs (a *jupyterhub.Client).
type Hub interface {
	ActiveServers(ctx context.Context) (map[string]bool, error)
}

// Created is what a warm create made.
type Created struct {
	ID int
	// Body is the create body after the gateway's completion (policy,
	// limits), before per-create values: what adoption compares with.
	Body []byte
}

// Creator creates a session as user with the given Livy name and body,
// through the proxy's own create path (policy, limits without the user's
// counts, conf completion, proxyUser forced).
type Creator func(ctx context.Context, user, name string, body []byte) (Created, error)

// Counters are the metrics the warm sessions move.
type Counters interface {
	WarmStarted()
	WarmAdopted()
	WarmExpired(reason string)
}

// Records is where warm sessions are kept (the store; Memory without one).
type Records = store.WarmSessions

// Deps are what a Manager needs besides its configuration.
type Deps struct {
	Livy    Livy
	Hub     Hub
	Records Records
	Create  Creator
	Audit   audit.Sink
	Metrics Counters
	Log     logrus.FieldLogger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Lease, when set, is asked before each pass: only the replica holding
	// it starts and ends warm sessions (adoption works on every replica).
	Lease func(ctx context.Context) bool
}

// Reasons a warm session ends unadopted.
const (
	ReasonUnused  = "unused"
	ReasonStopped = "server stopped"
	ReasonDied    = "died"
	ReasonStray   = "unknown"
)

// AuditUser is the user warm-session work is recorded as.
const AuditUser = "livygate-warm"

// Manager runs warm sessions.
type Manager struct {
	cfg  Config
	deps Deps

	mu      sync.Mutex
	adopted map[string]bool      // names known adopted (adoption never reverts)
	failed  map[string]time.Time // user → last failed create
	// spent are users whose warm session expired unused while their
	// server ran: none again until the server stops and starts again.
	spent map[string]bool
	// primed are warm sessions whose warm-up statement is sent (or that
	// need none).
	primed   map[string]bool
	started  int // since start: warm sessions started
	adoptedN int // and adopted
	lastErr  string
	lastPass time.Time
}

// New builds a Manager.
func New(cfg Config, deps Deps) (*Manager, error) {
	if deps.Livy == nil || deps.Hub == nil || deps.Records == nil || deps.Create == nil {
		return nil, errors.New("warm: needs Livy, the Hub, a record of warm sessions and a creator")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = logrus.New()
	}
	return &Manager{cfg: cfg, deps: deps, adopted: map[string]bool{}, failed: map[string]time.Time{}, spent: map[string]bool{}, primed: map[string]bool{}}, nil
}

// Config is the section the Manager runs with.
func (m *Manager) Config() Config { return m.cfg }

// namePart marks a warm session's Livy name: "U~~warm-<random>", which
// the proxy shows its owner as no name, like any unnamed session.
const namePart = "~~warm-"

// NewName names a warm session for user.
func NewName(user string) string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return user + namePart + hex.EncodeToString(b)
}

// IsName reports whether a Livy name is a warm session's.
func IsName(name string) bool {
	i := strings.Index(name, namePart)
	return i > 0 && !strings.Contains(name[:i], "~")
}

// ownerOf is the user a warm name was made for.
func ownerOf(name string) string { return name[:strings.Index(name, namePart)] }

// Hidden reports whether a session (by its Livy name) is a warm session
// not adopted yet: not its user's until then, not in their list, not
// counted against their limits, not the reaper's. When the record cannot
// be read it is hidden (fail closed).
func (m *Manager) Hidden(name string) bool {
	if !IsName(name) {
		return false
	}
	m.mu.Lock()
	adopted := m.adopted[name]
	m.mu.Unlock()
	if adopted {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w, err := m.deps.Records.WarmByName(ctx, name)
	if err != nil || w.Adopted.IsZero() {
		return true
	}
	m.mu.Lock()
	m.adopted[name] = true
	m.mu.Unlock()
	return false
}

// Run passes every warm.interval until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		if m.deps.Lease == nil || m.deps.Lease(ctx) {
			m.Pass(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass looks once: forgets warm sessions gone, deletes the expired and
// the ones whose user's server stopped, and starts the missing ones.
func (m *Manager) Pass(ctx context.Context) {
	now := m.deps.Now()
	m.mu.Lock()
	m.lastPass = now
	m.mu.Unlock()
	active, hubErr := m.deps.Hub.ActiveServers(ctx)
	entries, err := m.deps.Livy.ListAll(ctx, livy.Sessions)
	if err != nil {
		m.setErr("listing Livy's sessions: " + err.Error())
		return
	}
	recs, err := m.deps.Records.WarmList(ctx)
	if err != nil {
		m.setErr("reading warm sessions: " + err.Error())
		return
	}
	if hubErr != nil {
		m.setErr("asking JupyterHub whose server runs: " + hubErr.Error())
	} else {
		m.setErr("")
	}
	byID := make(map[int]*livy.Brief, len(entries))
	for i := range entries {
		byID[entries[i].ID] = &entries[i]
	}
	known := map[string]bool{}
	adopted := map[string]bool{}
	waiting := map[string]bool{} // user/kind with an unadopted warm session
	pending := 0
	for _, w := range recs {
		known[w.Name] = true
		e := byID[w.SessionID]
		alive := e != nil && e.SessionName() == w.Name && livyLive(e.State)
		if !w.Adopted.IsZero() {
			adopted[w.Name] = true
			if !alive {
				_ = m.deps.Records.DeleteWarm(ctx, w.Name)
				m.mu.Lock()
				delete(m.adopted, w.Name)
				m.mu.Unlock()
			}
			continue
		}
		switch {
		case !alive:
			m.end(ctx, w, ReasonDied, false)
		case now.Sub(w.Created) >= m.cfg.ExpireAfter:
			m.end(ctx, w, ReasonUnused, true)
			m.mu.Lock()
			m.spent[w.Owner] = true
			m.mu.Unlock()
		case hubErr == nil && !active[w.Owner]:
			m.end(ctx, w, ReasonStopped, true)
		default:
			pending++
			waiting[w.Owner+"/"+w.Kind] = true
			// Livy kills a session nobody asks about for its
			// heartbeatTimeoutInSecond; until adopted, the gateway asks.
			_, _, _ = m.deps.Livy.Get(ctx, livy.Sessions, strconv.Itoa(w.SessionID))
			if e.State == "idle" {
				m.prime(ctx, w)
			}
		}
	}
	m.mu.Lock()
	for name := range m.primed {
		if !known[name] || adopted[name] {
			delete(m.primed, name)
		}
	}
	m.mu.Unlock()
	// A warm-named session nobody recorded (its record lost, or its create
	// answered after the gateway gave up): not anyone's, deleted.
	for i := range entries {
		e := &entries[i]
		if n := e.SessionName(); IsName(n) && !known[n] && livyLive(e.State) {
			m.end(ctx, store.WarmSession{Name: n, Owner: ownerOf(n), SessionID: e.ID, Created: now}, ReasonStray, true)
		}
	}
	if hubErr != nil {
		return
	}
	// Users with a live session of a kind of their own need no warm one.
	has := map[string]bool{}
	for i := range entries {
		e := &entries[i]
		if n := e.SessionName(); livyLive(e.State) && (!IsName(n) || adopted[n]) {
			has[e.User()+"/"+e.Kind] = true
		}
	}
	users := make([]string, 0, len(active))
	m.mu.Lock()
	for u := range m.spent {
		if !active[u] {
			delete(m.spent, u)
		}
	}
	for u, on := range active {
		if on && !m.spent[u] {
			users = append(users, u)
		}
	}
	m.mu.Unlock()
	sort.Strings(users)
	for _, u := range users {
		m.mu.Lock()
		failedAt, failed := m.failed[u]
		m.mu.Unlock()
		if failed && now.Sub(failedAt) < m.cfg.RetryAfter {
			continue
		}
		for _, kind := range m.cfg.Kinds {
			if waiting[u+"/"+kind] || has[u+"/"+kind] {
				continue
			}
			if pending >= m.cfg.MaxTotal {
				m.deps.Log.WithField("max_total", m.cfg.MaxTotal).Debug("warm: at warm.max_total; starting no more")
				return
			}
			if m.start(ctx, u, kind) {
				pending++
			}
		}
	}
}

// livyLive reports a session that holds (or will hold) a driver.
func livyLive(state string) bool {
	switch state {
	case "dead", "killed", "success", "error", "shutting_down":
		return false
	}
	return true
}

// usable reports a state a session may be handed over in: busy is its
// warm-up statement, which a user's first statement queues behind.
func usable(state string) bool {
	switch state {
	case "not_started", "starting", "idle", "busy":
		return true
	}
	return false
}

func (m *Manager) setErr(s string) {
	m.mu.Lock()
	m.lastErr = s
	m.mu.Unlock()
	if s != "" {
		m.deps.Log.Warn("warm: " + s)
	}
}

// start creates one warm session of kind for user.
func (m *Manager) start(ctx context.Context, user, kind string) bool {
	log := m.deps.Log.WithFields(logrus.Fields{"user": user, "kind": kind})
	body, err := m.cfg.createBody(kind)
	if err != nil {
		log.WithError(err).Error("warm: building the create body")
		return false
	}
	name := NewName(user)
	c, err := m.deps.Create(ctx, user, name, body)
	now := m.deps.Now()
	if err != nil {
		m.mu.Lock()
		m.failed[user] = now
		m.mu.Unlock()
		log.WithError(err).Warn("warm: starting a warm session failed")
		m.audit(now, "POST", "/sessions", "", user, "error", 0, "warm: start: "+err.Error())
		return false
	}
	w := store.WarmSession{Name: name, Owner: user, Kind: kind, SessionID: c.ID, Body: string(c.Body), Created: now}
	if err := m.deps.Records.AddWarm(ctx, w); err != nil {
		// Unrecorded, it is nobody's: delete it rather than keep a session
		// no replica knows the user of.
		log.WithError(err).Error("warm: recording a warm session failed; deleting it")
		_ = m.deps.Livy.Delete(ctx, livy.Sessions, c.ID)
		return false
	}
	m.mu.Lock()
	delete(m.failed, user)
	m.started++
	m.mu.Unlock()
	if m.deps.Metrics != nil {
		m.deps.Metrics.WarmStarted()
	}
	log.WithField("session_id", c.ID).Info("warm: started a warm session")
	m.audit(now, "POST", "/sessions", strconv.Itoa(c.ID), user, "ok", 201, "warm: start: "+kind+" for "+user)
	return true
}

// prime runs the kind's warm-up statement once in an idle warm session, so
// the first Spark job's one-off costs (class loading, code generation, the
// JIT) are paid before the user's first cell, not in it. A session that
// already ran a statement (primed by an earlier process) is left alone.
func (m *Manager) prime(ctx context.Context, w store.WarmSession) {
	m.mu.Lock()
	done := m.primed[w.Name]
	m.mu.Unlock()
	if done {
		return
	}
	log := m.deps.Log.WithFields(logrus.Fields{"user": w.Owner, "session_id": w.SessionID})
	code := m.cfg.Prime[w.Kind]
	if code != "" {
		n, err := m.deps.Livy.StatementCount(ctx, w.SessionID)
		if err != nil {
			log.WithError(err).Warn("warm: reading a warm session's statements failed; priming it next time")
			return
		}
		// Adopted since the pass listed it: the session is the user's now.
		if rec, err := m.deps.Records.WarmByName(ctx, w.Name); err != nil || !rec.Adopted.IsZero() {
			return
		}
		if n == 0 {
			if err := m.deps.Livy.RunStatement(ctx, w.SessionID, code); err != nil {
				log.WithError(err).Warn("warm: the warm-up statement was refused; trying again next time")
				return
			}
			log.Info("warm: warm-up statement sent")
		}
	}
	m.mu.Lock()
	m.primed[w.Name] = true
	m.mu.Unlock()
}

// end deletes a warm session nobody adopted (del: also in Livy) and
// forgets it.
func (m *Manager) end(ctx context.Context, w store.WarmSession, reason string, del bool) {
	outcome, status, msg := "ok", 200, "warm: expiry: "+reason
	if del {
		if err := m.deps.Livy.Delete(ctx, livy.Sessions, w.SessionID); err != nil && !livy.IsNotFound(err) {
			m.deps.Log.WithError(err).WithField("session_id", w.SessionID).Warn("warm: deleting a warm session failed; trying again next time")
			m.audit(m.deps.Now(), "DELETE", "/sessions/"+strconv.Itoa(w.SessionID), strconv.Itoa(w.SessionID), w.Owner, "error", 502, msg+"; delete failed: "+err.Error())
			return
		}
	}
	if w.Kind != "" { // a recorded one
		if err := m.deps.Records.DeleteWarm(ctx, w.Name); err != nil {
			m.deps.Log.WithError(err).Warn("warm: forgetting a warm session failed")
		}
	}
	if m.deps.Metrics != nil {
		m.deps.Metrics.WarmExpired(reason)
	}
	m.deps.Log.WithFields(logrus.Fields{"user": w.Owner, "session_id": w.SessionID, "reason": reason}).Info("warm: warm session ended")
	m.audit(m.deps.Now(), "DELETE", "/sessions/"+strconv.Itoa(w.SessionID), strconv.Itoa(w.SessionID), w.Owner, outcome, status, msg)
}

func (m *Manager) audit(at time.Time, method, path, id, user, outcome string, status int, reason string) {
	if m.deps.Audit == nil {
		return
	}
	m.deps.Audit.Record(audit.Event{
		Time: at, RequestID: fmt.Sprintf("warm-%d-%s", at.UnixNano(), user), User: AuditUser,
		Method: method, Path: path, Status: status,
		Detail: audit.Detail{SessionID: id, ProxyUser: user, Outcome: outcome, Reason: reason},
	})
}

// Adopt hands runAs a warm session equivalent to the create req (already
// completed by the gateway: policy, limits; not yet its name, proxyUser or
// finished conf), or reports none. The store decides who it is for and
// that it is adopted once; Livy is asked whether it still lives and runs
// as runAs. One that does not is deleted, never handed over.
func (m *Manager) Adopt(ctx context.Context, runAs string, req map[string]json.RawMessage) (*livy.Session, []byte, bool) {
	recs, err := m.deps.Records.WarmList(ctx)
	if err != nil {
		m.deps.Log.WithError(err).Warn("warm: reading warm sessions failed; creating normally")
		return nil, nil, false
	}
	for _, w := range recs {
		if w.Owner != runAs || !w.Adopted.IsZero() || !Equivalent(req, []byte(w.Body)) {
			continue
		}
		now := m.deps.Now()
		ok, err := m.deps.Records.ClaimWarm(ctx, w.Name, runAs, now)
		if err != nil || !ok {
			continue
		}
		s, raw, err := m.deps.Livy.Get(ctx, livy.Sessions, strconv.Itoa(w.SessionID))
		if err != nil || s.SessionName() != w.Name || s.User() != runAs || !usable(s.State) {
			state := "gone"
			if err == nil {
				state = s.State
			}
			m.deps.Log.WithFields(logrus.Fields{"user": runAs, "session_id": w.SessionID, "state": state}).Warn("warm: a warm session is not usable; not handing it over")
			if err == nil && s.SessionName() == w.Name {
				_ = m.deps.Livy.Delete(ctx, livy.Sessions, w.SessionID)
			}
			_ = m.deps.Records.DeleteWarm(ctx, w.Name)
			if m.deps.Metrics != nil {
				m.deps.Metrics.WarmExpired(ReasonDied)
			}
			m.audit(now, "DELETE", "/sessions/"+strconv.Itoa(w.SessionID), strconv.Itoa(w.SessionID), runAs, "ok", 200, "warm: expiry: "+ReasonDied+" ("+state+") at adoption")
			continue
		}
		m.mu.Lock()
		m.adopted[w.Name] = true
		m.adoptedN++
		m.mu.Unlock()
		if m.deps.Metrics != nil {
			m.deps.Metrics.WarmAdopted()
		}
		m.deps.Log.WithFields(logrus.Fields{"user": runAs, "session_id": w.SessionID, "warm_for": now.Sub(w.Created).String()}).Info("warm: adopted")
		m.audit(now, "POST", "/sessions", strconv.Itoa(w.SessionID), runAs, "ok", 201, "warm: adoption after "+now.Sub(w.Created).Round(time.Second).String())
		return s, raw, true
	}
	return nil, nil, false
}

// Equivalent reports whether a create (completed, without name and
// proxyUser) asks for nothing beyond a warm session's completed body: the
// same kind or none, and every other field and conf entry it has the warm
// one has with the same value.
func Equivalent(req map[string]json.RawMessage, warmBody []byte) bool {
	var w map[string]json.RawMessage
	if json.Unmarshal(warmBody, &w) != nil {
		return false
	}
	for k, v := range req {
		if string(v) == "null" {
			continue
		}
		switch k {
		case "name", "proxyUser":
			continue
		case "conf":
			var rc, wc map[string]string
			if json.Unmarshal(v, &rc) != nil {
				return false
			}
			if raw, ok := w["conf"]; ok && json.Unmarshal(raw, &wc) != nil {
				return false
			}
			for ck, cv := range rc {
				if got, ok := wc[ck]; !ok || got != cv {
					return false
				}
			}
			continue
		}
		wv, ok := w[k]
		if !ok || !sameJSON(v, wv) {
			return false
		}
	}
	return true
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// Status is the warm sessions as the admin UI shows them.
type Status struct {
	LastPass time.Time
	Error    string
	// Sessions are the warm sessions not adopted yet, oldest first.
	Sessions []store.WarmSession
	// Started and Adopted count since the gateway started.
	Started, Adopted int
}

// AdoptionRate is Adopted/Started, or -1 before any start.
func (s Status) AdoptionRate() float64 {
	if s.Started == 0 {
		return -1
	}
	return float64(s.Adopted) / float64(s.Started)
}

// Status reads the warm sessions.
func (m *Manager) Status(ctx context.Context) Status {
	m.mu.Lock()
	st := Status{LastPass: m.lastPass, Error: m.lastErr, Started: m.started, Adopted: m.adoptedN}
	m.mu.Unlock()
	recs, err := m.deps.Records.WarmList(ctx)
	if err != nil {
		st.Error = err.Error()
	}
	for _, w := range recs {
		if w.Adopted.IsZero() {
			w.Body = ""
			st.Sessions = append(st.Sessions, w)
		}
	}
	return st
}
