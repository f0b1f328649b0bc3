package proxy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/livy/livytest"
)

func TestCreateForcesProxyUserToCaller(t *testing.T) {
	for _, body := range []map[string]any{
		{"kind": "pyspark"},
		{"kind": "pyspark", "proxyUser": "alice"},
		{"kind": "pyspark", "proxyUser": ""},
		{"kind": "pyspark", "proxyUser": nil},
	} {
		h := newHarness(t)
		a := h.do("alice", http.MethodPost, "/sessions", body)
		expectStatus(t, a, http.StatusCreated)
		var sent map[string]any
		if err := json.Unmarshal(h.livy.Last().Body, &sent); err != nil {
			t.Fatal(err)
		}
		if sent["proxyUser"] != "alice" || sent["kind"] != "pyspark" {
			t.Errorf("body %v: Livy received %v", body, sent)
		}
		if got := a.json(t)["proxyUser"]; got != "alice" {
			t.Errorf("answer proxyUser = %v", got)
		}
	}
}

func TestCreateKeepsUnknownFieldsAndAddsNone(t *testing.T) {
	h := newHarness(t)
	body := map[string]any{"file": "hdfs:///a.py", "driverMemory": "1g", "ttl": "1h", "futureField": map[string]any{"x": 1.0}}
	h.do("alice", http.MethodPost, "/batches", body)
	var sent map[string]any
	_ = json.Unmarshal(h.livy.Last().Body, &sent)
	for k, v := range body {
		if fmt.Sprint(sent[k]) != fmt.Sprint(v) {
			t.Errorf("%s: sent %v, want %v", k, sent[k], v)
		}
	}
	if len(sent) != len(body)+2 { // + proxyUser, + the generated name
		t.Errorf("gateway added keys: %v", sent)
	}
	if n, _ := sent["name"].(string); !strings.HasPrefix(n, "alice~~") {
		t.Errorf("unnamed batch sent to Livy as %q", n)
	}
}

func TestCreateRefusesOtherProxyUser(t *testing.T) {
	cases := []struct {
		name   string
		user   string
		opts   []option
		status int
	}{
		{"analyst", "alice", nil, http.StatusForbidden},
		{"admin without permission", "carol", nil, http.StatusForbidden},
		{"admin allowed by config", "carol", []option{withAdminImpersonation}, http.StatusCreated},
		{"analyst even when admins may", "alice", []option{withAdminImpersonation}, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts...)
			for _, res := range []string{"/sessions", "/batches"} {
				a := h.do(tc.user, http.MethodPost, res, map[string]any{"kind": "pyspark", "proxyUser": "bob", "file": "x.py"})
				expectStatus(t, a, tc.status)
				if tc.status == http.StatusForbidden {
					if !strings.Contains(a.msg(t), `"bob"`) {
						t.Errorf("message does not name the refused user: %s", a.body)
					}
					if n := len(h.livy.Requests()); n != 0 {
						t.Errorf("Livy received %d requests for a refused create", n)
					}
				} else if a.json(t)["proxyUser"] != "bob" {
					t.Errorf("admin's session runs as %v", a.json(t)["proxyUser"])
				}
			}
		})
	}
}

func TestCreateWithImpersonationOffIsUndone(t *testing.T) {
	fake := livytest.New()
	defer fake.Close()
	fake.ImpersonationOff = true
	h := newHarnessFor(t, fake, fake.URL())
	a := h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
	expectStatus(t, a, http.StatusBadGateway)
	if !strings.Contains(a.msg(t), "livy.impersonation.enabled=true") || !strings.Contains(a.msg(t), "deleted") {
		t.Errorf("message does not tell the operator: %s", a.body)
	}
	if n := fake.Count("sessions"); n != 0 {
		t.Errorf("%d sessions left behind in Livy", n)
	}
	if last := fake.Last(); last.Method != http.MethodDelete || last.Path != "/sessions/0" {
		t.Errorf("gateway did not delete the session: last request %s %s", last.Method, last.Path)
	}
}

