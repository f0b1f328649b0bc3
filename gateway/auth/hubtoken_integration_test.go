//go:build integration

package auth_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/jupyterhub"
	"github.com/livygate/livygate/jupyterhub/hubtest"
)

// Issue 11, item 12, against the real JupyterHub: a user's full token logs
// in; the same user's token narrowed to scopes that do not reach their
// servers, and the service's own token, do not.
func TestIntegrationHubTokenKindAndScopes(t *testing.T) {
	hub := hubtest.Start(t, 50, "alice")
	c, err := jupyterhub.New(hub.URL, hub.ServiceToken, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cfg := auth.Default()
	cfg.HubToken.CacheTTL = time.Minute
	h := auth.NewHubToken(cfg, c, nil)
	login := func(tok string) (*auth.Identity, error) {
		r := httptest.NewRequest("GET", "/sessions", nil)
		r.Header.Set("Authorization", "token "+tok)
		return h.Authenticate(context.Background(), r)
	}
	if id, err := login(hub.TokenFor(t, "alice")); err != nil || id.User != "alice" {
		t.Errorf("alice's full token: %+v %v", id, err)
	}
	if id, err := login(hub.TokenWithScopes(t, "alice", "access:servers!user=alice")); err != nil || id.User != "alice" {
		t.Errorf("alice's token for her servers: %+v %v", id, err)
	}
	if _, err := login(hub.TokenWithScopes(t, "alice", "read:users:groups!user=alice")); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("alice's narrowed token: %v, want refused", err)
	}
	if _, err := login(hub.ServiceToken); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("the service's token: %v, want refused", err)
	}
}
