package proxy_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
)

// traceRequest is one line of Sparkmagic's recorded trace.
type traceRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	Body    map[string]any    `json:"body"`
}

func loadTrace(t *testing.T) []traceRequest {
	t.Helper()
	f, err := os.Open("testdata/sparkmagic-trace.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []traceRequest
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r traceRequest
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if len(out) < 10 {
		t.Fatalf("trace has only %d requests", len(out))
	}
	return out
}

// sparkmagicReads lists, per kind of answer, the fields Sparkmagic's
// livyclientlib reads (LIVY-API.md).
var sparkmagicReads = map[string][]string{
	"session":   {"id", "state", "log", "appId", "appInfo", "proxyUser", "kind"},
	"statement": {"id", "state", "progress", "output"},
	"log":       {"id", "from", "total", "log"},
	"list":      {"from", "total", "sessions"},
}

func answerKind(method, path string) string {
	switch {
	case strings.Contains(path, "/statements"):
		return "statement"
	case strings.Contains(path, "/log"):
		return "log"
	case path == "/sessions" && method == http.MethodGet:
		return "list"
	case method == http.MethodDelete:
		return ""
	}
	return "session"
}

// TestReplaySparkmagicTrace sends Sparkmagic's recorded requests through the
// gateway as alice: the proxyUser the trace tries to set is refused, and
// once the session exists every field Sparkmagic reads arrives as Livy sent it.
func TestReplaySparkmagicTrace(t *testing.T) {
	trace := loadTrace(t)
	h := newHarness(t)
	headersOf := func(r traceRequest) []string {
		var hs []string
		for k, v := range r.Headers {
			if k == "Authorization" {
				continue // the trace's credentials are replaced by alice's
			}
			hs = append(hs, k, v)
		}
		return hs
	}

	first := trace[0]
	if first.Method != http.MethodPost || first.Body["proxyUser"] != "mallory" {
		t.Fatalf("trace no longer starts with the mallory create: %+v", first)
	}
	refused := h.do("alice", first.Method, first.Path, first.Body, headersOf(first)...)
	expectStatus(t, refused, http.StatusForbidden)
	if !strings.Contains(refused.msg(t), "mallory") || len(h.livy.Requests()) != 0 {
		t.Fatalf("mallory create: %s; Livy saw %d requests", refused.body, len(h.livy.Requests()))
	}

	// The user drops the proxyUser, as the refusal tells them to.
	fixed := map[string]any{}
	for k, v := range first.Body {
		if k != "proxyUser" {
			fixed[k] = v
		}
	}
	created := h.do("alice", first.Method, first.Path, fixed, headersOf(first)...)
	expectStatus(t, created, http.StatusCreated)
	if got := created.json(t)["proxyUser"]; got != "alice" {
		t.Fatalf("session runs as %v", got)
	}

	for i, r := range trace[1:] {
		a := h.do("alice", r.Method, r.Path, r.Body, headersOf(r)...)
		if a.status/100 != 2 {
			t.Fatalf("trace line %d %s %s: %d %s", i+2, r.Method, r.Path, a.status, a.body)
		}
		seen := h.livy.Last()
		if seen.Header.Get("Authorization") != "" || seen.Header.Get("X-Requested-By") != "sparkmagic" {
			t.Errorf("line %d: Livy saw headers %v", i+2, seen.Header)
		}
		kind := answerKind(r.Method, strings.Split(r.Path, "?")[0])
		if kind == "" || r.Method != http.MethodGet {
			continue
		}
		direct, err := http.Get(h.livy.URL() + r.Path)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		_ = json.Unmarshal([]byte(mustRead(t, direct)), &want)
		direct.Body.Close()
		unnameGenerated(want)
		got := a.json(t)
		for _, field := range sparkmagicReads[kind] {
			if _, ok := got[field]; !ok {
				t.Errorf("line %d %s: field %q missing", i+2, r.Path, field)
			}
			if !reflect.DeepEqual(got[field], want[field]) {
				t.Errorf("line %d %s: field %q = %v, Livy sent %v", i+2, r.Path, field, got[field], want[field])
			}
		}
	}
	if n := h.livy.Count("sessions"); n != 0 {
		t.Errorf("the trace's final DELETE left %d sessions", n)
	}
}

// unnameGenerated sets, in a Livy answer, the names the gateway generated
// for unnamed sessions ("alice~~<random>") to null, as the gateway shows them.
func unnameGenerated(v any) {
	switch t := v.(type) {
	case map[string]any:
		if n, ok := t["name"].(string); ok && strings.HasPrefix(n, "alice~~") {
			t["name"] = nil
		}
		for _, c := range t {
			unnameGenerated(c)
		}
	case []any:
		for _, c := range t {
			unnameGenerated(c)
		}
	}
}
