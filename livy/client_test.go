package livy_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/livygate/livygate/livy"
	"github.com/livygate/livygate/livy/livytest"
)

// newFakeClient is a Client of a fake Livy that closes when the test ends.
func newFakeClient(t *testing.T) (*livytest.Fake, *livy.Client) {
	t.Helper()
	f := livytest.New()
	t.Cleanup(f.Close)
	base, _ := url.Parse(f.URL())
	return f, &livy.Client{BaseURL: base, HTTP: http.DefaultClient}
}

// Issue 11, item 15: a name with a space, '%' or a non-ASCII letter is
// escaped once on the way to Livy, so its session is found.
func TestClientGetFindsEveryName(t *testing.T) {
	fake, c := newFakeClient(t)
	for _, name := range []string{"my job", "100%", "café", "a+b", "x%2Fy"} {
		id := fake.Add("sessions", map[string]any{"name": name, "proxyUser": "alice"})
		s, _, err := c.Get(context.Background(), livy.Sessions, name)
		if err != nil || s.ID != id {
			t.Errorf("Get(%q) = %+v, %v; want id %d", name, s, err, id)
		}
	}
}

func TestListFollowsPages(t *testing.T) {
	f, c := newFakeClient(t)
	for i := 0; i < 250; i++ {
		f.Add("batches", map[string]any{"proxyUser": "alice"})
	}
	f.Add("sessions", map[string]any{"proxyUser": "bob", "kind": "pyspark", "name": "nb"})
	batches, err := c.List(context.Background(), livy.Batches)
	if err != nil || len(batches) != 250 || batches[249].ID != 249 || batches[0].User() != "alice" {
		t.Fatalf("batches: %d, %v", len(batches), err)
	}
	if batches[0].AppID == nil || batches[0].SparkUI() != "http://rm/proxy" {
		t.Errorf("batch fields: %+v", batches[0])
	}
	sessions, err := c.List(context.Background(), livy.Sessions)
	if err != nil || len(sessions) != 1 || sessions[0].Kind != "pyspark" || sessions[0].User() != "bob" {
		t.Fatalf("sessions: %+v, %v", sessions, err)
	}
	if q := f.Last().Query; q != "from=0&size=100" {
		t.Errorf("query sent: %q", q)
	}
}

// Client.Timeout bounds a call, as http.Client.Timeout would: a Livy that
// does not answer gives a timeout error, not a hang.
func TestClientTimeoutBoundsACall(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	base, _ := url.Parse(srv.URL)
	c := &livy.Client{BaseURL: base, HTTP: &http.Client{}, Timeout: 50 * time.Millisecond}
	start := time.Now()
	err := c.Version(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Version against a silent Livy: %v; want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the call took %v", d)
	}
}

func TestRunStatementAndCount(t *testing.T) {
	f, c := newFakeClient(t)
	id := f.Add("sessions", map[string]any{"kind": "pyspark"})
	ctx := context.Background()
	if n, err := c.StatementCount(ctx, id); err != nil || n != 0 {
		t.Fatalf("new session: %d statements, %v", n, err)
	}
	if err := c.RunStatement(ctx, id, `print("a \"quoted\" line")`); err != nil {
		t.Fatal(err)
	}
	last := f.Last()
	if last.Method != http.MethodPost || last.Path != "/sessions/"+strconv.Itoa(id)+"/statements" ||
		last.Header.Get("Content-Type") != "application/json" || string(last.Body) != `{"code":"print(\"a \\\"quoted\\\" line\")"}` {
		t.Fatalf("Livy got %s %s %q %s", last.Method, last.Path, last.Header.Get("Content-Type"), last.Body)
	}
	if n, err := c.StatementCount(ctx, id); err != nil || n != 1 {
		t.Fatalf("after one: %d statements, %v", n, err)
	}
	var se *livy.StatusError
	if err := c.RunStatement(ctx, id+1, "1"); !errors.As(err, &se) || se.Status != http.StatusNotFound {
		t.Fatalf("statement in a missing session: %v, want Livy's 404", err)
	}
}
