package proxy_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus/hooks/test"

	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/gateway/route"
	"github.com/livygate/livygate/livy"
	"github.com/livygate/livygate/livy/livytest"
)

// routed is the gateway in front of two fake Livys, "a" and "b", through
// the Router; the gateway's ids start at 100, so they differ from Livy's.
type routed struct {
	*harness
	a, b   *livytest.Fake
	ids    *route.MemoryIDs
	router *route.Router
}

const firstID = 100

func newRouted(t testing.TB, pins ...route.Pin) *routed {
	t.Helper()
	a, b := livytest.New(), livytest.New()
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	ids := route.NewMemoryIDs(firstID)
	backend := func(name, url string) route.Backend {
		return route.Backend{Name: name, Config: livy.Config{URL: url, Timeout: 2 * time.Second}}
	}
	log, _ := test.NewNullLogger()
	router, err := route.New(route.Config{
		Backends:  []route.Backend{backend("a", a.URL()), backend("b", b.URL())},
		Placement: route.Placement{Pin: pins},
	}, route.Deps{IDs: ids, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessFor(t, a, a.URL(), func(o *proxy.Options, _ *policy.Config) {
		o.Upstream, o.Transport = route.VirtualURL, router
	})
	return &routed{harness: h, a: a, b: b, ids: ids, router: router}
}

// client is a livy.Client of the routed Livy, as the limits and the reaper
// have.
func (r *routed) client() *livy.Client {
	return &livy.Client{BaseURL: route.VirtualURL, HTTP: &http.Client{Transport: r.router}}
}

func path(res string, id int, rest ...string) string {
	return strings.Join(append([]string{"", res, strconv.Itoa(id)}, rest...), "/")
}

func TestRoutedCreatesGoToTheBackendWithFewestSessions(t *testing.T) {
	r := newRouted(t)
	r.b.Add("sessions", map[string]any{"proxyUser": "bob"})
	for i := 0; i < 3; i++ {
		r.createAs("alice", map[string]any{"kind": "pyspark"})
	}
	if a, b := r.a.Count("sessions"), r.b.Count("sessions"); a != 2 || b != 2 {
		t.Errorf("sessions on a, b: %d, %d; want 2, 2", a, b)
	}
}

func TestRoutedPinsAGroupToABackend(t *testing.T) {
	r := newRouted(t, route.Pin{Groups: []string{"analysts"}, Backend: "b"})
	for i := 0; i < 2; i++ {
		r.createAs("alice", map[string]any{"kind": "pyspark"})
	}
	r.createAs("carol", map[string]any{"kind": "pyspark"})
	if a, b := r.a.Count("sessions"), r.b.Count("sessions"); a != 1 || b != 2 {
		t.Errorf("sessions on a, b: %d, %d; want carol's on a, the analysts' on b", a, b)
	}
	r.b.Close()
	a := r.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
	expectStatus(t, a, http.StatusServiceUnavailable)
	if !strings.Contains(a.msg(t), "Livy backend 'b' is not reachable") {
		t.Errorf("a pinned backend down: %s", a.body)
	}
}

func TestRoutedIDsAreTheGatewaysBothWays(t *testing.T) {
	r := newRouted(t)
	created := r.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
	expectStatus(t, created, http.StatusCreated)
	onA := int(created.json(t)["id"].(float64))
	onB := r.createAs("alice", map[string]any{"kind": "pyspark"})
	if onA != firstID || onB != firstID+1 || created.header.Get("Location") != path("sessions", onA) {
		t.Fatalf("ids %d, %d and Location %q: want %d, %d", onA, onB, created.header.Get("Location"), firstID, firstID+1)
	}
	for _, c := range []struct {
		method, path string
		fake         *livytest.Fake
		livyPath     string
	}{
		{http.MethodGet, path("sessions", onB), r.b, "/sessions/0"},
		{http.MethodGet, path("sessions", onB, "state"), r.b, "/sessions/0/state"},
		{http.MethodGet, path("sessions", onA, "log"), r.a, "/sessions/0/log"},
	} {
		got := r.do("alice", c.method, c.path, nil)
		expectStatus(t, got, http.StatusOK)
		if id := got.json(t)["id"]; id != float64(firstID) && id != float64(firstID+1) {
			t.Errorf("%s answered id %v", c.path, id)
		}
		if p := c.fake.Last().Path; p != c.livyPath {
			t.Errorf("%s reached Livy as %s, want %s", c.path, p, c.livyPath)
		}
	}
	st := r.do("alice", http.MethodPost, path("sessions", onB, "statements"), map[string]any{"code": "1+1"})
	expectStatus(t, st, http.StatusCreated)
	if st.json(t)["id"] != float64(0) || r.b.Last().Path != "/sessions/0/statements" {
		t.Errorf("a statement keeps its own id: %s, Livy saw %s", st.body, r.b.Last().Path)
	}
	expectStatus(t, r.do("alice", http.MethodGet, path("sessions", onB, "statements", "0"), nil), http.StatusOK)
	if r.b.Last().Path != "/sessions/0/statements/0" {
		t.Errorf("Livy saw %s", r.b.Last().Path)
	}
	missing := r.do("alice", http.MethodGet, path("sessions", onA, "statements", "7"), nil)
	expectStatus(t, missing, http.StatusNotFound)
	gone := r.do("alice", http.MethodGet, "/sessions/0", nil)
	expectStatus(t, gone, http.StatusNotFound)
	if gone.msg(t) != "Session '0' not found." {
		t.Errorf("Livy's own id is no gateway id: %s", gone.body)
	}
	expectStatus(t, r.do("alice", http.MethodDelete, path("sessions", onA), nil), http.StatusOK)
	if r.a.Count("sessions") != 0 {
		t.Error("the delete did not reach backend a")
	}
	events := r.audit.All()
	if last := events[len(events)-1]; last.Method != http.MethodDelete || last.SessionID != strconv.Itoa(onA) {
		t.Errorf("the delete's audit event: %+v", last)
	}
	after := r.do("alice", http.MethodGet, path("sessions", onA), nil)
	if after.status != http.StatusNotFound || after.msg(t) != "Session '"+strconv.Itoa(onA)+"' not found." {
		t.Errorf("a deleted session: %d %s", after.status, after.body)
	}
}

func TestRoutedListsMergeEveryBackend(t *testing.T) {
	r := newRouted(t)
	var mine []int
	for i := 0; i < 3; i++ {
		mine = append(mine, r.createAs("alice", map[string]any{"kind": "pyspark"}))
	}
	r.createAs("bob", map[string]any{"kind": "pyspark"})
	r.b.Add("sessions", map[string]any{"proxyUser": "alice"}) // made before the gateway, or around it
	page := r.do("alice", http.MethodGet, "/sessions?from=1&size=2", nil).json(t)
	items, _ := page["sessions"].([]any)
	if page["total"] != float64(4) || page["from"] != float64(1) || len(items) != 2 {
		t.Fatalf("alice's page: %v", page)
	}
	if id := items[0].(map[string]any)["id"]; id != float64(mine[1]) {
		t.Errorf("the page starts at %v, want %d", id, mine[1])
	}
	seen := items[1].(map[string]any)["id"].(float64)
	expectStatus(t, r.do("alice", http.MethodGet, path("sessions", mine[2]), nil), http.StatusOK)
	all := r.do("carol", http.MethodGet, "/sessions", nil).json(t)
	if all["total"] != float64(5) {
		t.Errorf("the admin's list: %v", all)
	}
	if got := r.do("alice", http.MethodGet, path("sessions", int(seen)), nil); got.status != http.StatusOK {
		t.Errorf("a session first seen in a list is addressable by its new id: %d %s", got.status, got.body)
	}
}

func TestRoutedBackendDownAnswers503NamingItWhileTheOthersWork(t *testing.T) {
	r := newRouted(t)
	onA := r.createAs("alice", map[string]any{"kind": "pyspark"})
	onB := r.createAs("alice", map[string]any{"kind": "pyspark"})
	r.b.Close()
	for _, p := range []string{path("sessions", onB), path("sessions", onB, "log")} {
		a := r.do("alice", http.MethodGet, p, nil)
		expectStatus(t, a, http.StatusServiceUnavailable)
		if !strings.HasPrefix(a.msg(t), "Livy backend 'b' is not reachable: ") {
			t.Errorf("%s: %s", p, a.body)
		}
	}
	expectStatus(t, r.do("alice", http.MethodGet, path("sessions", onA), nil), http.StatusOK)
	list := r.do("alice", http.MethodGet, "/sessions", nil)
	expectStatus(t, list, http.StatusOK)
	if list.json(t)["total"] != float64(1) {
		t.Errorf("the list without b: %s", list.body)
	}
	expectStatus(t, r.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"}), http.StatusCreated)
	if r.a.Count("sessions") != 2 {
		t.Error("the create was not placed on the backend that is up")
	}
	expectStatus(t, r.do("", http.MethodGet, "/readyz", nil), http.StatusOK)
	if st := r.router.Status(); st[0].Down || !st[1].Down || st[1].Error == "" {
		t.Errorf("status: %+v", st)
	}
	r.a.Close()
	expectStatus(t, r.do("", http.MethodGet, "/readyz", nil), http.StatusServiceUnavailable)
}

func TestRoutedRestartFromZeroNeverCrossesUsers(t *testing.T) {
	r := newRouted(t, route.Pin{Users: []string{"alice", "bob"}, Backend: "a"})
	old := r.createAs("alice", map[string]any{"kind": "pyspark"})
	r.a.Restart()
	// Livy's id 0 again, made around the gateway: its old id must not reach it.
	r.a.Add("sessions", map[string]any{"proxyUser": "bob", "name": "bob~x"})
	for _, user := range []string{"bob", "alice", "carol"} {
		if a := r.do(user, http.MethodGet, path("sessions", old), nil); a.status != http.StatusNotFound {
			t.Errorf("%s reached Livy's new session 0 by alice's old id: %d %s", user, a.status, a.body)
		}
	}
	r.a.Restart()
	bobs := r.createAs("bob", map[string]any{"kind": "pyspark"})
	if bobs == old {
		t.Fatal("an id was given twice")
	}
	for _, p := range []string{path("sessions", old), path("sessions", old, "statements")} {
		if a := r.do("bob", http.MethodGet, p, nil); a.status != http.StatusNotFound {
			t.Errorf("bob reached his new session by alice's old id at %s: %d %s", p, a.status, a.body)
		}
	}
	expectStatus(t, r.do("bob", http.MethodGet, path("sessions", bobs), nil), http.StatusOK)
}

func TestRoutedNamesResolveOnEveryBackend(t *testing.T) {
	r := newRouted(t)
	r.createAs("alice", map[string]any{"kind": "pyspark", "name": "etl"})
	onB := r.createAs("alice", map[string]any{"kind": "pyspark", "name": "report"})
	got := r.do("alice", http.MethodGet, "/sessions/report", nil)
	expectStatus(t, got, http.StatusOK)
	if m := got.json(t); m["id"] != float64(onB) || m["name"] != "report" {
		t.Errorf("by name: %s", got.body)
	}
	expectStatus(t, r.do("bob", http.MethodGet, "/sessions/report", nil), http.StatusNotFound)
	expectStatus(t, r.do("alice", http.MethodPost, "/sessions/report/statements", map[string]any{"code": "1"}), http.StatusCreated)
	if r.b.Last().Path != "/sessions/0/statements" {
		t.Errorf("Livy saw %s", r.b.Last().Path)
	}
	expectStatus(t, r.do("alice", http.MethodDelete, "/sessions/report", nil), http.StatusOK)
	if r.b.Count("sessions") != 0 || r.a.Count("sessions") != 1 {
		t.Error("the delete by name reached the wrong backend")
	}
}

func TestRoutedCreateWithoutTheRegistryCreatesNothing(t *testing.T) {
	r := newRouted(t)
	r.ids.Down = true
	a := r.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
	expectStatus(t, a, http.StatusServiceUnavailable)
	if r.a.Count("sessions")+r.b.Count("sessions") != 0 || !strings.Contains(a.msg(t), "registry") {
		t.Errorf("%s; sessions made: %d", a.body, r.a.Count("sessions")+r.b.Count("sessions"))
	}
}

func TestRoutedListAllCountsEveryBackend(t *testing.T) {
	r := newRouted(t)
	r.a.Add("sessions", map[string]any{"proxyUser": "alice"})
	r.b.Add("sessions", map[string]any{"proxyUser": "alice"})
	all, err := r.client().ListAll(context.Background(), livy.Sessions)
	if err != nil || len(all) != 2 || all[0].ID == all[1].ID {
		t.Fatalf("ListAll: %+v %v", all, err)
	}
	if err := r.client().Delete(context.Background(), livy.Sessions, all[1].ID); err != nil {
		t.Fatal(err)
	}
	if r.a.Count("sessions")+r.b.Count("sessions") != 1 {
		t.Error("a delete by gateway id did not reach its backend")
	}
}
