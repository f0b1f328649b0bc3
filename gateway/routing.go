package gateway

// Where the proxy forwards: the one Livy at livy.url, or the Router over
// livy.backends, which every part that talks to Livy then goes through.

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/limits"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/route"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/ui"
	"github.com/livygate/livygate/livy"
)

// livyUpstream fills in where the proxy forwards. It returns the Router
// when livy.backends is configured, nil for livy.url.
func livyUpstream(cfg config.Config, ids store.IDs, o *proxy.Options, log logrus.FieldLogger) (*route.Router, error) {
	if !cfg.Livy.Routes.Enabled() {
		return nil, cfg.Livy.Upstream(o)
	}
	routes := cfg.Livy.Backends()
	r, err := route.New(routes, route.Deps{IDs: ids, Log: log, MaxConnections: cfg.Livy.MaxConnections})
	if err != nil {
		return nil, err
	}
	o.Upstream, o.Transport, o.OwnerCacheTTL = route.VirtualURL, r, cfg.Livy.OwnerCacheTTL
	// No bound on the requests in flight here: one shared by the backends
	// would let a hung one hold the turns of the others' callers. Each
	// backend's connections stay capped.
	for _, b := range routes.Backends {
		o.Timeout = max(o.Timeout, b.Timeout)
	}
	return r, nil
}

// backendVersion is the Livy release create fields are checked against:
// livy.url's, or with several backends the oldest of theirs, so no backend
// gets a field it does not know wherever the create is placed.
func backendVersion(cfg config.Config, lc *livy.Client, router *route.Router) (func(context.Context) (livy.Version, error), error) {
	if router == nil {
		v, err := limits.NewBackendVersion(cfg.Livy.Version, lc.ServerVersion, time.Now)
		if err != nil {
			return nil, err
		}
		return v.Get, nil
	}
	var each []*limits.BackendVersion
	for _, c := range router.Clients() {
		v, err := limits.NewBackendVersion(c.Release, c.ServerVersion, time.Now)
		if err != nil {
			return nil, err
		}
		each = append(each, v)
	}
	return func(ctx context.Context) (livy.Version, error) {
		var oldest *livy.Version
		for _, b := range each {
			v, err := b.Get(ctx)
			if err != nil {
				return livy.Version{}, err
			}
			if oldest == nil || !v.AtLeast(*oldest) {
				oldest = &v
			}
		}
		return *oldest, nil
	}, nil
}

// livyProbes are the Overview's checks of Livy: one per backend, so the
// page says which one is down.
func livyProbes(lc *livy.Client, router *route.Router) []ui.Probe {
	if router == nil {
		return []ui.Probe{{Name: "Livy", Check: lc.Version}}
	}
	var out []ui.Probe
	for _, c := range router.Clients() {
		out = append(out, ui.Probe{Name: "Livy backend " + c.Name, Check: c.Version})
	}
	return out
}
