package secrets

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultPrefix marks a conf value as a secret reference.
const DefaultPrefix = "secret@"

const (
	// maskRefresh is how long Masks trusts the provider's list of secrets.
	maskRefresh = 30 * time.Second
	// allTimeout bounds one Provider.All call made by Masks, which has no
	// context of its own.
	allTimeout = 10 * time.Second
	// minMaskLen leaves out short values: masking "1" everywhere would wreck
	// unrelated text.
	minMaskLen = 4
)

// Access lists who may use a secret. A secret with no Access entry is usable
// by nobody.
type Access struct {
	Users  []string `yaml:"users"`
	Groups []string `yaml:"groups"`
}

// Options configure a Resolver.
type Options struct {
	// Prefix marks a conf value as a reference; DefaultPrefix when empty.
	Prefix   string
	Provider Provider
	// Access maps a secret name to who may use it.
	Access map[string]Access
	// Now is the clock Masks refreshes by; time.Now when nil.
	Now func() time.Time
	// OnRefreshError, when set, hears why Provider.All failed; Masks then
	// keeps the values it had and retries after the refresh interval.
	OnRefreshError func(error)
}

// RefusedError is the one answer for a reference that is malformed, unknown
// or not allowed, so that a caller cannot tell whether a secret exists.
type RefusedError struct {
	Key string // the conf key
	Ref string // the reference as written, e.g. "secret@db-password"
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("conf key %q: secret reference %q is unknown or not allowed for you", e.Key, e.Ref)
}

type acl struct {
	users, groups map[string]bool
}

// maskState is published whole through an atomic pointer, so Masks reads it
// without a lock; its maps are never changed once published.
type maskState struct {
	masks map[string]string // what Masks returns: all + resolved
	all   map[string]string // value → reference, from the last good Provider.All
	at    time.Time         // when Provider.All was last tried; zero: never
}

// Resolver replaces secret references in Spark conf and remembers the
// values it handed out so that they can be masked. Safe for concurrent use.
type Resolver struct {
	prefix         string
	provider       Provider
	access         map[string]acl
	now            func() time.Time
	onRefreshError func(error)

	refreshMu sync.Mutex // one Provider.All at a time
	mu        sync.Mutex // guards resolved and writes to state
	resolved  map[string]string
	state     atomic.Pointer[maskState]
}

