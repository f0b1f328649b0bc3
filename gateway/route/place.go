package route

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/livygate/livygate/gateway/limits"
	"github.com/livygate/livygate/gateway/scope"
	"github.com/livygate/livygate/livy"
)

// countMaxAge is how long a backend's count of live items from a list is
// trusted for placement: the limits list every backend just before a
// create they count, so a create usually lists nothing more.
const countMaxAge = 5 * time.Second

// place is the placement policy, the one place it is decided: the
// backends a create may go to, best first. A pin naming the caller (or a
// group of theirs) sends it to its backend alone, up or down; otherwise
// every backend, those that answer first, by fewest live items of the
// kind created, then in configuration order.
func (r *Router) place(ctx context.Context, res livy.Resource) []*backend {
	if id := scope.From(ctx).Identity; id != nil {
		for _, p := range r.pins {
			if slices.Contains(p.Users, id.User) || slices.ContainsFunc(id.Groups, func(g string) bool { return slices.Contains(p.Groups, g) }) {
				return []*backend{r.byName[p.Backend]}
			}
		}
	}
	type option struct {
		b    *backend
		live int
		down bool
	}
	opts := make([]option, len(r.backends))
	for i, b := range r.backends {
		live, err := r.liveOn(ctx, b, res)
		opts[i] = option{b, live, err != nil}
	}
	sort.SliceStable(opts, func(i, j int) bool {
		if opts[i].down != opts[j].down {
			return !opts[i].down
		}
		return opts[i].live < opts[j].live
	})
	out := make([]*backend, len(opts))
	for i, o := range opts {
		out[i] = o.b
	}
	return out
}

// liveOn is a backend's count of live items, from the last list when it
// is recent, else from listing it now.
func (r *Router) liveOn(ctx context.Context, b *backend, res livy.Resource) (int, error) {
	if n, ok := b.count(res, countMaxAge); ok && !b.down() {
		return n, nil
	}
	entries, err := b.client.ListAll(ctx, res)
	if err != nil {
		return 0, err
	}
	live := 0
	for i := range entries {
		if limits.Live(entries[i].State) {
			live++
		}
	}
	b.remember(res, live)
	return live, nil
}
