// Package jupyterhub is a client for JupyterHub's REST API: every user, page
// by page, and the user a token belongs to. It knows nothing of the gateway.
package jupyterhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// User is a JupyterHub user, as far as livygate needs one.
type User struct {
	Name         string     `json:"name"`
	Admin        bool       `json:"admin"`
	Groups       []string   `json:"groups"`
	Kind         string     `json:"kind"`
	LastActivity *time.Time `json:"last_activity"`
	// Scopes are the scopes of the token that asked (GET /user only).
	Scopes []string `json:"scopes"`
}

// Client talks to one Hub with a service token.
type Client struct {
	// BaseURL is the Hub's API root, e.g. http://127.0.0.1:8081/hub/api/.
	BaseURL *url.URL
	// Token is the service token (scopes list:users, read:users).
	Token string
	HTTP  *http.Client
	// Retries is how many times a failed call (connection error or 5xx) is
	// tried again, waiting Backoff, then twice that, and so on.
	Retries int
	Backoff time.Duration
	// PageSize asks for this many users per page; the Hub caps it at its
	// api_page_max_limit and the client follows its "next" regardless.
	PageSize int
}

// New returns a client with sensible defaults for the Hub at hubURL (its
// public base, e.g. http://127.0.0.1:8081; "/hub/api/" is added when absent).
func New(hubURL, token string, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(hubURL)
	if err != nil {
		return nil, fmt.Errorf("hub url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("hub url %q must be http(s)://host[:port]", hubURL)
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, "/hub/api") {
		p += "/hub/api"
	}
	u.Path = p + "/"
	return &Client{
		BaseURL: u, Token: token,
		HTTP:    &http.Client{Timeout: timeout},
		Retries: 3, Backoff: 500 * time.Millisecond, PageSize: 200,
	}, nil
}

// APIError is an answer the Hub gave with an error status.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("JupyterHub refused the token (%d): %s", e.Status, e.Message)
	}
	return fmt.Sprintf("JupyterHub answered %d: %s", e.Status, e.Message)
}

// ErrUnreachable wraps failures to reach the Hub at all.
var ErrUnreachable = errors.New("JupyterHub is unreachable")

// IsAuthError reports whether err is the Hub refusing a token (401 or 403).
func IsAuthError(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden)
}

// page is the Hub's paginated answer (Accept: application/jupyterhub-pagination+json).
type page struct {
	Items      []User `json:"items"`
	Pagination struct {
		Offset int `json:"offset"`
		Limit  int `json:"limit"`
		Total  int `json:"total"`
		Next   *struct {
			Offset int `json:"offset"`
			Limit  int `json:"limit"`
		} `json:"next"`
	} `json:"_pagination"`
}

// paginationType makes the Hub page its answer and say what comes next;
// without it the Hub silently truncates the list at api_page_max_limit.
const paginationType = "application/jupyterhub-pagination+json"

// ListUsers returns every user, following the Hub's pages to the end.
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	var all []User
	offset := 0
	for {
		q := url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(c.PageSize)}}
		var p page
		if err := c.getJSON(ctx, "users?"+q.Encode(), c.Token, paginationType, &p); err != nil {
			return nil, fmt.Errorf("listing JupyterHub users: %w", err)
		}
		all = append(all, p.Items...)
		next := p.Pagination.Next
		if next == nil {
			if p.Pagination.Total > len(all) {
				return nil, fmt.Errorf("listing JupyterHub users: the Hub reported %d users but paged only %d", p.Pagination.Total, len(all))
			}
			return all, nil
		}
		if next.Offset <= offset {
			return nil, fmt.Errorf("listing JupyterHub users: the Hub's next page (offset %d) does not advance", next.Offset)
		}
		offset = next.Offset
	}
}

// UserForToken asks the Hub whose token this is (GET /user with the token).
// A token the Hub does not accept gives an *APIError with status 401/403.
func (c *Client) UserForToken(ctx context.Context, token string) (*User, error) {
	var u User
	if err := c.getJSON(ctx, "user", token, "application/json", &u); err != nil {
		return nil, err
	}
	if u.Name == "" {
		return nil, errors.New("JupyterHub's /user answer names no user")
	}
	return &u, nil
}

// getJSON GETs path (relative to BaseURL) with token, retrying connection
// errors and 5xx answers with exponential backoff.
func (c *Client) getJSON(ctx context.Context, path, token, accept string, out any) error {
	u := c.BaseURL.ResolveReference(&url.URL{Path: strings.SplitN(path, "?", 2)[0]})
	if _, q, ok := strings.Cut(path, "?"); ok {
		u.RawQuery = q
	}
	wait := c.Backoff
	var lastErr error
	for attempt := 0; attempt <= c.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			wait *= 2
		}
		retry, err := c.try(ctx, u.String(), token, accept, out)
		if err == nil || !retry {
			return err
		}
		lastErr = err
	}
	return lastErr
}

func (c *Client) try(ctx context.Context, u, token, accept string, out any) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("Authorization", "token "+token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return true, fmt.Errorf("%w: %s", ErrUnreachable, cause(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return true, fmt.Errorf("%w: reading the answer: %v", ErrUnreachable, err)
	}
	if resp.StatusCode/100 != 2 {
		ae := &APIError{Status: resp.StatusCode, Message: hubMessage(body)}
		return resp.StatusCode >= 500, ae
	}
	if err := json.Unmarshal(body, out); err != nil {
		return false, fmt.Errorf("JupyterHub's answer is not the JSON expected: %w", err)
	}
	return false, nil
}

// hubMessage extracts the Hub's {"message": …} (its error shape), which
// names the missing scope on a 403.
func hubMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		return m.Message
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func cause(err error) string {
	for next := errors.Unwrap(err); next != nil; next = errors.Unwrap(err) {
		err = next
	}
	return err.Error()
}
