package jupyterhub

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// ActiveServers names the users with a notebook server running or being
// started or stopped (GET /users?state=active, every page). Needs the
// list:users scope.
func (c *Client) ActiveServers(ctx context.Context) (map[string]bool, error) {
	out := map[string]bool{}
	offset := 0
	for {
		q := url.Values{"state": {"active"}, "offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(c.PageSize)}}
		var p page
		if err := c.getJSON(ctx, "users?"+q.Encode(), c.Token, paginationType, &p); err != nil {
			return nil, fmt.Errorf("listing JupyterHub's running servers: %w", err)
		}
		for _, u := range p.Items {
			out[u.Name] = true
		}
		next := p.Pagination.Next
		if next == nil {
			return out, nil
		}
		if next.Offset <= offset {
			return nil, fmt.Errorf("listing JupyterHub's running servers: the Hub's next page (offset %d) does not advance", next.Offset)
		}
		offset = next.Offset
	}
}

// Server is one of a user's notebook servers as the Hub reports it.
type Server struct {
	Name         string     `json:"name"`
	Ready        bool       `json:"ready"`
	Pending      *string    `json:"pending"`
	Stopped      bool       `json:"stopped"`
	Started      *time.Time `json:"started"`
	LastActivity *time.Time `json:"last_activity"`
}

// Servers returns a user's servers, the stopped ones included
// (GET /users/{name}?include_stopped_servers; JupyterHub 3+). Needs the
// read:servers scope. A user the Hub does not know gives an *APIError 404.
func (c *Client) Servers(ctx context.Context, user string) ([]Server, error) {
	var u struct {
		Servers map[string]Server `json:"servers"`
	}
	if err := c.getJSON(ctx, "users/"+url.PathEscape(user)+"?include_stopped_servers=true", c.Token, "application/json", &u); err != nil {
		return nil, fmt.Errorf("reading %s's JupyterHub servers: %w", user, err)
	}
	out := make([]Server, 0, len(u.Servers))
	for name, s := range u.Servers {
		s.Name = name
		out = append(out, s)
	}
	return out, nil
}
