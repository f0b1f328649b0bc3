package reaper

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/jupyterhub"
	"github.com/livygate/livygate/livy"
)

// Livy is what the reaper needs of Livy: the list (never one session by
// id) and a delete.
type Livy interface {
	ListAll(ctx context.Context, res livy.Resource) ([]livy.Brief, error)
	Delete(ctx context.Context, res livy.Resource, id int) error
}

// Hub is what the reaper needs of JupyterHub (a *jupyterhub.Client).
type Hub interface {
	// ActiveServers names the users whose notebook server runs (or is
	// starting or stopping).
	ActiveServers(ctx context.Context) (map[string]bool, error)
	// Servers lists a user's servers, stopped ones included.
	Servers(ctx context.Context, user string) ([]jupyterhub.Server, error)
}

// Deps are what a Reaper needs besides its configuration.
type Deps struct {
	Livy Livy
	// Hub, when set, lets the reaper reap orphans (reaper.orphan_after).
	Hub Hub
	// Activity holds the last use of each session; nil is in-process.
	Activity Activity
	// Audit receives one event per reap.
	Audit audit.Sink
	Log   logrus.FieldLogger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Spare, when set, names sessions (by Livy name) the reaper leaves
	// alone: warm sessions not adopted yet, which gateway/warm ends itself.
	Spare func(name string) bool
	// Gate, when set, lets Run's passes happen on one replica only (the
	// holder of the reaper's lease, store.Singleton); nil reaps on every
	// tick.
	Gate Gate
}

// Gate decides whether this replica runs a timed pass now.
type Gate interface {
	Do(ctx context.Context, job func(context.Context)) bool
}

// Reasons a session is reaped.
const (
	ReasonIdle   = "idle"
	ReasonOrphan = "orphaned"
)

// AuditUser is the user reaps are recorded as in the audit trail.
const AuditUser = "livygate-reaper"

// Action is one thing the reaper did (or, in a dry run, would have done).
type Action struct {
	Time      time.Time `json:"time"`
	SessionID int       `json:"session_id"`
	Name      string    `json:"name,omitempty"`
	Owner     string    `json:"owner"`
	Reason    string    `json:"reason"`
	Detail    string    `json:"detail"`
	DryRun    bool      `json:"dry_run,omitempty"`
	Error     string    `json:"error,omitempty"`
}

// Notebook is the reaper's view of a user's JupyterHub server.
type Notebook struct {
	// State is "running", "stopped", "none" (the Hub knows no server of
	// theirs) or "unknown" (not asked, or the Hub did not answer).
	State string `json:"state"`
	// Since is when it was last seen running, for a stopped server.
	Since time.Time `json:"since,omitzero"`
}

// Reaper ends idle and orphaned interactive sessions.
type Reaper struct {
	cfg      Config
	deps     Deps
	activity Activity

	mu        sync.Mutex
	tracked   map[int]*tracked
	notebooks map[string]*notebook
	reaped    map[string]*reapedSession // "#id" and "@name" → the reap
	reported  map[int]bool              // dry-run reports already made
	history   []Action
	lastPass  time.Time
	livyErr   string
	hubErr    string
}

// tracked is what the reaper knows of one live session.
type tracked struct {
	owner, name, state string
	firstSeen          time.Time
	lastNotIdle        time.Time // last pass that saw it busy, starting, …
}

type notebook struct {
	running     bool
	lastRunning time.Time // zero: never seen running
	none        bool      // the Hub knows no server of this user's
	asked       time.Time // when Servers was last asked
}

type reapedSession struct {
	owner string
	msg   string
	at    time.Time
}

// New builds a Reaper from a validated Config.
func New(cfg Config, deps Deps) (*Reaper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Livy == nil {
		return nil, fmt.Errorf("reaper: needs Livy")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = logrus.StandardLogger()
	}
	if deps.Activity == nil {
		deps.Activity = NewMemoryActivity()
	}
	return &Reaper{
		cfg: cfg, deps: deps, activity: deps.Activity,
		tracked: map[int]*tracked{}, notebooks: map[string]*notebook{},
		reaped: map[string]*reapedSession{}, reported: map[int]bool{},
	}, nil
}