func TestIdentityParamsStrippedEverywhere(t *testing.T) {
	h := newHarness(t)
	id := h.createAs("alice", map[string]any{"kind": "pyspark"})
	paths := []string{
		"/sessions?doAs=bob&from=0",
		fmt.Sprintf("/sessions/%d?doAs=bob", id),
		fmt.Sprintf("/sessions/%d/log?from=0&DOAS=bob&user.name=bob", id),
		fmt.Sprintf("/sessions/%d/statements?User.Name=bob", id),
	}
	for _, p := range paths {
		h.livy.Reset()
		a := h.do("alice", http.MethodGet, p, nil)
		expectStatus(t, a, http.StatusOK)
		for _, r := range h.livy.Requests() {
			if q := strings.ToLower(r.Query); strings.Contains(q, "doas") || strings.Contains(q, "user.name") {
				t.Errorf("%s: Livy received query %q", p, r.Query)
			}
		}
	}
	h.livy.Reset()
	h.do("alice", http.MethodPost, "/sessions?doAs=bob", map[string]any{"kind": "pyspark"})
	if q := h.livy.Last().Query; q != "" {
		t.Errorf("create: Livy received query %q", q)
	}
}

func TestIdentityHeadersNeverReachLivy(t *testing.T) {
	h := newHarness(t)
	spoof := []string{
		"X-Forwarded-User", "bob", "Remote-User", "bob", "X-Remote-User", "bob",
		"X-Forwarded-Preferred-Username", "bob", "X-Auth-Request-User", "bob",
		"X-Forwarded-For", "10.0.0.1", "Cookie", "session=abc", "Proxy-Authorization", "Basic Ym9iOnB3",
	}
	h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"}, spoof...)
	got := h.livy.Last().Header
	for i := 0; i < len(spoof); i += 2 {
		if v := got.Get(spoof[i]); v != "" {
			t.Errorf("Livy received %s: %s", spoof[i], v)
		}
	}
	if v := got.Get("Authorization"); v != "" {
		t.Errorf("client's Authorization reached Livy: %s", v)
	}
	if v := got.Get("X-Requested-By"); v != "sparkmagic" {
		t.Errorf("X-Requested-By = %q, want it passed", v)
	}
}

func TestUpstreamBasicAuth(t *testing.T) {
	h := newHarness(t, func(o *proxy.Options, _ *policy.Config) { o.Username, o.Password = "gw", "upstream-secret" })
	id := h.createAs("alice", map[string]any{"kind": "pyspark"})
	h.do("alice", http.MethodGet, fmt.Sprintf("/sessions/%d", id), nil)
	for _, r := range h.livy.Requests() {
		req := &http.Request{Header: r.Header}
		if u, p, ok := req.BasicAuth(); !ok || u != "gw" || p != "upstream-secret" {
			t.Errorf("%s %s: Livy saw credentials %q/%q", r.Method, r.Path, u, p)
		}
	}
}

// Every per-session endpoint of LIVY-API.md, as a non-owner.
var itemEndpoints = []struct{ method, path string }{
	{http.MethodGet, "/sessions/%s"},
	{http.MethodGet, "/sessions/%s/state"},
	{http.MethodGet, "/sessions/%s/log?from=0"},
	{http.MethodGet, "/sessions/%s/statements"},
	{http.MethodGet, "/sessions/%s/statements/0"},
	{http.MethodPost, "/sessions/%s/statements"},
	{http.MethodPost, "/sessions/%s/statements/0/cancel"},
	{http.MethodPost, "/sessions/%s/completion"},
	{http.MethodPost, "/sessions/%s/stop"},
	{http.MethodPost, "/sessions/%s/interrupt"},
	{http.MethodPost, "/sessions/%s/connect"},
	{http.MethodPost, "/sessions/%s/submit-job"},
	{http.MethodPost, "/sessions/%s/run-job"},
	{http.MethodPost, "/sessions/%s/upload-jar"},
	{http.MethodPost, "/sessions/%s/add-jar"},
	{http.MethodGet, "/sessions/%s/jobs/1"},
	{http.MethodPost, "/sessions/%s/jobs/1/cancel"},
	{http.MethodDelete, "/sessions/%s"},
}

