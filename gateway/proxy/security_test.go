package proxy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/policy"
	"github.com/livygate/livygate/gateway/proxy"
	"github.com/livygate/livygate/livy/livytest"
)

// Issue 11, item 1: Livy's router cuts a path at the first ';', so an item
// with ';' (raw or escaped) must never reach Livy, on any sub-route, and a
// name holding one is refused at create.
func TestReservedCharactersNeverReachAnotherSession(t *testing.T) {
	h := newHarness(t)
	bobs := h.createAs("bob", map[string]any{"kind": "pyspark"})
	h.do("bob", http.MethodPost, "/batches", map[string]any{"file": "x.py"})
	for _, body := range []map[string]any{{"kind": "pyspark", "name": "0;x"}, {"file": "x.py", "name": "0;x"}} {
		for _, res := range []string{"/sessions", "/batches"} {
			expectStatus(t, h.do("alice", http.MethodPost, res, body), http.StatusBadRequest)
		}
	}
	h.livy.Reset()
	for _, ref := range []string{fmt.Sprintf("%d;x", bobs), fmt.Sprintf("%d%%3Bx", bobs), fmt.Sprintf("%d;", bobs), "a;b"} {
		for _, ep := range itemEndpoints {
			for _, res := range []string{"sessions", "batches"} {
				path := strings.Replace(fmt.Sprintf(ep.path, ref), "sessions", res, 1)
				a := h.do("alice", ep.method, path, map[string]any{"code": "1"})
				if a.status/100 == 2 {
					t.Errorf("%s %s: %d %s", ep.method, path, a.status, a.body)
				}
			}
		}
	}
	if n := len(h.livy.Requests()); n != 0 {
		t.Errorf("%d requests with ';' reached Livy, first %+v", n, h.livy.Requests()[0])
	}
	if h.livy.Count("sessions") != 1 || h.livy.Count("batches") != 1 {
		t.Error("bob's session or batch is gone")
	}
}

// Every segment the gateway forwards reaches Livy escaped, so what Livy
// decodes is the segment the gateway checked.
func TestForwardedSegmentsAreEscaped(t *testing.T) {
	h := newHarness(t)
	id := h.createAs("alice", map[string]any{"kind": "pyspark"})
	h.livy.Reset()
	h.do("alice", http.MethodGet, fmt.Sprintf("/sessions/%d/statements/x%%253By", id), nil)
	want := fmt.Sprintf("/sessions/%d/statements/x%%253By", id)
	if got := h.livy.Last().RawURI; got != want {
		t.Errorf("Livy received %q, want %q", got, want)
	}
}

// Item 2: nothing that changes the method reaches Livy, and a create's
// answer that is not the session the gateway asked for deletes nothing.
func TestMethodOverrideNeverReachesLivy(t *testing.T) {
	h := newHarness(t)
	h.createAs("bob", map[string]any{"kind": "pyspark"})
	alices := h.createAs("alice", map[string]any{"kind": "pyspark"})
	h.livy.Reset()
	for _, path := range []string{
		"/sessions?_method=GET", "/sessions?_method=DELETE", "/sessions?_METHOD=GET", "/sessions?%5Fmethod=GET",
		"/batches?_method=GET", fmt.Sprintf("/sessions/%d?_method=DELETE", alices),
		fmt.Sprintf("/sessions/%d/statements?x=1&_method=DELETE", alices),
	} {
		a := h.do("alice", http.MethodPost, path, map[string]any{"kind": "pyspark", "file": "x.py"})
		expectStatus(t, a, http.StatusBadRequest)
	}
	// Multipart fields are parameters to Livy too: only the uploads take them.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("_method", "DELETE")
	_ = mw.Close()
	a := h.do("alice", http.MethodPost, fmt.Sprintf("/sessions/%d/statements", alices), buf.String(), "Content-Type", mw.FormDataContentType())
	expectStatus(t, a, http.StatusBadRequest)
	if n := len(h.livy.Requests()); n != 0 {
		t.Errorf("%d requests reached Livy, first %+v", n, h.livy.Requests()[0])
	}
	if h.livy.Count("sessions") != 2 {
		t.Error("a session is gone")
	}
	// Scalatra also reads the override from headers: none reaches Livy.
	for _, hdr := range []string{"X-HTTP-Method-Override", "X-Method-Override", "X-HTTP-Method"} {
		a := h.do("alice", http.MethodPost, fmt.Sprintf("/sessions/%d/statements", alices), map[string]any{"code": "1"}, hdr, "DELETE")
		expectStatus(t, a, http.StatusCreated)
		if got := h.livy.Last().Header.Get(hdr); got != "" {
			t.Errorf("Livy received %s: %s", hdr, got)
		}
	}
}