// Config is the reaper's configuration.
func (r *Reaper) Config() Config { return r.cfg }

// Run reaps every Interval until ctx ends. A pass that fails (Livy or the
// Hub down) reaps nothing it cannot be sure of and is retried next time.
func (r *Reaper) Run(ctx context.Context) {
	if !r.cfg.Enabled() {
		return
	}
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, max(r.cfg.Interval, time.Minute))
			if r.deps.Gate != nil {
				r.deps.Gate.Do(pctx, func(ctx context.Context) { r.Pass(ctx) })
			} else {
				r.Pass(pctx)
			}
			cancel()
		}
	}
}

// Used records activity: a statement, completion or cancel sent to an
// interactive session. Polls (GETs) are not activity.
func (r *Reaper) Used(res livy.Resource, id int, method, rest string) {
	if method != "POST" || res != livy.Sessions {
		return
	}
	if strings.HasPrefix(rest, "statements") || rest == "completion" {
		r.activity.Touch(id, r.deps.Now())
	}
}

// Ended explains a session the reaper deleted: its owner and the message
// its next request gets. Batches are never reaped.
func (r *Reaper) Ended(res livy.Resource, item string) (owner, msg string, ok bool) {
	if res != livy.Sessions {
		return "", "", false
	}
	key := "@" + item
	if item != "" && strings.Trim(item, "0123456789") == "" {
		n, err := strconv.Atoi(item)
		if err != nil {
			return "", "", false
		}
		key = "#" + strconv.Itoa(n)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.reaped[key]
	if s == nil || r.deps.Now().Sub(s.at) > r.cfg.Remember {
		return "", "", false
	}
	return s.owner, s.msg, true
}

// Pass looks at every live session once and reaps what is due. It returns
// the actions taken (or, in a dry run, reported for the first time).
func (r *Reaper) Pass(ctx context.Context) []Action {
	entries, err := r.deps.Livy.ListAll(ctx, livy.Sessions)
	now := r.deps.Now()
	r.mu.Lock()
	r.lastPass = now
	r.expireLocked(now)
	if err != nil {
		r.livyErr = err.Error()
		r.mu.Unlock()
		r.deps.Log.WithError(err).Warn("reaper: listing Livy's sessions failed; reaping nothing")
		return nil
	}
	r.livyErr = ""
	r.trackLocked(entries, now)
	r.mu.Unlock()

	orphaned := r.orphans(ctx, now)

	var due []Action
	r.mu.Lock()
	for i := range entries {
		e := &entries[i]
		t := r.tracked[e.ID]
		if t == nil {
			continue // not live
		}
		if r.deps.Spare != nil && r.deps.Spare(t.name) {
			continue // a warm session nobody adopted yet
		}
		a := Action{Time: now, SessionID: e.ID, Name: t.name, Owner: t.owner}
		// Orphaned only if it existed while the server still ran: a session
		// made after the server stopped came from elsewhere (curl, a job),
		// not from the notebook that went away.
		if since, ok := orphaned[t.owner]; ok && !t.firstSeen.After(since) {
			a.Reason = ReasonOrphan
			a.Detail = fmt.Sprintf("its owner's notebook server has been stopped for %s (reaper.orphan_after %s)",
				Short(now.Sub(since)), Short(r.cfg.OrphanAfter))
		} else if idle, ok := r.idleLocked(e.ID, now); ok && r.cfg.IdleAfter > 0 && idle >= r.cfg.IdleAfter {
			a.Reason = ReasonIdle
			a.Detail = fmt.Sprintf("idle for %s (reaper.idle_after %s)", Short(idle), Short(r.cfg.IdleAfter))
		} else {
			continue
		}
		if r.cfg.DryRun {
			if r.reported[e.ID] {
				continue
			}
			r.reported[e.ID] = true
			a.DryRun = true
		}
		due = append(due, a)
	}
	r.mu.Unlock()

	for i := range due {
		r.reap(ctx, &due[i])
	}
	return due
}

// trackLocked updates what the reaper knows of each live session and
// forgets the ones gone from Livy's list.
func (r *Reaper) trackLocked(entries []livy.Brief, now time.Time) {
	live := make(map[int]bool, len(entries))
	for i := range entries {
		e := &entries[i]
		if !Live(e.State) {
			continue
		}
		live[e.ID] = true
		owner, name := e.User(), e.SessionName()
		t := r.tracked[e.ID]
		if t == nil || t.owner != owner || t.name != name {
			if t != nil {
				r.activity.Forget(e.ID) // another session under a reused id
			}
			t = &tracked{owner: owner, name: name, firstSeen: now}
			r.tracked[e.ID] = t
		}
		t.state = e.State
		if e.State != "idle" {
			t.lastNotIdle = now
		}
	}
	for id := range r.tracked {
		if !live[id] {
			delete(r.tracked, id)
			delete(r.reported, id)
			r.activity.Forget(id)
		}
	}
}

// idleLocked is how long a session has been idle: since the last statement
// or completion through the gateway, the last pass that saw it busy or
// starting, or (for a session the gateway has not seen used) since the
// reaper first saw it. A session not idle now is not idle at all.
func (r *Reaper) idleLocked(id int, now time.Time) (time.Duration, bool) {
	t := r.tracked[id]
	if t == nil || t.state != "idle" {
		return 0, false
	}
	last := t.firstSeen
	if t.lastNotIdle.After(last) {
		last = t.lastNotIdle
	}
	if a, ok := r.activity.Last(id); ok && a.After(last) {
		last = a
	}
	return now.Sub(last), true
}

// orphans returns the owners of live sessions whose notebook server has
// been stopped for at least OrphanAfter, with when it was last running. A
// Hub that does not answer makes nobody an orphan.
func (r *Reaper) orphans(ctx context.Context, now time.Time) map[string]time.Time {
	if r.cfg.OrphanAfter <= 0 || r.deps.Hub == nil {
		return nil
	}
	r.mu.Lock()
	owners := map[string]bool{}
	for _, t := range r.tracked {
		owners[t.owner] = true
	}
	r.mu.Unlock()
	if len(owners) == 0 {
		return nil
	}
	active, err := r.deps.Hub.ActiveServers(ctx)
	if err != nil {
		r.mu.Lock()
		r.hubErr = err.Error()
		r.mu.Unlock()
		r.deps.Log.WithError(err).Warn("reaper: asking JupyterHub which servers run failed; reaping no orphans")
		return nil
	}
	out := map[string]time.Time{}
	for user := range owners {
		r.mu.Lock()
		nb := r.notebooks[user]
		if nb == nil {
			nb = &notebook{}
			r.notebooks[user] = nb
		}
		if active[user] {
			nb.running, nb.lastRunning, nb.none = true, now, false
			r.mu.Unlock()
			continue
		}
		nb.running = false
		// Never seen running by this process (it started after the server
		// stopped): ask the Hub when the stopped server was last active.
		ask := nb.lastRunning.IsZero() && (nb.asked.IsZero() || now.Sub(nb.asked) >= askAgain)
		r.mu.Unlock()
		if ask {
			last, none, err := r.lastServerActivity(ctx, user)
			r.mu.Lock()
			if err != nil {
				r.hubErr = err.Error()
			} else {
				nb.asked, nb.none = now, none
				if !none && !last.IsZero() {
					nb.lastRunning = last
				}
			}
			r.mu.Unlock()
			if err != nil {
				r.deps.Log.WithError(err).WithField("user", user).Warn("reaper: reading a user's JupyterHub servers failed")
				continue
			}
		}
		r.mu.Lock()
		if !nb.none && !nb.lastRunning.IsZero() && now.Sub(nb.lastRunning) >= r.cfg.OrphanAfter {
			out[user] = nb.lastRunning
		}
		r.mu.Unlock()
	}
	r.mu.Lock()
	r.hubErr = ""
	r.mu.Unlock()
	return out
}

// askAgain spaces out asking the Hub about a user never seen running.
const askAgain = 10 * time.Minute

// lastServerActivity is when a user's (stopped) servers were last active;
// none is true when the Hub knows no server of theirs at all.
func (r *Reaper) lastServerActivity(ctx context.Context, user string) (last time.Time, none bool, err error) {
	servers, err := r.deps.Hub.Servers(ctx, user)
	if err != nil {
		return time.Time{}, false, err
	}
	if len(servers) == 0 {
		return time.Time{}, true, nil
	}
	for _, s := range servers {
		for _, t := range []*time.Time{s.LastActivity, s.Started} {
			if t != nil && t.After(last) {
				last = *t
			}
		}
	}
	// The Hub lists a default server with no times for a user who never
	// started one.
	return last, last.IsZero(), nil
}

// reap deletes one session (unless dry-running) and records it.
func (r *Reaper) reap(ctx context.Context, a *Action) {
	log := r.deps.Log.WithFields(logrus.Fields{"reaper": true, "session_id": a.SessionID, "proxy_user": a.Owner, "reason": a.Reason})
	if a.DryRun {
		log.Info("reaper (dry run): would reap session: " + a.Detail)
		r.record(*a)
		return
	}
	// Remembered before the delete, which Livy answers only once the
	// session has stopped: a cell sent meanwhile is already told why.
	msg := fmt.Sprintf("Session '%d' was ended by livygate at %s: %s. Restart the kernel (or create a new session) to go on.",
		a.SessionID, a.Time.UTC().Format("2006-01-02 15:04 UTC"), a.Detail)
	keys := []string{"#" + strconv.Itoa(a.SessionID)}
	r.mu.Lock()
	r.reaped[keys[0]] = &reapedSession{owner: a.Owner, msg: msg, at: a.Time}
	if a.Name != "" && strings.Trim(a.Name, "0123456789") != "" {
		keys = append(keys, "@"+a.Name)
		nmsg := strings.Replace(msg, fmt.Sprintf("Session '%d'", a.SessionID), fmt.Sprintf("Session '%s' (%d)", a.Name, a.SessionID), 1)
		r.reaped[keys[1]] = &reapedSession{owner: a.Owner, msg: nmsg, at: a.Time}
	}
	r.mu.Unlock()
	err := r.deps.Livy.Delete(ctx, livy.Sessions, a.SessionID)
	if err != nil && !livy.IsNotFound(err) {
		r.mu.Lock()
		for _, k := range keys {
			delete(r.reaped, k)
		}
		r.mu.Unlock()
		a.Error = err.Error()
		log.WithError(err).Warn("reaper: deleting the session failed")
		r.record(*a)
		r.auditReap(*a, "error", 502)
		return
	}
	log.Info("reaper: reaped session: " + a.Detail)
	r.mu.Lock()
	delete(r.tracked, a.SessionID)
	r.mu.Unlock()
	r.activity.Forget(a.SessionID)
	r.record(*a)
	r.auditReap(*a, "ok", 200)
}

func (r *Reaper) auditReap(a Action, outcome string, status int) {
	if r.deps.Audit == nil {
		return
	}
	reason := "reaper: " + a.Reason + ": " + a.Detail
	if a.Error != "" {
		reason += "; delete failed: " + a.Error
	}
	r.deps.Audit.Record(audit.Event{
		Time: a.Time, RequestID: fmt.Sprintf("reaper-%d-%d", a.Time.UnixMilli(), a.SessionID), User: AuditUser,
		Method: "DELETE", Path: "/sessions/" + strconv.Itoa(a.SessionID), Status: status,
		Detail: audit.Detail{SessionID: strconv.Itoa(a.SessionID), ProxyUser: a.Owner, Outcome: outcome, Reason: reason},
	})
}

func (r *Reaper) record(a Action) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.history = append(r.history, a)
	if over := len(r.history) - r.cfg.History; over > 0 {
		r.history = append(r.history[:0:0], r.history[over:]...)
	}
}

