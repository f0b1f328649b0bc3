package gateway

// Warm sessions wiring (gateway/warm): the proxy's create path makes them,
// the Hub says whose server runs, the store says whom each is for.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/config"
	"github.com/livygate/livygate/gateway/metrics"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/warm"
	"github.com/livygate/livygate/livy"
)

// warmHook is the proxy's Warm: the Manager once it is built.
type warmHook struct{ m *warm.Manager }

func (h *warmHook) Adopt(ctx context.Context, runAs string, req map[string]json.RawMessage) (*livy.Session, []byte, bool) {
	if h.m == nil {
		return nil, nil, false
	}
	return h.m.Adopt(ctx, runAs, req)
}

func (h *warmHook) Hidden(name string) bool {
	if h.m == nil {
		return warm.IsName(name)
	}
	return h.m.Hidden(name)
}

// newWarm builds the warm sessions, or nil when warm: is off.
func newWarm(cfg config.Config, p *proxy.Proxy, b *backends, st store.Store, sink audit.Sink, m *metrics.Metrics, log logrus.FieldLogger) (*warm.Manager, error) {
	if !cfg.Warm.Enabled {
		return nil, nil
	}
	groupsOf := b.groupsOf()
	create := func(ctx context.Context, user, name string, body []byte) (warm.Created, error) {
		id := &auth.Identity{User: user, Method: "warm"}
		if groupsOf != nil {
			groups, err := groupsOf(ctx, user)
			if err != nil {
				return warm.Created{}, err
			}
			id.Groups = groups
			id.Admin = id.InGroup(cfg.Auth.AdminGroup)
		}
		sid, completed, err := p.CreateWarm(ctx, id, name, body)
		return warm.Created{ID: sid, Body: completed}, err
	}
	hub := *b.hub // without the shared client's retries: the next pass tries again
	hub.Retries = 1
	deps := warm.Deps{Livy: p.Livy(), Hub: &hub, Create: create, Audit: sink, Metrics: m, Log: log}
	if st != nil {
		deps.Records = st
		holder := leaseHolder()
		ttl := 3 * cfg.Warm.Interval
		deps.Lease = func(ctx context.Context) bool {
			ok, err := st.TryLease(ctx, "warm", holder, ttl)
			if err != nil {
				log.WithError(err).Warn("warm: taking the lease failed; skipping this pass")
			}
			return ok && err == nil
		}
	} else {
		deps.Records = warm.NewMemory()
	}
	return warm.New(cfg.Warm, deps)
}

// leaseHolder names this process among replicas.
func leaseHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return host + "-" + hex.EncodeToString(b) + "-" + time.Now().UTC().Format("150405")
}
