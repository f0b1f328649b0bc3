package limits

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/livy"
)

// Lister lists every session or batch Livy knows (livy.Client.ListAll).
type Lister interface {
	ListAll(ctx context.Context, res livy.Resource) ([]livy.Brief, error)
}

// Deps are what a Limiter needs besides its configuration.
type Deps struct {
	// Livy counts live sessions and batches; nil only when no count limit
	// is configured.
	Livy Lister
	// Version says which Livy release is behind the gateway (a
	// *BackendVersion's Get), so fields it does not know are never sent.
	Version func(ctx context.Context) (livy.Version, error)
	Log     logrus.FieldLogger
	// Uncounted, when set, names sessions (by Livy name) that are nobody's
	// yet and count against no user: warm sessions not adopted.
	Uncounted func(name string) bool
}

// Refusal is a create the limits refuse: 429 for a count, 400 for a size,
// a queue or a timeout. Its message names the limit.
type Refusal struct {
	Status int
	Msg    string
}

func (e *Refusal) Error() string { return e.Msg }

// HTTPStatus is the answer's status (the proxy reads it).
func (e *Refusal) HTTPStatus() int { return e.Status }

func refuse(format string, args ...any) error {
	return &Refusal{Status: 400, Msg: fmt.Sprintf(format, args...)}
}

// Limiter checks and completes create requests.
type Limiter struct {
	cfg       Config
	deps      Deps
	def       resolved
	overrides []resolved

	mu      sync.Mutex
	counts  map[string]*userCount // res/user → creates in flight
	userMus map[string]*sync.Mutex
}

type userCount struct{ pending int }

// resolved is one user's effective limits with sizes parsed, and where
// they come from (for messages).
type resolved struct {
	Set
	source            string
	driverMem, exeMem int64
}

// New builds a Limiter from a validated Config.
func New(cfg Config, deps Deps) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Log == nil {
		deps.Log = logrus.StandardLogger()
	}
	l := &Limiter{cfg: cfg, deps: deps, counts: map[string]*userCount{}, userMus: map[string]*sync.Mutex{}}
	var err error
	if l.def, err = resolve(cfg.Default, "limits.default"); err != nil {
		return nil, err
	}
	for i, o := range cfg.Overrides {
		r, err := resolve(o.apply(cfg.Default), fmt.Sprintf("limits.overrides[%d]", i))
		if err != nil {
			return nil, err
		}
		l.overrides = append(l.overrides, r)
	}
	if deps.Livy == nil && l.anyCount() {
		return nil, fmt.Errorf("limits: counting sessions needs Livy")
	}
	return l, nil
}

func resolve(s Set, source string) (resolved, error) {
	r := resolved{Set: s, source: source}
	var err error
	if s.MaxDriverMemory != "" {
		if r.driverMem, err = ParseSize(s.MaxDriverMemory); err != nil {
			return r, err
		}
	}
	if s.MaxExecutorMemory != "" {
		if r.exeMem, err = ParseSize(s.MaxExecutorMemory); err != nil {
			return r, err
		}
	}
	return r, nil
}

func (l *Limiter) anyCount() bool {
	if l.def.MaxSessions > 0 || l.def.MaxBatches > 0 {
		return true
	}
	for _, o := range l.overrides {
		if o.MaxSessions > 0 || o.MaxBatches > 0 {
			return true
		}
	}
	return false
}

// For returns the limits that apply to a caller: the first override naming
// the user or one of their groups, else the default.
func (l *Limiter) For(user string, groups []string) (Set, string) {
	r := l.forCaller(user, groups)
	return r.Set, r.source
}

func (l *Limiter) forCaller(user string, groups []string) *resolved {
	for i, o := range l.cfg.Overrides {
		if o.names(user, groups) {
			return &l.overrides[i]
		}
	}
	return &l.def
}

