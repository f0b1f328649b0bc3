package livy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client makes the gateway's own calls to Livy: ownership look-ups, clean-up
// and readiness. Client requests are proxied elsewhere, not through it.
type Client struct {
	BaseURL *url.URL
	HTTP    *http.Client
	// Timeout, when positive, bounds each call, the answer's body included,
	// through the request's context. It does what http.Client.Timeout does
	// without its cost: with a wrapped transport (metrics, routing) the
	// client's own timeout starts two goroutines per call, thousands of
	// stacks under load.
	Timeout time.Duration
	// Username and Password, when set, authenticate to Livy with Basic.
	Username, Password string
}

// StatusError is a non-2xx answer from Livy.
type StatusError struct {
	Status int
	Msg    string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("livy answered %d: %s", e.Status, e.Msg)
}

// IsNotFound reports whether err is Livy's 404.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == http.StatusNotFound
}

// maxAnswer bounds what the client reads of one answer.
const maxAnswer = 32 << 20

// Get fetches one session or batch by id or name. The raw answer is returned
// too, so callers can pass it on unchanged.
func (c *Client) Get(ctx context.Context, res Resource, item string) (*Session, []byte, error) {
	raw, err := c.do(ctx, http.MethodGet, "/"+string(res)+"/"+url.PathEscape(item), "")
	if err != nil {
		return nil, nil, err
	}
	var s Session
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, nil, fmt.Errorf("livy sent a %s object that is not JSON: %w", res, err)
	}
	return &s, raw, nil
}

// Delete stops and removes a session or batch.
func (c *Client) Delete(ctx context.Context, res Resource, id int) error {
	_, err := c.do(ctx, http.MethodDelete, fmt.Sprintf("/%s/%d", res, id), "")
	return err
}

// StatementCount is how many statements a session has run or queued.
func (c *Client) StatementCount(ctx context.Context, sessionID int) (int, error) {
	raw, err := c.do(ctx, http.MethodGet, fmt.Sprintf("/sessions/%d/statements", sessionID), "")
	if err != nil {
		return 0, err
	}
	var list struct {
		Total int `json:"total_statements"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return 0, fmt.Errorf("livy sent a statement list that is not JSON: %w", err)
	}
	return list.Total, nil
}

// RunStatement queues code in a session (in the session's kind).
func (c *Client) RunStatement(ctx context.Context, sessionID int, code string) error {
	body, err := json.Marshal(map[string]string{"code": code})
	if err != nil {
		return err
	}
	_, err = c.send(ctx, http.MethodPost, fmt.Sprintf("/sessions/%d/statements", sessionID), "", body)
	return err
}

// Version asks Livy for its version; it is the cheapest call that proves
// Livy is up.
func (c *Client) Version(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodGet, "/version", "")
	return err
}

// Metrics returns Livy's own /metrics document (JSON, Dropwizard's).
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	return c.do(ctx, http.MethodGet, "/metrics", "")
}

// do calls Livy at escapedPath, sent exactly as given: escaping it again
// would turn a name with a space or '%' into another name.
func (c *Client) do(ctx context.Context, method, escapedPath, query string) ([]byte, error) {
	return c.send(ctx, method, escapedPath, query, nil)
}

// send is do with a JSON body (nil: none).
func (c *Client) send(ctx context.Context, method, escapedPath, query string, body []byte) ([]byte, error) {
	u := *c.BaseURL
	u.RawPath = strings.TrimRight(u.EscapedPath(), "/") + escapedPath
	var err error
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		return nil, err
	}
	u.RawQuery = query
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	var payload io.Reader
	if body != nil {
		payload = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), payload)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// Livy's CSRF filter, when on, refuses mutating calls without it.
	req.Header.Set("X-Requested-By", "livygate")
	if c.Username != "" {
		req.SetBasicAuth(c.Username, c.Password)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("reading livy's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var eb ErrorBody
		if json.Unmarshal(answer, &eb) != nil || eb.Msg == "" {
			eb.Msg = strings.TrimSpace(string(answer))
		}
		return nil, &StatusError{Status: resp.StatusCode, Msg: eb.Msg}
	}
	return answer, nil
}