// Item 2, second half: a Livy that answers a create with something else (a
// list, another session) must not make the gateway delete anything.
func TestCreateDeletesOnlyWhatItCreated(t *testing.T) {
	fake := livytest.New()
	t.Cleanup(fake.Close)
	fake.Add("sessions", map[string]any{"proxyUser": "bob"}) // id 0
	for _, answer := range []func() (int, string){
		func() (int, string) {
			return 200, `{"from":0,"total":1,"sessions":[{"id":0,"proxyUser":"bob","state":"idle"}]}`
		},
		func() (int, string) { return 201, `{"id":0,"name":null,"proxyUser":"bob","state":"idle"}` },
		func() (int, string) { return 201, `{"name":null,"proxyUser":"bob"}` },
	} {
		odd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/sessions" {
				status, body := answer()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, body)
				return
			}
			u, _ := url.Parse(fake.URL())
			httputilProxy(u).ServeHTTP(w, r)
		}))
		h := newHarnessFor(t, fake, odd.URL)
		a := h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
		expectStatus(t, a, http.StatusBadGateway)
		for _, r := range fake.Requests() {
			if r.Method == http.MethodDelete {
				t.Errorf("the gateway deleted %s", r.Path)
			}
		}
		if fake.Count("sessions") != 1 {
			t.Error("bob's session is gone")
		}
		odd.Close()
	}
}

// Item 3: ownership comes from Livy's answer, never from the cache alone.
// A Livy restarted without recovery gives alice's old id to bob.
func TestStaleOwnerCacheReachesNothing(t *testing.T) {
	h := newHarness(t)
	id := h.createAs("alice", map[string]any{"kind": "pyspark", "name": "etl"})
	for _, p := range []string{"/sessions/%d", "/sessions/%d/state", "/sessions/%d/statements"} {
		expectStatus(t, h.do("alice", http.MethodGet, fmt.Sprintf(p, id), nil), http.StatusOK)
	}
	h.livy.Restart()
	// Made through another replica: this gateway never saw it.
	bobs := h.livy.Add("sessions", map[string]any{"proxyUser": "bob", "name": "bob~etl"})
	if bobs != id {
		t.Fatalf("bob's id %d, want the reused %d", bobs, id)
	}
	h.livy.Reset()
	for _, ep := range itemEndpoints {
		for _, ref := range []string{fmt.Sprint(id), "etl"} {
			path := fmt.Sprintf(ep.path, ref)
			a := h.do("alice", ep.method, path, map[string]any{"code": "1"})
			expectStatus(t, a, http.StatusNotFound)
		}
	}
	for _, r := range h.livy.Requests() {
		if r.Method != http.MethodGet || r.Path != fmt.Sprintf("/sessions/%d", id) && !strings.HasPrefix(r.Path, "/sessions/alice~") {
			t.Errorf("alice reached bob's session: %s %s", r.Method, r.Path)
		}
	}
	if h.livy.Count("sessions") != 1 {
		t.Error("alice deleted bob's session")
	}
}

// Item 8: collections answer GET and POST only; HEAD would give away the
// size of everyone's list.
func TestCollectionsAnswerOnlyGetAndPost(t *testing.T) {
	h := newHarness(t)
	h.createAs("bob", map[string]any{"kind": "pyspark"})
	h.livy.Reset()
	for _, m := range []string{http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		for _, res := range []string{"/sessions", "/batches"} {
			a := h.do("alice", m, res, nil)
			expectStatus(t, a, http.StatusMethodNotAllowed)
			if a.header.Get("Allow") != "GET, POST" {
				t.Errorf("%s %s: Allow %q", m, res, a.header.Get("Allow"))
			}
		}
	}
	if n := len(h.livy.Requests()); n != 0 {
		t.Errorf("%d requests reached Livy", n)
	}
}

