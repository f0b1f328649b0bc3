//go:build integration

package jupyterhub_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/jupyterhub"
	"github.com/livygate/livygate/jupyterhub/hubtest"
)

// TestIntegrationRealHub lists more users than the Hub's page limit, and
// asks the real Hub whose tokens are whose.
func TestIntegrationRealHub(t *testing.T) {
	hub := hubtest.Start(t, 3, "alice", "bob")
	hub.CreateNumberedUsers(t, 11)

	c, err := jupyterhub.New(hub.URL, hub.ServiceToken, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	users, err := c.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, u := range users {
		names[u.Name] = true
	}
	if len(users) != 14 || len(names) != 14 || !names["alice"] || !names["carol"] || !names["user10"] {
		t.Errorf("listed %d users (%d distinct) past a page limit of 3: %v", len(users), len(names), names)
	}

	tok := hub.TokenFor(t, "alice")
	u, err := c.UserForToken(context.Background(), tok)
	if err != nil || u.Name != "alice" {
		t.Errorf("alice's token: %+v %v", u, err)
	}
	if _, err := c.UserForToken(context.Background(), "forged"+tok[6:]); !jupyterhub.IsAuthError(err) {
		t.Errorf("forged token: %v", err)
	}
	aliceClient, _ := jupyterhub.New(hub.URL, tok, 10*time.Second)
	if _, err := aliceClient.ListUsers(context.Background()); !jupyterhub.IsAuthError(err) || !strings.Contains(err.Error(), "list:users") {
		t.Errorf("a user token listing users: %v (want a 403 naming the scope)", err)
	}
	hub.Stop(t)
	c.Retries = 1
	if _, err := c.ListUsers(context.Background()); err == nil {
		t.Error("Hub down: no error")
	}
}
