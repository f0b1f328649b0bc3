package livy_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/livygate/livygate/livy"
	"github.com/livygate/livygate/livy/livytest"
)

func TestListFollowsPages(t *testing.T) {
	f := livytest.New()
	defer f.Close()
	for i := 0; i < 250; i++ {
		f.Add("batches", map[string]any{"proxyUser": "alice"})
	}
	f.Add("sessions", map[string]any{"proxyUser": "bob", "kind": "pyspark", "name": "nb"})
	u, _ := url.Parse(f.URL())
	c := &livy.Client{BaseURL: u, HTTP: http.DefaultClient}
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