// Item 14: names are per user. Another user's name neither leaks nor
// blocks, each user sees their own names plainly, admins the raw ones.
func TestSessionNamesArePerUser(t *testing.T) {
	h := newHarness(t)
	bobs := h.createAs("bob", map[string]any{"kind": "pyspark", "name": "etl"})
	a := h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark", "name": "etl"})
	expectStatus(t, a, http.StatusCreated)
	if a.json(t)["name"] != "etl" {
		t.Errorf("create answer shows name %v", a.json(t)["name"])
	}
	alices := int(a.json(t)["id"].(float64))
	got := h.do("alice", http.MethodGet, "/sessions/etl", nil)
	expectStatus(t, got, http.StatusOK)
	if m := got.json(t); int(m["id"].(float64)) != alices || m["name"] != "etl" {
		t.Errorf("alice's etl: %s", got.body)
	}
	if m := h.do("bob", http.MethodGet, "/sessions/etl", nil).json(t); int(m["id"].(float64)) != bobs || m["name"] != "etl" {
		t.Errorf("bob's etl: %v", m)
	}
	var list struct {
		Sessions []map[string]any `json:"sessions"`
	}
	_ = json.Unmarshal(h.do("alice", http.MethodGet, "/sessions", nil).body, &list)
	if len(list.Sessions) != 1 || list.Sessions[0]["name"] != "etl" {
		t.Errorf("alice's list: %v", list.Sessions)
	}
	// A second etl of alice's is her own duplicate; bob's raw name is no name.
	expectStatus(t, h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark", "name": "etl"}), http.StatusBadRequest)
	expectStatus(t, h.do("alice", http.MethodGet, "/sessions/bob~etl", nil), http.StatusNotFound)
	// Admins see and address raw names.
	admin := h.do("carol", http.MethodGet, "/sessions/bob~etl", nil)
	expectStatus(t, admin, http.StatusOK)
	if admin.json(t)["name"] != "bob~etl" {
		t.Errorf("admin sees %v", admin.json(t)["name"])
	}
	// An unnamed session shows no name.
	un := h.do("alice", http.MethodPost, "/batches", map[string]any{"file": "x.py"})
	if v, ok := un.json(t)["name"]; !ok || v != nil {
		t.Errorf("unnamed batch shows name %v", v)
	}
}

// Item 14 and 1: names that Livy's routing would read differently, or that
// could spell another user's namespace, are refused before Livy.
func TestSessionNameRules(t *testing.T) {
	h := newHarness(t)
	for _, n := range []any{"0;x", "a/b", "a%b", "a b", "é", "٥", "123", "+1", "-1", "a~b", "", "a?b", "a#b", "a\x00b", ".", "..", strings.Repeat("a", 65), 7, true} {
		a := h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark", "name": n})
		expectStatus(t, a, http.StatusBadRequest)
	}
	if n := len(h.livy.Requests()); n != 0 {
		t.Errorf("%d refused creates reached Livy", n)
	}
	for _, n := range []string{"etl", "ETL-2", "a.b_c", "x1", strings.Repeat("a", 64)} {
		expectStatus(t, h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark", "name": n}), http.StatusCreated)
		expectStatus(t, h.do("alice", http.MethodGet, "/sessions/"+n, nil), http.StatusOK)
	}
}

func withShortTimeout(o *proxy.Options, _ *policy.Config) {
	o.Transport = &http.Transport{ResponseHeaderTimeout: 300 * time.Millisecond}
	o.Timeout = 300 * time.Millisecond
}

// Item 15: a create Livy answers late is not a 5xx when Livy made the
// session: Sparkmagic retries every 5xx and would make a second one.
func TestSlowCreateAnswersWhatLivyCreated(t *testing.T) {
	for _, tc := range []struct {
		res  string
		body map[string]any
	}{
		{"sessions", map[string]any{"kind": "pyspark"}},
		{"sessions", map[string]any{"kind": "pyspark", "name": "etl"}},
		{"batches", map[string]any{"file": "x.py"}},
	} {
		h := newHarness(t, withShortTimeout)
		h.livy.CreateDelay = time.Second
		a := h.do("alice", http.MethodPost, "/"+tc.res, tc.body)
		expectStatus(t, a, http.StatusCreated)
		m := a.json(t)
		if m["proxyUser"] != "alice" || m["name"] != tc.body["name"] {
			t.Errorf("%s: answer %s", tc.res, a.body)
		}
		if n := h.livy.Count(tc.res); n != 1 {
			t.Errorf("%s: %d in Livy", tc.res, n)
		}
	}
}

func httputilProxy(u *url.URL) http.Handler { return httputil.NewSingleHostReverseProxy(u) }

// Item 10: an answer the gateway cannot check for secrets never reaches the
// client as it came: not JSON (a 5xx page), JSON with trailing data, or
// over the size limit (never cut and passed as 200).
func TestRedactionFailsClosed(t *testing.T) {
	const secret = "hunter2-value"
	fake := livytest.New()
	t.Cleanup(fake.Close)
	fake.Add("sessions", map[string]any{"proxyUser": "alice", "conf": map[string]any{"spark.db.password": secret}})
	cases := map[string]func(w http.ResponseWriter){
		"non-JSON 500": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(500)
			_, _ = io.WriteString(w, "<pre>spark.db.password="+secret+"</pre>")
		},
		"trailing data": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":0,"from":0,"log":[]} {"conf":{"spark.db.password":"`+secret+`"}}`)
		},
		"too large": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":0,"from":0,"log":["`+strings.Repeat("x", 4096)+`"],"conf":{"spark.db.password":"`+secret+`"}}`)
		},
	}
	defer proxy.SetMaxRewrite(2048)()
	for name, answer := range cases {
		odd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/sessions/0/log" {
				answer(w)
				return
			}
			u, _ := url.Parse(fake.URL())
			httputilProxy(u).ServeHTTP(w, r)
		}))
		h := newHarnessFor(t, fake, odd.URL)
		a := h.do("alice", http.MethodGet, "/sessions/0/log", nil)
		if a.status/100 == 2 || strings.Contains(string(a.body), secret) || a.json(t)["msg"] == nil {
			t.Errorf("%s: %d %s", name, a.status, a.body)
		}
		odd.Close()
	}
}