func TestOwnershipHidesOtherUsersSessions(t *testing.T) {
	h := newHarness(t)
	id := h.createAs("alice", map[string]any{"kind": "pyspark", "name": "alices-etl"})
	h.do("alice", http.MethodPost, fmt.Sprintf("/sessions/%d/statements", id), map[string]any{"code": "1"})
	missing := h.do("bob", http.MethodGet, "/sessions/999", nil)
	expectStatus(t, missing, http.StatusNotFound)

	for _, ref := range []string{fmt.Sprint(id), fmt.Sprintf("00%d", id), "alices-etl"} {
		for _, ep := range itemEndpoints {
			path := fmt.Sprintf(ep.path, ref)
			h.livy.Reset()
			a := h.do("bob", ep.method, path, map[string]any{"code": "spark.stop()"})
			expectStatus(t, a, http.StatusNotFound)
			want := fmt.Sprintf(`{"msg":"Session '%s' not found."}`, ref)
			if string(a.body) != want {
				t.Errorf("%s %s: body %s, want %s", ep.method, path, a.body, want)
			}
			for _, r := range h.livy.Requests() {
				if r.Method != http.MethodGet || strings.Count(r.Path, "/") != 2 {
					t.Errorf("%s %s reached Livy as %s %s", ep.method, path, r.Method, r.Path)
				}
			}
		}
	}
	// The answer for someone else's session equals the one for no session.
	other := h.do("bob", http.MethodGet, fmt.Sprintf("/sessions/%d", id), nil)
	if fmt.Sprint(other.status) != fmt.Sprint(missing.status) ||
		strings.Replace(string(other.body), fmt.Sprint(id), "999", 1) != string(missing.body) ||
		other.header.Get("Content-Type") != missing.header.Get("Content-Type") {
		t.Errorf("non-owner answer %d %s differs from missing %d %s", other.status, other.body, missing.status, missing.body)
	}
	if h.livy.Count("sessions") != 1 {
		t.Error("bob deleted alice's session")
	}
	// Owner and admin both get through.
	// Admins address the raw Livy name.
	for u, name := range map[string]string{"alice": "alices-etl", "carol": "alice~alices-etl"} {
		expectStatus(t, h.do(u, http.MethodGet, "/sessions/"+name, nil), http.StatusOK)
		expectStatus(t, h.do(u, http.MethodGet, fmt.Sprintf("/sessions/%d/statements/0", id), nil), http.StatusOK)
	}
	// Batches follow the same rule.
	a := h.do("alice", http.MethodPost, "/batches", map[string]any{"file": "hdfs:///x.py"})
	expectStatus(t, a, http.StatusCreated)
	b := h.do("bob", http.MethodDelete, "/batches/0", nil)
	expectStatus(t, b, http.StatusNotFound)
	if string(b.body) != `{"msg":"Session '0' not found."}` || h.livy.Count("batches") != 1 {
		t.Errorf("bob's batch delete: %s, batches left %d", b.body, h.livy.Count("batches"))
	}
}

func TestOwnerCacheSavesLivyCalls(t *testing.T) {
	h := newHarness(t)
	id := h.createAs("alice", map[string]any{"kind": "pyspark"})
	h.livy.Reset()
	for i := 0; i < 5; i++ {
		expectStatus(t, h.do("alice", http.MethodGet, fmt.Sprintf("/sessions/%d", id), nil), http.StatusOK)
	}
	if n := len(h.livy.Requests()); n != 5 {
		t.Errorf("5 polls cost %d Livy calls, want 5 (no owner look-ups)", n)
	}
	expectStatus(t, h.do("alice", http.MethodDelete, fmt.Sprintf("/sessions/%d", id), nil), http.StatusOK)
	// A session Livy made for someone else under the same id must not be
	// served from a stale cache entry.
	h.livy.Add("sessions", map[string]any{"proxyUser": "bob"})
	h.livy.Reset()
	expectStatus(t, h.do("alice", http.MethodGet, fmt.Sprintf("/sessions/%d", id+1), nil), http.StatusNotFound)
	expectStatus(t, h.do("alice", http.MethodGet, fmt.Sprintf("/sessions/%d", id), nil), http.StatusNotFound)
	if n := len(h.livy.Requests()); n != 2 {
		t.Errorf("look-ups after delete: %d Livy calls, want 2", n)
	}
}