// Caller is who asks for a create (an auth.Identity's fields; this package
// cannot import auth, whose configuration imports it).
type Caller struct {
	User   string
	Groups []string
	Admin  bool
	// Uncounted is a warm session's create (gateway/warm): sizes, queues
	// and timeouts apply, but it takes none of the user's max_sessions
	// (warm.max_total caps warm sessions).
	Uncounted bool
}

// noop is the release of a create that reserved nothing.
func noop() {}

// Admit checks a create request for caller's limits and completes it in
// place (default queue, executor cap, timeouts, fields the backend does not
// know removed). The session will run as runAs, whose live sessions or
// batches are counted. Call release once Livy has answered the create: until
// then the create counts as one of runAs's live sessions, so two creates at
// once cannot both slip under the limit. A refusal is a *Refusal.
func (l *Limiter) Admit(ctx context.Context, res livy.Resource, caller Caller, runAs string, req map[string]json.RawMessage) (release func(), err error) {
	exempt := caller.Admin && l.cfg.AdminsExempt
	lim := l.forCaller(caller.User, caller.Groups)
	conf, err := confOf(req)
	if err != nil {
		return noop, err
	}
	confChanged := false
	if !exempt {
		if err := l.checkSizes(lim, req, conf); err != nil {
			return noop, err
		}
		if lim.MaxExecutors > 0 && conf["spark.dynamicAllocation.maxExecutors"] == "" {
			if conf == nil {
				conf = map[string]string{}
			}
			conf["spark.dynamicAllocation.maxExecutors"] = strconv.Itoa(lim.MaxExecutors)
			confChanged = true
		}
	}
	if err := l.checkQueue(lim, req, conf, exempt); err != nil {
		return noop, err
	}
	if res == livy.Sessions {
		if err := l.timeouts(ctx, req, exempt); err != nil {
			return noop, err
		}
	}
	if confChanged {
		req["conf"], _ = json.Marshal(conf)
	}
	max, what := lim.MaxSessions, "max_sessions"
	if res == livy.Batches {
		max, what = lim.MaxBatches, "max_batches"
	}
	if exempt || max <= 0 || caller.Uncounted {
		return noop, nil
	}
	return l.reserve(ctx, res, caller.User, runAs, max, lim.source+"."+what)
}

// reserve counts runAs's live items (Livy's list plus creates in flight)
// and takes one place if there is room.
func (l *Limiter) reserve(ctx context.Context, res livy.Resource, caller, runAs string, max int, source string) (func(), error) {
	key := string(res) + "/" + runAs
	l.mu.Lock()
	um := l.userMus[key]
	if um == nil {
		um = &sync.Mutex{}
		l.userMus[key] = um
	}
	l.mu.Unlock()
	um.Lock()
	defer um.Unlock()
	entries, err := l.deps.Livy.ListAll(ctx, res)
	if err != nil {
		return noop, &Refusal{Status: 503, Msg: fmt.Sprintf("cannot check the %s limit: listing Livy's %s failed: %v", strings.TrimPrefix(source, "limits."), res, err)}
	}
	live := 0
	for i := range entries {
		if entries[i].User() == runAs && Live(entries[i].State) &&
			(l.deps.Uncounted == nil || !l.deps.Uncounted(entries[i].SessionName())) {
			live++
		}
	}
	l.mu.Lock()
	c := l.counts[key]
	if c == nil {
		c = &userCount{}
		l.counts[key] = c
	}
	live += c.pending
	if live >= max {
		l.mu.Unlock()
		noun := "sessions"
		if res == livy.Batches {
			noun = "batches"
		}
		who := "you have"
		if runAs != caller {
			who = runAs + " has"
		}
		return noop, &Refusal{Status: 429, Msg: fmt.Sprintf("%s %d live %s; the limit is %d (%s)", who, live, noun, max, source)}
	}
	c.pending++
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			c.pending--
			l.mu.Unlock()
		})
	}, nil
}

// Live reports whether a Livy session or batch state is one of a session
// that holds resources.
func Live(state string) bool {
	switch state {
	case "dead", "killed", "success", "error", "shutting_down":
		return false
	}
	return true
}