// expireLocked forgets reaps older than Remember.
func (r *Reaper) expireLocked(now time.Time) {
	for k, s := range r.reaped {
		if now.Sub(s.at) > r.cfg.Remember {
			delete(r.reaped, k)
		}
	}
}

// Actions are the recent actions, newest first.
func (r *Reaper) Actions() []Action {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Action, len(r.history))
	for i, a := range r.history {
		out[len(out)-1-i] = a
	}
	return out
}

// IdleFor is how long a live interactive session has been idle as the
// reaper measures it; ok is false for a session that is not idle (busy,
// starting) or that the reaper has not seen yet.
func (r *Reaper) IdleFor(id int) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.idleLocked(id, r.deps.Now())
}

// NotebookOf is the reaper's view of a user's notebook server (known only
// for users with live sessions, when orphan reaping is on).
func (r *Reaper) NotebookOf(user string) Notebook {
	r.mu.Lock()
	defer r.mu.Unlock()
	nb := r.notebooks[user]
	switch {
	case nb == nil:
		return Notebook{State: "unknown"}
	case nb.running:
		return Notebook{State: "running"}
	case nb.none:
		return Notebook{State: "none"}
	case nb.lastRunning.IsZero():
		return Notebook{State: "unknown"}
	}
	return Notebook{State: "stopped", Since: nb.lastRunning}
}