// A session whose name is a number must not claim the session with that id.
func TestNumericSessionNameClaimsNothing(t *testing.T) {
	h := newHarness(t)
	h.livy.Add("sessions", map[string]any{"proxyUser": "bob"}) // id 0
	h.livy.Add("sessions", map[string]any{"proxyUser": "bob"}) // id 1
	expectStatus(t, h.do("bob", http.MethodGet, "/sessions/1", nil), http.StatusOK)
	// A name Livy would read as an id is refused at create.
	expectStatus(t, h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark", "name": "1"}), http.StatusBadRequest)
	h.livy.Add("sessions", map[string]any{"proxyUser": "alice", "name": "1"}) // made in Livy directly
	h.do("alice", http.MethodGet, "/sessions", nil)
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		expectStatus(t, h.do("alice", m, "/sessions/1", nil), http.StatusNotFound)
	}
	if h.livy.Count("sessions") != 3 {
		t.Error("alice deleted bob's session through a numeric name")
	}
}

func TestListShowsOnlyCallersSessions(t *testing.T) {
	h := newHarness(t)
	for _, u := range []string{"alice", "bob", "alice", "bob", "alice"} {
		h.createAs(u, map[string]any{"kind": "pyspark"})
	}
	type listing struct {
		From, Total int
		Sessions    []struct {
			ID        int
			ProxyUser string
		}
	}
	get := func(user, query string) listing {
		a := h.do(user, http.MethodGet, "/sessions"+query, nil)
		expectStatus(t, a, http.StatusOK)
		var l listing
		if err := json.Unmarshal(a.body, &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := get("alice", "")
	if l.Total != 3 || len(l.Sessions) != 3 || l.From != 0 {
		t.Errorf("alice's list: %+v", l)
	}
	for _, s := range l.Sessions {
		if s.ProxyUser != "alice" {
			t.Errorf("alice sees %+v", s)
		}
	}
	l = get("alice", "?from=1&size=1")
	if l.Total != 3 || l.From != 1 || len(l.Sessions) != 1 || l.Sessions[0].ID != 2 {
		t.Errorf("alice page 2: %+v", l)
	}
	if l = get("alice", "?from=5"); l.Total != 3 || len(l.Sessions) != 0 {
		t.Errorf("past the end: %+v", l)
	}
	if l = get("carol", ""); l.Total != 5 || len(l.Sessions) != 5 {
		t.Errorf("admin's list: %+v", l)
	}
	if q := h.livy.Last().Query; !strings.Contains(q, "from=0") || !strings.Contains(q, "size=1000000") {
		t.Errorf("Livy was asked %q, not for the whole list", q)
	}
	expectStatus(t, h.do("alice", http.MethodGet, "/sessions?from=x", nil), http.StatusBadRequest)
	h.createAs("alice", map[string]any{"kind": "pyspark"})
	if l = get("bob", ""); l.Total != 2 {
		t.Errorf("bob's batch-free list: %+v", l)
	}
}

func TestLivyOwnPagesAreForAdmins(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/ui", "/metrics", "/version", "/", "/static/x.js"} {
		expectStatus(t, h.do("alice", http.MethodGet, p, nil), http.StatusForbidden)
	}
	expectStatus(t, h.do("carol", http.MethodGet, "/version", nil), http.StatusOK)
}

func TestConfPolicy(t *testing.T) {
	refused := map[string]string{
		"spark.yarn.appMasterEnv.HADOOP_USER_NAME":    "bob",
		"spark.executorEnv.HADOOP_USER_NAME":          "bob",
		"spark.kubernetes.driverEnv.HADOOP_USER_NAME": "bob",
		"spark.driverEnv.HADOOP_PROXY_USER":           "bob",
		"spark.executorEnv.SPARK_USER":                "bob",
		"spark.driver.extraJavaOptions":               "-Xmx1g -DHADOOP_USER_NAME=bob",
		"spark.executor.extraJavaOptions":             "-Duser.name=bob",
		"spark.kerberos.keytab":                       "/etc/hdfs.keytab",
		"spark.kerberos.principal":                    "hdfs@REALM",
		"spark.yarn.keytab":                           "/etc/hdfs.keytab",
		"spark.yarn.principal":                        "hdfs",
		"spark.proxyUser":                             "bob",
		"spark.yarn.proxy-user":                       "bob",
		"spark.hadoop.hadoop.security.authentication": "simple",
	}
	h := newHarness(t)
	for key, value := range refused {
		a := h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark", "conf": map[string]string{"spark.ok": "1", key: value}})
		expectStatus(t, a, http.StatusBadRequest)
		if !strings.Contains(a.msg(t), key) {
			t.Errorf("%s: message does not name the key: %s", key, a.body)
		}
		if strings.Contains(a.msg(t), "bob") && !strings.Contains(key, "bob") {
			t.Errorf("%s: message echoes the value: %s", key, a.body)
		}
	}
	if n := len(h.livy.Requests()); n != 0 {
		t.Errorf("refused creates reached Livy %d times", n)
	}
	expectStatus(t, h.do("alice", http.MethodPost, "/sessions", map[string]any{"conf": map[string]string{"spark.executor.memory": "1g"}}), http.StatusCreated)

	custom := newHarness(t, func(_ *proxy.Options, p *policy.Config) {
		p.DenyConf = []string{`^spark\.jars\.packages$`}
		p.AllowConf = []string{`^spark\.`}
	})
	expectStatus(t, custom.do("alice", http.MethodPost, "/sessions", map[string]any{"conf": map[string]string{"spark.jars.packages": "x"}}), http.StatusBadRequest)
	expectStatus(t, custom.do("alice", http.MethodPost, "/sessions", map[string]any{"conf": map[string]string{"hive.x": "1"}}), http.StatusBadRequest)
	expectStatus(t, custom.do("alice", http.MethodPost, "/sessions", map[string]any{"conf": map[string]string{"spark.sql.x": "1"}}), http.StatusCreated)
}

func TestSecretsRedactedInEveryAnswer(t *testing.T) {
	fake := livytest.New()
	defer fake.Close()
	const secret = "s3cr3t-AKIA-value"
	fake.LogLines = []string{
		"spark-submit --conf spark.hadoop.fs.s3a.secret.key=" + secret + " --class x",
		"echoed: " + secret,
		"db.password: hunter22 in plain sight",
	}
	h := newHarnessFor(t, fake, fake.URL())
	conf := map[string]string{"spark.hadoop.fs.s3a.secret.key": secret, "spark.app.name": "etl"}
	created := h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark", "conf": conf})
	expectStatus(t, created, http.StatusCreated)
	var sent map[string]any
	_ = json.Unmarshal(fake.Last().Body, &sent)
	if sent["conf"].(map[string]any)["spark.hadoop.fs.s3a.secret.key"] != secret {
		t.Fatal("the secret must still reach Livy")
	}
	answers := map[string]answer{
		"create": created,
		"get":    h.do("alice", http.MethodGet, "/sessions/0", nil),
		"list":   h.do("alice", http.MethodGet, "/sessions", nil),
		"admin":  h.do("carol", http.MethodGet, "/sessions", nil),
		"log":    h.do("alice", http.MethodGet, "/sessions/0/log?from=0", nil),
	}
	for name, a := range answers {
		expectStatus(t, a, http.StatusOK+map[bool]int{true: 1}[name == "create"])
		if strings.Contains(string(a.body), secret) || strings.Contains(string(a.body), "hunter22") {
			t.Errorf("%s answer leaks a secret: %s", name, a.body)
		}
		if name != "log" && !strings.Contains(string(a.body), `"spark.app.name":"etl"`) {
			t.Errorf("%s answer lost a harmless conf value: %s", name, a.body)
		}
	}
	// A fresh gateway (empty cache) still masks echoed values in the log.
	h2 := newHarnessFor(t, fake, fake.URL())
	if a := h2.do("alice", http.MethodGet, "/sessions/0/log", nil); strings.Contains(string(a.body), secret) {
		t.Errorf("cold-cache log leaks: %s", a.body)
	}
	for _, e := range h.logs.AllEntries() {
		if s, _ := e.String(); strings.Contains(s, secret) {
			t.Errorf("log line leaks the secret: %s", s)
		}
	}
}

func TestAnswersPassThroughExactly(t *testing.T) {
	h := newHarness(t)
	id := h.createAs("alice", map[string]any{"kind": "pyspark"})
	h.do("alice", http.MethodPost, fmt.Sprintf("/sessions/%d/statements", id), map[string]any{"code": "1+1"})
	direct, err := http.Get(h.livy.URL() + fmt.Sprintf("/sessions/%d/statements/0", id))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Body.Close()
	want := mustRead(t, direct)
	a := h.do("alice", http.MethodGet, fmt.Sprintf("/sessions/%d/statements/0", id), nil)
	if string(a.body) != want || a.header.Get("Content-Type") != direct.Header.Get("Content-Type") {
		t.Errorf("statement answer changed:\n got %s\nwant %s", a.body, want)
	}
	expectStatus(t, h.do("alice", http.MethodGet, fmt.Sprintf("/sessions/%d/statements/7", id), nil), http.StatusNotFound)
}

func TestBadInput(t *testing.T) {
	h := newHarness(t, func(o *proxy.Options, _ *policy.Config) { o.MaxBodyBytes = 1024 })
	cases := []struct {
		name   string
		body   string
		status int
	}{
		{"malformed", `{"kind": `, http.StatusBadRequest},
		{"not an object", `["pyspark"]`, http.StatusBadRequest},
		{"null", `null`, http.StatusBadRequest},
		{"proxyUser not a string", `{"proxyUser": 5}`, http.StatusBadRequest},
		{"conf not strings", `{"conf": {"spark.x": 1}}`, http.StatusBadRequest},
		{"too large", `{"code": "` + strings.Repeat("x", 2048) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		a := h.do("alice", http.MethodPost, "/sessions", tc.body)
		expectStatus(t, a, tc.status)
		if a.msg(t) == "" {
			t.Errorf("%s: no msg in %s", tc.name, a.body)
		}
	}
	for _, batch := range []string{`{"className": "x"}`, `{"file": ""}`, `{"file": 7}`} {
		a := h.do("alice", http.MethodPost, "/batches", batch)
		expectStatus(t, a, http.StatusBadRequest)
		if !strings.Contains(a.msg(t), "file") {
			t.Errorf("batch without a file: %s", a.body)
		}
	}
	big := `{"code": "` + strings.Repeat("x", 2048) + `"}`
	expectStatus(t, h.do("alice", http.MethodPost, "/sessions/0/statements", big), http.StatusRequestEntityTooLarge)
	form := h.do("alice", http.MethodPost, "/sessions/0/statements", "doAs=bob", "Content-Type", "application/x-www-form-urlencoded")
	expectStatus(t, form, http.StatusBadRequest)
	expectStatus(t, h.do("alice", http.MethodGet, "/sessions/0/../1", nil), http.StatusBadRequest)
	expectStatus(t, h.do("alice", http.MethodGet, "/sessions//0", nil), http.StatusBadRequest)
	if n := len(h.livy.Requests()); n != 0 {
		t.Errorf("bad input reached Livy %d times", n)
	}
}

// A body without a Content-Length that grows past the limit on its way to
// Livy is still a 413.
func TestStreamedBodyOverLimit(t *testing.T) {
	h := newHarness(t, func(o *proxy.Options, _ *policy.Config) { o.MaxBodyBytes = 1024 })
	id := h.createAs("alice", map[string]any{"kind": "pyspark"})
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(`{"code": "` + strings.Repeat("x", 4096) + `"}`))
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/sessions/%d/statements", h.gateway.URL, id), pr)
	req.SetBasicAuth("alice", "pw")
	req.Header.Set("Content-Type", "application/json")
	if got := statusOf(t, req); got != http.StatusRequestEntityTooLarge {
		t.Errorf("streamed oversized statement: %d, want 413", got)
	}
}

func TestLivyDownOrSlow(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	h := newHarnessFor(t, nil, downURL)
	start := time.Now()
	for _, path := range []string{"/sessions", "/sessions/1"} {
		a := h.do("alice", http.MethodGet, path, nil)
		expectStatus(t, a, http.StatusBadGateway)
		if !strings.Contains(a.msg(t), "unreachable") {
			t.Errorf("%s: %s", path, a.body)
		}
	}
	expectStatus(t, h.do("alice", http.MethodGet, "/readyz", nil), http.StatusServiceUnavailable)

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer slow.Close()
	defer close(release)
	h = newHarnessFor(t, nil, slow.URL, func(o *proxy.Options, _ *policy.Config) {
		o.Transport = &http.Transport{ResponseHeaderTimeout: 300 * time.Millisecond}
		o.Timeout = 300 * time.Millisecond
	})
	for _, req := range []struct{ method, path string }{{"GET", "/sessions"}, {"POST", "/sessions"}, {"GET", "/sessions/1"}} {
		a := h.do("alice", req.method, req.path, map[string]any{"kind": "pyspark"})
		expectStatus(t, a, http.StatusGatewayTimeout)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failures took %s: the gateway hung", d)
	}
}

func TestAuditEvents(t *testing.T) {
	h := newHarness(t)
	id := h.createAs("alice", map[string]any{"kind": "pyspark"})
	h.do("alice", http.MethodGet, fmt.Sprintf("/sessions/%d", id), nil)           // read: no event
	h.do("bob", http.MethodDelete, fmt.Sprintf("/sessions/%d", id), nil)          // refused
	h.do("alice", http.MethodPost, "/sessions", map[string]any{"proxyUser": "x"}) // refused
	h.do("", http.MethodGet, "/sessions", nil)                                    // no credentials
	events := h.audit.All()
	if len(events) != 4 {
		t.Fatalf("got %d audit events, want 4: %+v", len(events), events)
	}
	create := events[0]
	if create.User != "alice" || create.ProxyUser != "alice" || create.SessionID != fmt.Sprint(id) ||
		create.Outcome != "ok" || create.Status != 201 || create.RequestID == "" || create.ClientAddr != "127.0.0.1" {
		t.Errorf("create event: %+v", create)
	}
	if e := events[1]; e.User != "bob" || e.Outcome != "refused" || e.Reason != "not the owner" || e.Status != 404 || e.ProxyUser != "alice" {
		t.Errorf("refused delete event: %+v", e)
	}
	if e := events[2]; e.Outcome != "refused" || e.Status != 403 {
		t.Errorf("refused proxyUser event: %+v", e)
	}
	if e := events[3]; e.Outcome != "refused" || e.Status != 401 || e.User != "" {
		t.Errorf("unauthenticated event: %+v", e)
	}
}

func TestAuthenticationAnswers(t *testing.T) {
	h := newHarness(t)
	a := h.do("", http.MethodGet, "/sessions", nil)
	expectStatus(t, a, http.StatusUnauthorized)
	if !strings.HasPrefix(a.header.Get("WWW-Authenticate"), `Basic realm="livygate"`) || a.msg(t) == "" {
		t.Errorf("401 lacks challenge or msg: %v %s", a.header, a.body)
	}
	req, _ := http.NewRequest(http.MethodGet, h.gateway.URL+"/sessions", nil)
	req.SetBasicAuth("alice", "wrong")
	if got := statusOf(t, req); got != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", got)
	}
	expectStatus(t, h.do("", http.MethodGet, "/healthz", nil), http.StatusOK)
	expectStatus(t, h.do("", http.MethodGet, "/readyz", nil), http.StatusOK)
}

func mustRead(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
