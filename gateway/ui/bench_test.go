//go:build bench

package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/audit"
	"github.com/livygate/livygate/gateway/auth"
	"github.com/livygate/livygate/gateway/logging/logtest"
	"github.com/livygate/livygate/gateway/provision"
	"github.com/livygate/livygate/gateway/store"
	"github.com/livygate/livygate/gateway/ui"
	"github.com/livygate/livygate/hdfs"
	"github.com/livygate/livygate/jupyterhub"
	"github.com/livygate/livygate/livy"
	"github.com/livygate/livygate/livy/livytest"
)

const (
	benchUsers  = 10_000
	benchEvents = 100_000
)

// BenchmarkPages renders every page against a store holding 10,000 users'
// home states and 100,000 audit events, a Hub of 10,000 users and a Livy
// with 50 batches. The target is under 200 ms per page.
func BenchmarkPages(b *testing.B) {
	log := logtest.Discard()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "bench.db"), store.Options{QueueSize: 20_000, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	users := make([]jupyterhub.User, benchUsers)
	results := make([]hdfs.Result, benchUsers)
	actions := []hdfs.Action{hdfs.ActionUnchanged, hdfs.ActionUnchanged, hdfs.ActionCreated, hdfs.ActionDrift}
	for i := range users {
		name := fmt.Sprintf("user%05d", i)
		users[i] = jupyterhub.User{Name: name}
		results[i] = hdfs.Result{User: name, Path: "/user/" + name, Action: actions[i%len(actions)]}
	}
	now := time.Now()
	for r := 0; r < 20; r++ {
		if _, err := st.SaveRun(context.Background(), &provision.Run{Started: now, Finished: now, Users: benchUsers,
			Summary: map[hdfs.Action]int{hdfs.ActionUnchanged: benchUsers}, Results: results}, "timer"); err != nil {
			b.Fatal(err)
		}
	}
	start := now.Add(-100 * time.Hour)
	for i := 0; i < benchEvents; i++ {
		e := audit.Event{Time: start.Add(time.Duration(i) * 3 * time.Second), RequestID: fmt.Sprint("r", i),
			User: users[i%benchUsers].Name, ClientAddr: "10.0.0.1", Method: "POST", Path: "/batches",
			Detail: audit.Detail{SessionID: fmt.Sprint(i % 500), Outcome: "ok"}, Status: 201}
		if i%17 == 0 {
			e.Outcome, e.Status, e.Reason = "refused", 403, "conf spark.x is not allowed"
		}
		st.Record(e)
		for st.Stats().Queued > 15_000 {
			time.Sleep(time.Millisecond)
		}
	}
	for st.Stats().Written+st.Stats().Dropped < benchEvents {
		time.Sleep(10 * time.Millisecond)
	}
	if st.Stats().Dropped != 0 {
		b.Fatalf("dropped %d events while filling", st.Stats().Dropped)
	}

	fake := livytest.New()
	defer fake.Close()
	fake.NoRecord = true
	for i := 0; i < 50; i++ {
		fake.Add("batches", map[string]any{"proxyUser": users[i].Name, "name": fmt.Sprint("job", i)})
	}
	lu, _ := url.Parse(fake.URL())
	cfg := auth.Default()
	basic, _ := auth.NewBasic(cfg, directory{}, nil)
	h, err := ui.New(ui.Options{
		Authn: auth.Chain{basic}, Store: st, Livy: &livy.Client{BaseURL: lu, HTTP: http.DefaultClient},
		Hub: &hub{users: users}, Sync: &syncer{calls: make(chan bool, 1)},
		Probes: []ui.Probe{{Name: "Livy", Check: func(context.Context) error { return nil }}},
		Keys:   keys{{Kid: "k1", Algorithm: "ES256", Created: now, NotAfter: now.Add(time.Hour), Signing: true}},
		Log:    log,
	})
	if err != nil {
		b.Fatal(err)
	}
	pages := []struct{ name, path string }{
		{"overview", "/admin/ui/"},
		{"users", "/admin/ui/users"},
		{"users-search", "/admin/ui/users?q=user09"},
		{"users-page-80", "/admin/ui/users?page=80"},
		{"sessions", "/admin/ui/sessions"},
		{"kill-confirm", "/admin/ui/sessions/batches/7/kill"},
		{"sync", "/admin/ui/sync"},
		{"sync-run-10k-results", "/admin/ui/sync/20?page=30"},
		{"audit", "/admin/ui/audit"},
		{"audit-user", "/admin/ui/audit?user=user04242"},
		{"audit-refused-range", "/admin/ui/audit?outcome=refused&from=" + url.QueryEscape(start.Add(50*time.Hour).UTC().Format("2006-01-02T15:04"))},
		{"audit-page-500", "/admin/ui/audit?page=500"},
		{"keys", "/admin/ui/keys"},
	}
	get := func(b *testing.B, path string) {
		req := httptest.NewRequest("GET", path, nil)
		req.SetBasicAuth(adminUser, adminPass)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("GET %s: %d\n%.500s", path, w.Code, w.Body.String())
		}
	}
	for _, p := range pages {
		get(b, p.path) // warm the Hub, Livy and probe caches, as a second visitor would find them
		b.Run(p.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				get(b, p.path)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
	// The caches expire: the first load after that pays for the Hub's 10,000
	// users; it must stay under the target too.
	b.Run("users-cold-hub-cache", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			h2, _ := ui.New(ui.Options{Authn: auth.Chain{basic}, Store: st, Livy: &livy.Client{BaseURL: lu, HTTP: http.DefaultClient},
				Hub: &hub{users: users}, Log: log})
			req := httptest.NewRequest("GET", "/admin/ui/users", nil)
			req.SetBasicAuth(adminUser, adminPass)
			w := httptest.NewRecorder()
			h2.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("cold users page: %d", w.Code)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
	})
}