// Status is the reaper's state for admins (GET /admin/reaper, the UI).
type Status struct {
	Enabled     bool     `json:"enabled"`
	DryRun      bool     `json:"dry_run"`
	Interval    string   `json:"interval"`
	IdleAfter   string   `json:"idle_after"`
	OrphanAfter string   `json:"orphan_after"`
	LastPass    string   `json:"last_pass,omitempty"`
	LivyError   string   `json:"livy_error,omitempty"`
	HubError    string   `json:"hub_error,omitempty"`
	Actions     []Action `json:"actions"`
}

// Status reports the reaper's configuration, last pass and recent actions.
func (r *Reaper) Status() Status {
	s := Status{
		Enabled: r.cfg.Enabled(), DryRun: r.cfg.DryRun, Interval: r.cfg.Interval.String(),
		IdleAfter: r.cfg.IdleAfter.String(), OrphanAfter: r.cfg.OrphanAfter.String(),
		Actions: r.Actions(),
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.lastPass.IsZero() {
		s.LastPass = r.lastPass.UTC().Format(time.RFC3339)
	}
	s.LivyError, s.HubError = r.livyErr, r.hubErr
	return s
}

// Live reports whether a Livy session state is one of a session that holds
// resources.
func Live(state string) bool {
	switch state {
	case "dead", "killed", "success", "error", "shutting_down":
		return false
	}
	return true
}

// Short writes a duration for people: 45s, 31m, 2h5m, 3d4h.
func Short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Round(time.Second)/time.Second)) + "s"
	case d < time.Hour:
		d = d.Round(time.Second)
		m, s := d/time.Minute, (d%time.Minute)/time.Second
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%ds", m, s)
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		h, m := d/time.Hour, (d%time.Hour)/time.Minute
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	d = d.Round(time.Hour)
	days, h := d/(24*time.Hour), (d%(24*time.Hour))/time.Hour
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}

// SetSpare names the sessions the reaper leaves alone (warm sessions not
// adopted yet); call it before Run.
func (r *Reaper) SetSpare(f func(name string) bool) { r.deps.Spare = f }
