package jupyterhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeHub pages like JupyterHub: at most maxLimit per page, "next" until the
// end, and without the pagination Accept header a silently truncated list.
func fakeHub(t *testing.T, users, maxLimit int, token string) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token "+token {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"status": 403, "message": "Action is not authorized with current scopes; requires any of [list:users]"}`)
			return
		}
		switch r.URL.Path {
		case "/hub/api/user":
			fmt.Fprint(w, `{"name": "alice", "admin": false, "groups": ["analysts"], "kind": "user"}`)
		case "/hub/api/users":
			offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
			limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
			limit = min(limit, maxLimit)
			items := []map[string]any{}
			for i := offset; i < min(offset+limit, users); i++ {
				items = append(items, map[string]any{"name": fmt.Sprintf("user%05d", i)})
			}
			if r.Header.Get("Accept") != paginationType {
				_ = json.NewEncoder(w).Encode(items)
				return
			}
			var next any
			if offset+limit < users {
				next = map[string]any{"offset": offset + limit, "limit": limit, "url": "http://elsewhere.invalid/"}
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"items": items, "_pagination": map[string]any{
				"offset": offset, "limit": limit, "total": users, "next": next}})
		default:
			http.NotFound(w, r)
		}
	}))
}

func newTestClient(t *testing.T, url, token string) *Client {
	t.Helper()
	c, err := New(url, token, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Backoff = time.Millisecond
	return c
}

func TestListUsersFollowsEveryPage(t *testing.T) {
	hub := fakeHub(t, 1234, 50, "svc")
	defer hub.Close()
	users, err := newTestClient(t, hub.URL, "svc").ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1234 || users[0].Name != "user00000" || users[1233].Name != "user01233" {
		t.Errorf("got %d users, first %v", len(users), users[0])
	}
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u.Name] {
			t.Fatalf("duplicate %s", u.Name)
		}
		seen[u.Name] = true
	}
}

func TestListUsersScopeError(t *testing.T) {
	hub := fakeHub(t, 3, 50, "svc")
	defer hub.Close()
	_, err := newTestClient(t, hub.URL, "wrong").ListUsers(context.Background())
	if !IsAuthError(err) || !strings.Contains(err.Error(), "list:users") {
		t.Errorf("err = %v, want a 403 naming the scope", err)
	}
}

func TestRetriesServerErrorsThenSucceeds(t *testing.T) {
	var calls atomic.Int32
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, `{"items": [{"name": "a"}], "_pagination": {"offset": 0, "limit": 200, "total": 1, "next": null}}`)
	}))
	defer hub.Close()
	users, err := newTestClient(t, hub.URL, "t").ListUsers(context.Background())
	if err != nil || len(users) != 1 || calls.Load() != 3 {
		t.Errorf("users %v, err %v, calls %d", users, err, calls.Load())
	}
}

func TestGivesUpAfterRetries(t *testing.T) {
	var calls atomic.Int32
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer hub.Close()
	c := newTestClient(t, hub.URL, "t")
	_, err := c.ListUsers(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 503 || int(calls.Load()) != c.Retries+1 {
		t.Errorf("err %v after %d calls", err, calls.Load())
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	if _, err := newTestClient(t, down.URL, "t").ListUsers(context.Background()); !errors.Is(err, ErrUnreachable) {
		t.Errorf("hub down: %v", err)
	}
}

func TestTruncatedListIsAnError(t *testing.T) {
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"items": [{"name": "a"}], "_pagination": {"offset": 0, "limit": 1, "total": 5, "next": null}}`)
	}))
	defer hub.Close()
	if _, err := newTestClient(t, hub.URL, "t").ListUsers(context.Background()); err == nil {
		t.Error("a list shorter than the Hub's total was accepted")
	}
}

func TestUserForToken(t *testing.T) {
	hub := fakeHub(t, 0, 50, "alices-token")
	defer hub.Close()
	c := newTestClient(t, hub.URL, "svc")
	u, err := c.UserForToken(context.Background(), "alices-token")
	if err != nil || u.Name != "alice" || u.Groups[0] != "analysts" {
		t.Errorf("user %+v, err %v", u, err)
	}
	if _, err := c.UserForToken(context.Background(), "forged"); !IsAuthError(err) {
		t.Errorf("forged token: %v", err)
	}
}

func TestNewNormalisesTheBaseURL(t *testing.T) {
	for _, in := range []string{"http://hub:8081", "http://hub:8081/", "http://hub:8081/hub/api", "http://hub:8081/hub/api/"} {
		c, err := New(in, "t", time.Second)
		if err != nil || c.BaseURL.String() != "http://hub:8081/hub/api/" {
			t.Errorf("%s → %v %v", in, c.BaseURL, err)
		}
	}
	if _, err := New("ftp://hub", "t", time.Second); err == nil {
		t.Error("ftp accepted")
	}
}
