package auth

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/livygate/livygate/jupyterhub"
)

// HubUsers says whose JupyterHub token a token is.
type HubUsers interface {
	UserForToken(ctx context.Context, token string) (*jupyterhub.User, error)
}

// HubToken authenticates a notebook user by their own JupyterHub API token
// (Authorization: token <t>, or Bearer), asking the Hub whose it is. The
// Hub's answer is cached briefly so polling does not ask on every request.
// JUPYTERHUB_USER or any other name the client asserts is never trusted.
type HubToken struct {
	hub        HubUsers
	cache      *CredentialCache
	adminGroup string
	hubAdmins  bool
	now        func() time.Time
}

// Cache is the accepted-tokens cache, for its hit ratio.
func (h *HubToken) Cache() *CredentialCache { return h.cache }

// hubCacheUser keys the token cache apart from Basic credentials.
const hubCacheUser = "\x00jupyterhub-token"

// hubCacheEntries bounds the token cache.
const hubCacheEntries = 10000

// NewHubToken builds the authenticator. now is the clock; nil means time.Now.
func NewHubToken(cfg Config, hub HubUsers, now func() time.Time) *HubToken {
	if now == nil {
		now = time.Now
	}
	return &HubToken{
		hub:        hub,
		cache:      NewCredentialCache(cfg.HubToken.CacheTTL, hubCacheEntries),
		adminGroup: cfg.AdminGroup,
		hubAdmins:  cfg.HubToken.HubAdminsAreAdmins,
		now:        now,
	}
}

// Authenticate implements Authenticator.
func (h *HubToken) Authenticate(ctx context.Context, r *http.Request) (*Identity, error) {
	token, ok := hubTokenFrom(r.Header.Get("Authorization"))
	if !ok {
		return nil, ErrNoCredentials
	}
	if token == "" || len(token) > MaxPasswordBytes {
		return nil, fmt.Errorf("%w: empty or oversized token", ErrBadCredentials)
	}
	now := h.now()
	if id := h.cache.Get(hubCacheUser, token, now); id != nil {
		return id, nil
	}
	u, err := h.hub.UserForToken(ctx, token)
	switch {
	case jupyterhub.IsAuthError(err):
		return nil, fmt.Errorf("%w: JupyterHub does not accept the token", ErrBadCredentials)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if u.Kind != "user" {
		// A service's token names the service, which may share a user's name.
		return nil, fmt.Errorf("%w: the JupyterHub token is not a user's (kind %q)", ErrBadCredentials, u.Kind)
	}
	if !actsAsUser(u.Name, u.Scopes) {
		return nil, fmt.Errorf("%w: the JupyterHub token lacks the scopes of its user's own servers", ErrBadCredentials)
	}
	if err := CheckUsername(u.Name); err != nil {
		return nil, err
	}
	id := &Identity{User: u.Name, Groups: append([]string(nil), u.Groups...), Method: "jupyterhub"}
	id.Admin = (h.hubAdmins && u.Admin) || (h.adminGroup != "" && id.InGroup(h.adminGroup))
	h.cache.Put(hubCacheUser, token, id, now)
	return id, nil
}

// actsAsUser reports whether a token's scopes (as the Hub's GET /user lists
// them, expanded) let it act as user name: access to the user's servers or
// reporting their activity, which a notebook server's own token and a full
// user token have. A token its user narrowed to anything else (say
// read:metrics, for some service) is not that user, and neither is an
// answer without scopes (a Hub before 2.0, or not the Hub).
func actsAsUser(name string, scopes []string) bool {
	for _, s := range scopes {
		switch s {
		case "access:servers", "access:servers!user=" + name, "users:activity", "users:activity!user=" + name:
			return true
		}
		if strings.HasPrefix(s, "access:servers!server="+name+"/") {
			return true
		}
	}
	return false
}

// hubTokenFrom reads "token <t>" (JupyterHub's own scheme) or "Bearer <t>".
func hubTokenFrom(header string) (string, bool) {
	scheme, token, found := strings.Cut(header, " ")
	if !found || !(strings.EqualFold(scheme, "token") || strings.EqualFold(scheme, "bearer")) {
		return "", false
	}
	return strings.TrimSpace(token), true
}