// NewResolver checks opts: a provider is required, and every name in Access
// must be a valid secret name listing no empty user or group. Every problem
// is reported at once.
func NewResolver(opts Options) (*Resolver, error) {
	var errs []error
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if strings.TrimSpace(opts.Prefix) != opts.Prefix {
		errs = append(errs, fmt.Errorf("secret reference prefix %q must not start or end with spaces", opts.Prefix))
	}
	if opts.Provider == nil {
		errs = append(errs, errors.New("no secret provider"))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	access := make(map[string]acl, len(opts.Access))
	for _, name := range slices.Sorted(maps.Keys(opts.Access)) {
		a := opts.Access[name]
		if !ValidName(name) {
			errs = append(errs, fmt.Errorf("secret access: %q is not a valid secret name", name))
			continue
		}
		// An empty entry would let a caller without a name through.
		if slices.Contains(a.Users, "") || slices.Contains(a.Groups, "") {
			errs = append(errs, fmt.Errorf("secret access: %q lists an empty user or group", name))
			continue
		}
		e := acl{users: make(map[string]bool, len(a.Users)), groups: make(map[string]bool, len(a.Groups))}
		for _, u := range a.Users {
			e.users[u] = true
		}
		for _, g := range a.Groups {
			e.groups[g] = true
		}
		access[name] = e
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r := &Resolver{
		prefix:         opts.Prefix,
		provider:       opts.Provider,
		access:         access,
		now:            opts.Now,
		onRefreshError: opts.OnRefreshError,
		resolved:       make(map[string]string),
	}
	r.state.Store(&maskState{masks: map[string]string{}, all: map[string]string{}})
	return r, nil
}

// Prefix is the reference prefix in use.
func (r *Resolver) Prefix() string { return r.prefix }

func (r *Resolver) allowed(name, user string, groups []string) bool {
	a, ok := r.access[name]
	if !ok {
		return false
	}
	if user != "" && a.users[user] {
		return true
	}
	for _, g := range groups {
		if a.groups[g] {
			return true
		}
	}
	return false
}

// Resolve returns a copy of conf in which every value that is exactly
// Prefix+NAME is replaced by the secret's value, when user or one of groups
// is on NAME's access list; other values pass unchanged. A malformed,
// unknown or not allowed reference gives a *RefusedError, the same for all
// three; a store that cannot be read gives an error wrapping ErrUnavailable.
// The second result maps each substituted value to its reference, so answers
// can show the reference instead.
//
// A conf without references is returned as is, with no lookup.
func (r *Resolver) Resolve(ctx context.Context, user string, groups []string, conf map[string]string) (map[string]string, map[string]string, error) {
	has := false
	for _, v := range conf {
		if strings.HasPrefix(v, r.prefix) {
			has = true
			break
		}
	}
	if !has {
		return conf, nil, nil
	}
	out := make(map[string]string, len(conf))
	subs := make(map[string]string)
	values := make(map[string]string) // name → value, one lookup per name
	// Sorted keys: with several bad references, the error is always the same.
	for _, key := range slices.Sorted(maps.Keys(conf)) {
		ref := conf[key]
		name, ok := strings.CutPrefix(ref, r.prefix)
		if !ok {
			out[key] = ref
			continue
		}
		// Access is checked before the store is touched, so a caller cannot
		// probe the store, and a name that is not granted is never a path.
		if !ValidName(name) || !r.allowed(name, user, groups) {
			return nil, nil, &RefusedError{Key: key, Ref: ref}
		}
		v, ok := values[name]
		if !ok {
			var err error
			v, err = r.provider.Lookup(ctx, name)
			switch {
			case errors.Is(err, ErrNotFound):
				return nil, nil, &RefusedError{Key: key, Ref: ref}
			case err != nil:
				return nil, nil, fmt.Errorf("%w: conf key %q: %w", ErrUnavailable, key, err)
			case v == "":
				return nil, nil, fmt.Errorf("%w: conf key %q: secret %q has an empty value", ErrUnavailable, key, name)
			}
			values[name] = v
		}
		out[key] = v
		subs[v] = ref
	}
	r.remember(subs)
	return out, subs, nil
}

// remember adds resolved values to the masks at once, so the answer to the
// very request that used a secret is already masked.
func (r *Resolver) remember(subs map[string]string) {
	s := r.state.Load()
	known := true
	for v, ref := range subs {
		if len(v) >= minMaskLen && s.masks[v] != ref {
			known = false
			break
		}
	}
	if known {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Values stay remembered after a rotation: sessions started with the
	// old value may still echo it.
	for v, ref := range subs {
		if len(v) >= minMaskLen {
			r.resolved[v] = ref
		}
	}
	s = r.state.Load()
	r.state.Store(&maskState{masks: merge(s.all, r.resolved), all: s.all, at: s.at})
}

// Masks returns value → reference for every secret the resolver knows: the
// values from Provider.All, refreshed at most every 30 s, and every value
// resolved so far; values shorter than 4 bytes are left out. The map is
// shared: callers must not change it. Cheap on every call: it is rebuilt
// only when something changed.
func (r *Resolver) Masks() map[string]string {
	s := r.state.Load()
	if r.fresh(s) {
		return s.masks
	}
	if s.at.IsZero() {
		// Never listed yet: wait, as an empty map could let a secret from a
		// session made before a restart through.
		r.refreshMu.Lock()
	} else if !r.refreshMu.TryLock() {
		return s.masks // another caller is refreshing; the old list will do
	}
	defer r.refreshMu.Unlock()
	if s = r.state.Load(); r.fresh(s) {
		return s.masks
	}
	ctx, cancel := context.WithTimeout(context.Background(), allTimeout)
	all, err := r.provider.All(ctx)
	cancel()
	if err != nil && r.onRefreshError != nil {
		r.onRefreshError(fmt.Errorf("%w: listing secrets for masking: %w", ErrUnavailable, err))
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	s = r.state.Load()
	next := &maskState{all: s.all, at: r.now()}
	if err == nil {
		next.all = make(map[string]string, len(all))
		for _, name := range slices.Sorted(maps.Keys(all)) {
			if v := all[name]; len(v) >= minMaskLen {
				next.all[v] = r.prefix + name
			}
		}
	}
	next.masks = merge(next.all, r.resolved)
	r.state.Store(next)
	return next.masks
}

// MasksFor is Masks narrowed to the secrets user (or one of groups) may use.
func (r *Resolver) MasksFor(user string, groups []string) map[string]string {
	all := r.Masks()
	out := make(map[string]string)
	for v, ref := range all {
		if name, ok := strings.CutPrefix(ref, r.prefix); ok && r.allowed(name, user, groups) {
			out[v] = ref
		}
	}
	return out
}

func (r *Resolver) fresh(s *maskState) bool {
	return !s.at.IsZero() && r.now().Sub(s.at) < maskRefresh
}

// merge builds a new map; resolved references win, as they are the names
// callers actually wrote.
func merge(all, resolved map[string]string) map[string]string {
	m := make(map[string]string, len(all)+len(resolved))
	maps.Copy(m, all)
	maps.Copy(m, resolved)
	return m
}
