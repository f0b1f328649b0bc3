package livy_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/livygate/livygate/livy"
	"github.com/livygate/livygate/livy/livytest"
)

// Issue 11, item 15: a name with a space, '%' or a non-ASCII letter is
// escaped once on the way to Livy, so its session is found.
func TestClientGetFindsEveryName(t *testing.T) {
	fake := livytest.New()
	t.Cleanup(fake.Close)
	base, _ := url.Parse(fake.URL())
	c := &livy.Client{BaseURL: base, HTTP: http.DefaultClient}
	for _, name := range []string{"my job", "100%", "café", "a+b", "x%2Fy"} {
		id := fake.Add("sessions", map[string]any{"name": name, "proxyUser": "alice"})
		s, _, err := c.Get(context.Background(), livy.Sessions, name)
		if err != nil || s.ID != id {
			t.Errorf("Get(%q) = %+v, %v; want id %d", name, s, err, id)
		}
	}
}