func confOf(req map[string]json.RawMessage) (map[string]string, error) {
	raw, ok := req["conf"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var conf map[string]string
	if err := json.Unmarshal(raw, &conf); err != nil {
		return nil, refuse("conf must be an object of string values")
	}
	return conf, nil
}

// field is one way a request asks for a resource: a body field or a conf key.
type field struct {
	name   string
	value  string
	isConf bool
}

// asks collects the body fields and conf keys that mean the same resource.
func asks(req map[string]json.RawMessage, conf map[string]string, bodyField string, confKeys ...string) ([]field, error) {
	var out []field
	if raw, ok := req[bodyField]; ok && string(raw) != "null" {
		v, err := scalar(raw)
		if err != nil {
			return nil, refuse("%s must be a string or a number", bodyField)
		}
		out = append(out, field{name: bodyField, value: v})
	}
	for _, k := range confKeys {
		if v, ok := conf[k]; ok {
			out = append(out, field{name: k, value: v, isConf: true})
		}
	}
	return out, nil
}

// scalar reads a JSON string or number as text.
func scalar(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", err
	}
	return n.String(), nil
}

func describe(f field) string {
	if f.isConf {
		return fmt.Sprintf("conf %s=%q", f.name, f.value)
	}
	return fmt.Sprintf("%s %q", f.name, f.value)
}

func (l *Limiter) checkSizes(lim *resolved, req map[string]json.RawMessage, conf map[string]string) error {
	type check struct {
		max      int64
		shown    string // max as the configuration says it
		key      string
		body     string
		confKeys []string
		parse    func(field) (int64, error)
	}
	checks := []check{
		{lim.driverMem, lim.MaxDriverMemory, "max_driver_memory", "driverMemory", []string{"spark.driver.memory"}, sizeAsked},
		{lim.exeMem, lim.MaxExecutorMemory, "max_executor_memory", "executorMemory", []string{"spark.executor.memory"}, sizeAsked},
		{int64(lim.MaxDriverCores), strconv.Itoa(lim.MaxDriverCores), "max_driver_cores", "driverCores", []string{"spark.driver.cores"}, countAsked},
		{int64(lim.MaxExecutorCores), strconv.Itoa(lim.MaxExecutorCores), "max_executor_cores", "executorCores", []string{"spark.executor.cores"}, countAsked},
		{int64(lim.MaxExecutors), strconv.Itoa(lim.MaxExecutors), "max_executors", "numExecutors", []string{"spark.executor.instances",
			"spark.dynamicAllocation.maxExecutors", "spark.dynamicAllocation.initialExecutors", "spark.dynamicAllocation.minExecutors"}, countAsked},
	}
	for _, c := range checks {
		if c.max <= 0 {
			continue
		}
		fs, err := asks(req, conf, c.body, c.confKeys...)
		if err != nil {
			return err
		}
		for _, f := range fs {
			n, err := c.parse(f)
			if err != nil {
				return err
			}
			if n > c.max {
				return refuse("%s is over the limit of %s (%s.%s)", describe(f), c.shown, lim.source, c.key)
			}
		}
	}
	return nil
}

// sizeAsked reads a memory size a request asks for.
func sizeAsked(f field) (int64, error) {
	n, err := ParseSize(f.value)
	if err != nil {
		return 0, refuse("%s: %v", f.name, err)
	}
	return n, nil
}

// countAsked reads a count (cores, executors) a request asks for.
func countAsked(f field) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(f.value), 10, 64)
	if err != nil || n < 0 {
		return 0, refuse("%s: %q is not a whole number", f.name, f.value)
	}
	return n, nil
}

