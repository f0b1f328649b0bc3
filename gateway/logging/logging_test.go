package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/livygate/livygate/gateway/logging/logtest"
)

func entry(fields logrus.Fields, msg string) *logrus.Entry {
	e := logrus.NewEntry(logrus.New()).WithFields(fields)
	e.Time = time.Date(2026, 11, 22, 5, 6, 7, 0, time.UTC)
	e.Level = logrus.WarnLevel
	e.Message = msg
	return e
}

// The formatter must say exactly what logrus's own JSONFormatter says.
func TestJSONFormatterMatchesLogrus(t *testing.T) {
	cases := []logrus.Fields{
		{},
		{"request_id": "a-1", "user": "alice", "status": 200, "duration_ms": 0.12, "audit": true},
		{"path": `/sessions/"x"\y`, "big": 1e22, "tiny": 1e-9, "neg": -3, "i64": int64(1 << 40)},
		{"error": errors.New("boom <&>"), "unicode": "ünï", "ctl": "a\tb\nc\x01", "nil": nil},
		{"list": []string{"a", "b"}, "map": map[string]int{"x": 1}, "time": "clash", "msg": "clash2"},
		{"level": "clash3", "dur": time.Second},
	}
	for _, f := range cases {
		e := entry(f, `hello "world" <b>`)
		want, err := (&logrus.JSONFormatter{}).Format(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := JSONFormatter{}.Format(e)
		if err != nil {
			t.Fatal(err)
		}
		var w, g map[string]any
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("not JSON: %s", got)
		}
		if !reflect.DeepEqual(w, g) {
			t.Errorf("fields %v:\n got %s\nwant %s", f, got, want)
		}
		if !bytes.HasSuffix(got, []byte("}\n")) || bytes.Count(got, []byte("\n")) != 1 {
			t.Errorf("not one line: %q", got)
		}
	}
}

func TestBufferedWriterFlushes(t *testing.T) {
	var out logtest.Buffer
	bw := NewBufferedWriter(&out, 20*time.Millisecond)
	_, _ = bw.Write([]byte("one\n"))
	if out.String() != "" {
		t.Error("written through without buffering")
	}
	deadline := time.Now().Add(2 * time.Second)
	for out.String() != "one\n" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if out.String() != "one\n" {
		t.Errorf("not flushed by the ticker: %q", out.String())
	}
	_, _ = bw.Write([]byte("two\n"))
	bw.Flush()
	_, _ = bw.Write([]byte("three\n"))
	bw.Close()
	bw.Close() // idempotent
	if got := out.String(); got != "one\ntwo\nthree\n" {
		t.Errorf("after Flush and Close: %q", got)
	}
}

func TestNewLogsThroughTheBuffer(t *testing.T) {
	var out logtest.Buffer
	log, closeLog := New(Config{Level: "info", Format: "json"}, &out)
	log.WithField("user", "alice").Info("request")
	closeLog()
	if !strings.Contains(out.String(), `"user":"alice"`) || FlushOf(log) == nil {
		t.Errorf("output %q", out.String())
	}
}

// The request line's fast path writes what the logrus path writes.
func TestLogRequestFastPathMatchesLogrus(t *testing.T) {
	reqs := []Request{
		{RequestID: "abc-1", User: "alice", Client: "127.0.0.1", Method: "GET", Path: "/sessions/1", Status: 200, Outcome: "ok", DurationMS: 0.37},
		{User: `we"ird\user`, Path: "/sessions/<script>&x", Method: "POST", SessionID: "näme\u2028", Status: 503, Outcome: "error", DurationMS: 1e-7},
		{Path: "/ctl\x01\n", DurationMS: 12345678, Status: 0},
	}
	timeRE := regexp.MustCompile(`"time":"[^"]*"`)
	for _, r := range reqs {
		var fast, slow bytes.Buffer
		fl, closeFast := New(Config{Level: "info", Format: "json"}, &fast)
		LogRequest(fl, &r)
		closeFast()
		sl := logrus.New()
		sl.SetFormatter(&logrus.JSONFormatter{})
		sl.SetOutput(&slow)
		LogRequest(sl, &r)
		if fast.Len() == 0 {
			t.Fatal("fast path wrote nothing")
		}
		f, s := timeRE.ReplaceAllString(fast.String(), `"time":"T"`), timeRE.ReplaceAllString(slow.String(), `"time":"T"`)
		if f != s {
			t.Errorf("fast path:\n%s\nlogrus:\n%s", f, s)
		}
	}
	// Below info level nothing is written.
	var quiet bytes.Buffer
	ql, closeQuiet := New(Config{Level: "warn", Format: "json"}, &quiet)
	LogRequest(ql, &reqs[0])
	closeQuiet()
	if quiet.Len() != 0 {
		t.Errorf("warn level wrote %q", quiet.String())
	}
}
