package jupyterhub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Config is where the Hub is (the jupyterhub: section, without the service
// token, which the caller resolves and gives to Open). Enabled when URL is
// set.
type Config struct {
	URL     string        `yaml:"url"`
	Timeout time.Duration `yaml:"timeout"`
}

// Default is the section where the file is silent.
func Default() Config { return Config{Timeout: 10 * time.Second} }

// Enabled reports whether a Hub is configured.
func (c Config) Enabled() bool { return c.URL != "" }

// Validate reports every problem of a configured Hub, joined, or nil.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("jupyterhub.url: must be http(s)://host[:port], not %q", c.URL))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("jupyterhub.timeout: must be positive"))
	}
	return errors.Join(errs...)
}

// Open returns a client of the configured Hub acting with token (a service
// token, or "" for a client that only asks who a caller's token is).
func Open(c Config, token string) (*Client, error) {
	return New(c.URL, token, c.Timeout)
}

// Ping asks the Hub's API root, which answers 200 with its version without
// a token: proof that the Hub is up, for the admin UI.
func (c *Client) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL.String(), nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %d", c.BaseURL, resp.StatusCode)
	}
	return nil
}