func (l *Limiter) checkQueue(lim *resolved, req map[string]json.RawMessage, conf map[string]string, exempt bool) error {
	fs, err := asks(req, conf, "queue", "spark.yarn.queue")
	if err != nil {
		return err
	}
	if len(fs) == 0 {
		if lim.DefaultQueue != "" {
			req["queue"], _ = json.Marshal(lim.DefaultQueue)
		}
		return nil
	}
	if exempt || len(lim.Queues) == 0 {
		return nil
	}
	for _, f := range fs {
		if !slices.Contains(lim.Queues, f.value) {
			return refuse("%s is not an allowed YARN queue; use one of %s (%s.queues)", describe(f), strings.Join(lim.Queues, ", "), lim.source)
		}
	}
	return nil
}

// timeouts clamps (or refuses) ttl, idleTimeout and heartbeatTimeoutInSecond,
// fills in defaults, and removes the fields the backend's Livy predates.
func (l *Limiter) timeouts(ctx context.Context, req map[string]json.RawMessage, exempt bool) error {
	t := l.cfg.Timeouts
	v := livy.Version{Major: 0, Minor: 7} // unknown: assume the oldest, send nothing new
	_, hasTTL := req["ttl"]
	_, hasIdle := req["idleTimeout"]
	if hasTTL || hasIdle || t.TTL.Default > 0 || t.IdleTimeout.Default > 0 {
		if l.deps.Version != nil {
			got, err := l.deps.Version(ctx)
			if err != nil {
				l.deps.Log.WithError(err).Warn("limits: Livy's version is unknown; ttl and idleTimeout are not sent")
			} else {
				v = got
			}
		}
	}
	timers := []struct {
		field   string
		key     string
		t       Timeout
		since   livy.Version
		seconds bool
	}{
		{"ttl", "ttl", t.TTL, livy.V08, false},
		{"idleTimeout", "idle_timeout", t.IdleTimeout, livy.V09, false},
		{"heartbeatTimeoutInSecond", "heartbeat_timeout", t.HeartbeatTimeout, livy.Version{}, true},
	}
	for _, tm := range timers {
		raw, present := req[tm.field]
		if present && string(raw) == "null" {
			delete(req, tm.field)
			present = false
		}
		if !v.AtLeast(tm.since) {
			if present {
				l.deps.Log.WithField("field", tm.field).Infof("limits: Livy %s does not know %s; not sent", v, tm.field)
				delete(req, tm.field)
			}
			continue
		}
		if !present {
			if tm.t.Default > 0 {
				req[tm.field] = encodeTimer(tm.t.Default, tm.seconds)
			}
			continue
		}
		d, err := decodeTimer(raw, tm.seconds)
		if err != nil {
			// Livy refuses what it cannot read itself ("Rejected, Reason:
			// …"), with the same grammar, so nothing unread gets through.
			continue
		}
		// heartbeatTimeoutInSecond 0 means no heartbeat timeout at all.
		over := d > tm.t.Max || (tm.seconds && d == 0)
		if exempt || tm.t.Max <= 0 || !over {
			continue
		}
		if l.cfg.Timeouts.OverMax == "refuse" {
			return refuse("%s %s is over the maximum of %s (limits.timeouts.%s.max)", tm.field, string(raw), tm.t.Max, tm.key)
		}
		req[tm.field] = encodeTimer(tm.t.Max, tm.seconds)
	}
	return nil
}

func encodeTimer(d time.Duration, seconds bool) json.RawMessage {
	if seconds {
		return json.RawMessage(strconv.FormatInt(int64(d/time.Second), 10))
	}
	b, _ := json.Marshal(FormatLivyTime(d))
	return b
}

func decodeTimer(raw json.RawMessage, seconds bool) (time.Duration, error) {
	s, err := scalar(raw)
	if err != nil {
		return 0, fmt.Errorf("must be a string or a number")
	}
	if seconds {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a whole number of seconds", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	return ParseLivyTime(s)
}

// SetUncounted names the sessions that count against no user (warm
// sessions not adopted yet); call it before the Limiter is used.
func (l *Limiter) SetUncounted(f func(name string) bool) { l.deps.Uncounted = f }
