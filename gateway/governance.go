package gateway

// Session governance wiring: the limits on creates (gateway/limits) and the
// reaper (gateway/reaper), joined into the proxy's one Governor hook.

import (
	"context"
	"encoding/json"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/limits"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/reaper"
	"github.com/livygate/livygate/gateway/route"
	"github.com/livygate/livygate/livy"
)

// governor is the proxy's Governor: limits always (they also keep fields
// the backend's Livy does not know from reaching it), the reaper when
// configured.
type governor struct {
	limits *limits.Limiter
	reaper *reaper.Reaper // nil when reaper: is off
}

func (g *governor) Admit(ctx context.Context, res livy.Resource, caller *auth.Identity, runAs string, req map[string]json.RawMessage) (func(), error) {
	return g.limits.Admit(ctx, res, limits.Caller{User: caller.User, Groups: caller.Groups, Admin: caller.Admin,
		Uncounted: proxy.IsWarmCreate(ctx)}, runAs, req)
}

func (g *governor) Used(res livy.Resource, id int, method, rest string) {
	if g.reaper != nil {
		g.reaper.Used(res, id, method, rest)
	}
}

func (g *governor) Ended(res livy.Resource, item string) (string, string, bool) {
	if g.reaper == nil {
		return "", "", false
	}
	return g.reaper.Ended(res, item)
}

// newLimiter builds the limits with the proxy's Livy client, which counts
// a user's sessions across every backend when there are several.
func newLimiter(cfg config.Config, lc *livy.Client, router *route.Router, log logrus.FieldLogger) (*limits.Limiter, error) {
	version, err := backendVersion(cfg, lc, router)
	if err != nil {
		return nil, err
	}
	return limits.New(cfg.Limits, limits.Deps{Livy: lc, Version: version, Log: log})
}

// newReaper builds the reaper, or nil when reaper: is off.
func newReaper(cfg config.Config, lc *livy.Client, b *backends, sink audit.Sink, gate reaper.Gate, log logrus.FieldLogger) (*reaper.Reaper, error) {
	if !cfg.Reaper.Enabled() {
		return nil, nil
	}
	deps := reaper.Deps{Livy: lc, Audit: sink, Log: log, Gate: gate}
	if cfg.Reaper.OrphanAfter > 0 {
		hub := *b.hub   // the shared client's connections, without its retries:
		hub.Retries = 1 // the next pass tries again
		deps.Hub = &hub
	}
	return reaper.New(cfg.Reaper, deps)
}