// Item 7: a client that writes its whole oversized body before reading gets
// the JSON 413, not a connection reset; with and without a Content-Length.
func TestOversizedBodyWrittenWholeGets413(t *testing.T) {
	h := newHarness(t)
	id := h.createAs("alice", map[string]any{"kind": "pyspark"})
	u, _ := url.Parse(h.gateway.URL)
	big := strings.Repeat("x", 12<<20)
	for _, tc := range []struct{ name, path, head, body string }{
		{"content-length", "/sessions", fmt.Sprintf("Content-Length: %d\r\n", len(big)), big},
		{"chunked create", "/sessions", "Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(big), big)},
		{"chunked statement", fmt.Sprintf("/sessions/%d/statements", id), "Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(big), big)},
	} {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		req := "POST " + tc.path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWxpY2U6cHc=\r\nContent-Type: application/json\r\n" + tc.head + "\r\n" + tc.body
		if _, err := io.WriteString(conn, req); err != nil {
			t.Errorf("%s: writing the body: %v", tc.name, err)
			conn.Close()
			continue
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Errorf("%s: reading the answer: %v", tc.name, err)
			conn.Close()
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"msg"`) {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, b)
		}
		conn.Close()
	}
}

// A non-JSON 4xx from Livy (its CSRF filter's Jetty page) reaches the client
// as {"msg"} with Livy's status and the page's reason; a non-JSON 5xx keeps
// only its status.
func TestNonJSONErrorsBecomeLivyStyleJSON(t *testing.T) {
	fake := livytest.New()
	t.Cleanup(fake.Close)
	page := func(status int, title string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html;charset=iso-8859-1")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, "<html><head><title>"+title+"</title></head><body><h2>HTTP ERROR</h2></body></html>")
		}
	}
	cases := []struct {
		status int
		title  string
		want   string
	}{
		{400, "Error 400 Missing Required Header for CSRF protection.", "Livy answered 400: Missing Required Header for CSRF protection."},
		{404, "Error 404 Not Found", "Livy answered 404: Not Found"},
		{500, "Error 500 java.lang.NullPointerException at secret.Place", "Livy answered 500 with a body that is not JSON"},
	}
	for _, c := range cases {
		odd := httptest.NewServer(page(c.status, c.title))
		h := newHarnessFor(t, fake, odd.URL)
		a := h.do("alice", http.MethodPost, "/sessions", map[string]any{"kind": "pyspark"})
		if a.status != c.status || a.json(t)["msg"] != c.want {
			t.Errorf("Livy %d %q: got %d %s, want %d %q", c.status, c.title, a.status, a.body, c.status, c.want)
		}
		odd.Close()
	}
}
