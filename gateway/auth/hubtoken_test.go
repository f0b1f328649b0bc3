package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livygate/livygate/jupyterhub"
)

type fakeHub struct {
	users map[string]*jupyterhub.User // token → user
	down  bool
	calls atomic.Int32
}

func (f *fakeHub) UserForToken(_ context.Context, token string) (*jupyterhub.User, error) {
	f.calls.Add(1)
	if f.down {
		return nil, jupyterhub.ErrUnreachable
	}
	if u, ok := f.users[token]; ok {
		return u, nil
	}
	return nil, &jupyterhub.APIError{Status: 403, Message: "bad token"}
}

func TestHubToken(t *testing.T) {
	hub := &fakeHub{users: map[string]*jupyterhub.User{
		"alice-tok": {Name: "alice", Kind: "user", Groups: []string{"analysts"}, Scopes: []string{"access:servers!server=alice/", "users:activity!user=alice"}},
		"root-tok":  {Name: "root", Kind: "user", Admin: true, Scopes: []string{"access:servers", "users:activity"}},
		"bad-name":  {Name: "a\nb", Kind: "user", Scopes: []string{"users:activity!user=a\nb"}},
	}}
	cfg := Default()
	c := newClock()
	h := NewHubToken(cfg, hub, c.Now)
	auth := func(header string) (*Identity, error) {
		r := httptest.NewRequest("GET", "/sessions", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		return h.Authenticate(context.Background(), r)
	}
	for _, header := range []string{"token alice-tok", "Bearer alice-tok", "TOKEN alice-tok"} {
		id, err := auth(header)
		if err != nil || id.User != "alice" || id.Admin || id.Method != "jupyterhub" {
			t.Errorf("%q: %+v %v", header, id, err)
		}
	}
	if n := hub.calls.Load(); n != 1 {
		t.Errorf("three uses of one token asked the Hub %d times, want 1 (cache)", n)
	}
	for _, header := range []string{"", "Basic YWxpY2U6cHc="} {
		if _, err := auth(header); !errors.Is(err, ErrNoCredentials) {
			t.Errorf("%q: %v, want ErrNoCredentials", header, err)
		}
	}
	for _, header := range []string{"token forged", "token ", "token bad-name"} {
		if _, err := auth(header); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%q: %v, want ErrBadCredentials", header, err)
		}
	}
	if id, _ := auth("token root-tok"); id.Admin {
		t.Error("a Hub admin became a gateway admin without hub_admins_are_admins")
	}
	cfg.HubToken.HubAdminsAreAdmins = true
	if id, _ := NewHubToken(cfg, hub, c.Now).Authenticate(context.Background(), withAuth("token root-tok")); !id.Admin {
		t.Error("hub_admins_are_admins did not make the Hub admin an admin")
	}
	hub.down = true
	c.Add(2 * time.Minute) // past the cache
	if _, err := auth("token alice-tok"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Hub down: %v, want ErrUnavailable", err)
	}
}

func withAuth(header string) *http.Request {
	r := httptest.NewRequest("GET", "/sessions", nil)
	r.Header.Set("Authorization", header)
	return r
}

// Issue 11, item 12: only a user's own token with the scopes of that user's
// servers proves who the caller is: not a service whose name matches a
// user, not a narrowed token, not an answer without scopes.
func TestHubTokenNeedsUserKindAndScopes(t *testing.T) {
	hub := &fakeHub{users: map[string]*jupyterhub.User{
		"service-named-alice": {Name: "alice", Kind: "service", Scopes: []string{"access:servers", "users:activity"}},
		"no-kind":             {Name: "alice", Scopes: []string{"users:activity!user=alice"}},
		"no-scopes":           {Name: "alice", Kind: "user"},
		"metrics-only":        {Name: "alice", Kind: "user", Scopes: []string{"read:metrics", "read:users:name!user=alice"}},
		"bobs-server-scope":   {Name: "alice", Kind: "user", Scopes: []string{"access:servers!server=bob/", "users:activity!user=bob"}},
		"prefix-trick":        {Name: "alice", Kind: "user", Scopes: []string{"access:servers!server=alice2/"}},
		"notebook":            {Name: "alice", Kind: "user", Scopes: []string{"access:servers!server=alice/", "users:activity!user=alice"}},
		"full-user-token":     {Name: "alice", Kind: "user", Scopes: []string{"access:servers!user=alice", "read:users!user=alice"}},
	}}
	h := NewHubToken(Default(), hub, newClock().Now)
	for tok, ok := range map[string]bool{
		"service-named-alice": false, "no-kind": false, "no-scopes": false, "metrics-only": false,
		"bobs-server-scope": false, "prefix-trick": false, "notebook": true, "full-user-token": true,
	} {
		id, err := h.Authenticate(context.Background(), withAuth("token "+tok))
		if ok && (err != nil || id.User != "alice") {
			t.Errorf("%s: %+v %v", tok, id, err)
		}
		if !ok && !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: %+v %v, want ErrBadCredentials", tok, id, err)
		}
	}
}
