package limits

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/livygate/livygate/gateway/clocktest"
	"github.com/livygate/livygate/gateway/logging/logtest"
	"github.com/livygate/livygate/livy"
	"github.com/livygate/livygate/livy/livytest"
)

func client(t testing.TB, base string) *livy.Client {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return &livy.Client{BaseURL: u, HTTP: &http.Client{Timeout: 5 * time.Second}}
}

// newLimiter builds a Limiter over a fake Livy (its version asked once).
func newLimiter(t testing.TB, cfg Config) (*Limiter, *livytest.Fake) {
	t.Helper()
	fake := livytest.New()
	t.Cleanup(fake.Close)
	lc := client(t, fake.URL())
	v, err := NewBackendVersion("", lc.ServerVersion, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(cfg, Deps{Livy: lc, Version: v.Get, Log: logtest.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	return l, fake
}

var (
	alice = Caller{User: "alice", Groups: []string{"analysts"}}
	carol = Caller{User: "carol", Groups: []string{"livygate-admins"}, Admin: true}
)

func body(t testing.TB, s string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func refusal(t *testing.T, err error, status int, parts ...string) {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("want a %d refusal, got %v", status, err)
	}
	if r.Status != status {
		t.Errorf("status %d, want %d (%s)", r.Status, status, r.Msg)
	}
	for _, p := range parts {
		if !strings.Contains(r.Msg, p) {
			t.Errorf("message %q lacks %q", r.Msg, p)
		}
	}
}

func intp(n int) *int             { return &n }
func strp(s string) *string       { return &s }
func strsp(s ...string) *[]string { return &s }

func TestCountRefusesTheFourthLiveSession(t *testing.T) {
	cfg := Default()
	cfg.Default.MaxSessions = 3
	l, fake := newLimiter(t, cfg)
	for i := 0; i < 3; i++ {
		fake.Add("sessions", map[string]any{"proxyUser": "alice", "kind": "pyspark"})
	}
	dead := fake.Add("sessions", map[string]any{"proxyUser": "alice"})
	fake.SetState("sessions", dead, "dead")
	fake.Add("sessions", map[string]any{"proxyUser": "bob"})
	fake.Add("batches", map[string]any{"proxyUser": "alice"})
	fake.Reset()

	_, err := l.Admit(context.Background(), livy.Sessions, alice, "alice", body(t, `{"kind":"pyspark"}`))
	refusal(t, err, 429, "you have 3 live sessions; the limit is 3 (limits.default.max_sessions)")
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Path != "/sessions" {
		t.Errorf("counting should be one list call: %+v", reqs)
	}
	// Batches are counted apart, and bob is not alice.
	if _, err := l.Admit(context.Background(), livy.Batches, alice, "alice", body(t, `{"file":"x.py"}`)); err != nil {
		t.Errorf("a batch: %v", err)
	}
	if _, err := l.Admit(context.Background(), livy.Sessions, Caller{User: "bob"}, "bob", body(t, `{}`)); err != nil {
		t.Errorf("bob: %v", err)
	}
	// The session that ends frees a place.
	fake.SetState("sessions", 0, "killed")
	if _, err := l.Admit(context.Background(), livy.Sessions, alice, "alice", body(t, `{}`)); err != nil {
		t.Errorf("after one ended: %v", err)
	}
}

func TestCreatesInFlightCount(t *testing.T) {
	cfg := Default()
	cfg.Default.MaxBatches = 1
	l, _ := newLimiter(t, cfg)
	release, err := l.Admit(context.Background(), livy.Batches, alice, "alice", body(t, `{"file":"a.py"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Admit(context.Background(), livy.Batches, alice, "alice", body(t, `{"file":"a.py"}`))
	refusal(t, err, 429, "you have 1 live batches; the limit is 1 (limits.default.max_batches)")
	release()
	release() // idempotent
	if _, err := l.Admit(context.Background(), livy.Batches, alice, "alice", body(t, `{"file":"a.py"}`)); err != nil {
		t.Errorf("after the first create was answered: %v", err)
	}
}

// Overrides: the first entry naming the user or a group of theirs wins, in
// the order the entries are listed (not the order of the user's groups),
// and fields it leaves out keep the default.
func TestOverridesFirstMatchWins(t *testing.T) {
	cfg := Default()
	cfg.Default = Set{MaxSessions: 1, MaxDriverMemory: "1g"}
	cfg.Overrides = []Override{
		{Users: []string{"dave"}, MaxSessions: intp(0)},
		{Groups: []string{"interns"}, MaxSessions: intp(2)},
		{Groups: []string{"engineers"}, MaxSessions: intp(5), MaxDriverMemory: strp("8g")},
	}
	l, _ := newLimiter(t, cfg)
	cases := []struct {
		user   string
		groups []string
		want   Set
		source string
	}{
		{"erin", []string{"engineers", "interns"}, Set{MaxSessions: 2, MaxDriverMemory: "1g"}, "limits.overrides[1]"},
		{"frank", []string{"engineers"}, Set{MaxSessions: 5, MaxDriverMemory: "8g"}, "limits.overrides[2]"},
		{"dave", []string{"interns"}, Set{MaxSessions: 0, MaxDriverMemory: "1g"}, "limits.overrides[0]"},
		{"gina", []string{"analysts"}, Set{MaxSessions: 1, MaxDriverMemory: "1g"}, "limits.default"},
	}
	for _, c := range cases {
		got, src := l.For(c.user, c.groups)
		if got.MaxSessions != c.want.MaxSessions || got.MaxDriverMemory != c.want.MaxDriverMemory || src != c.source {
			t.Errorf("%s %v: %+v from %s, want %+v from %s", c.user, c.groups, got, src, c.want, c.source)
		}
	}
	_, err := l.Admit(context.Background(), livy.Sessions, Caller{User: "erin", Groups: []string{"engineers", "interns"}}, "erin",
		body(t, `{"driverMemory":"2g"}`))
	refusal(t, err, 400, `driverMemory "2g" is over the limit of 1g (limits.overrides[1].max_driver_memory)`)
}

func TestSizesEveryWayToAsk(t *testing.T) {
	cfg := Default()
	cfg.Default = Set{MaxDriverMemory: "2g", MaxExecutorMemory: "4g", MaxDriverCores: 2, MaxExecutorCores: 4, MaxExecutors: 3}
	l, _ := newLimiter(t, cfg)
	refused := []struct{ body, named string }{
		{`{"driverMemory":"3g"}`, `driverMemory "3g" is over the limit of 2g (limits.default.max_driver_memory)`},
		{`{"conf":{"spark.driver.memory":"2049m"}}`, `conf spark.driver.memory="2049m"`},
		{`{"conf":{"spark.driver.memory":"2049"}}`, `conf spark.driver.memory="2049"`}, // bare: MiB
		{`{"executorMemory":"5GB"}`, "max_executor_memory"},
		{`{"conf":{"spark.executor.memory":"1t"}}`, "max_executor_memory"},
		{`{"driverCores":3}`, `driverCores "3" is over the limit of 2 (limits.default.max_driver_cores)`},
		{`{"conf":{"spark.executor.cores":"5"}}`, "max_executor_cores"},
		{`{"numExecutors":4}`, "max_executors"},
		{`{"conf":{"spark.executor.instances":"4"}}`, "spark.executor.instances"},
		{`{"conf":{"spark.dynamicAllocation.maxExecutors":"100"}}`, "spark.dynamicAllocation.maxExecutors"},
		{`{"conf":{"spark.dynamicAllocation.initialExecutors":"9"}}`, "initialExecutors"},
		{`{"driverMemory":"lots"}`, `driverMemory: "lots" is not a size`},
		{`{"numExecutors":"many"}`, "not a whole number"},
	}
	for _, c := range refused {
		_, err := l.Admit(context.Background(), livy.Sessions, alice, "alice", body(t, c.body))
		refusal(t, err, 400, c.named)
	}
	req := body(t, `{"driverMemory":"2gb","executorMemory":"4096m","driverCores":"2","numExecutors":3,"conf":{"spark.driver.memory":"2048"}}`)
	if _, err := l.Admit(context.Background(), livy.Batches, alice, "alice", req); err != nil {
		t.Fatalf("at the limits: %v", err)
	}
	var conf map[string]string
	_ = json.Unmarshal(req["conf"], &conf)
	if conf["spark.dynamicAllocation.maxExecutors"] != "3" || conf["spark.driver.memory"] != "2048" {
		t.Errorf("max_executors not filled in for dynamic allocation: %v", conf)
	}
}

func TestQueues(t *testing.T) {
	cfg := Default()
	cfg.Default = Set{Queues: []string{"default", "analysts"}, DefaultQueue: "analysts"}
	cfg.Overrides = []Override{{Groups: []string{"etl"}, Queues: strsp("etl"), DefaultQueue: strp("etl")}}
	l, _ := newLimiter(t, cfg)
	req := body(t, `{"kind":"pyspark"}`)
	if _, err := l.Admit(context.Background(), livy.Sessions, alice, "alice", req); err != nil {
		t.Fatal(err)
	}
	if string(req["queue"]) != `"analysts"` {
		t.Errorf("default queue: %s", req["queue"])
	}
	_, err := l.Admit(context.Background(), livy.Sessions, alice, "alice", body(t, `{"queue":"prod"}`))
	refusal(t, err, 400, `queue "prod" is not an allowed YARN queue; use one of default, analysts (limits.default.queues)`)
	_, err = l.Admit(context.Background(), livy.Sessions, alice, "alice", body(t, `{"conf":{"spark.yarn.queue":"prod"}}`))
	refusal(t, err, 400, `conf spark.yarn.queue="prod"`)
	req = body(t, `{"conf":{"spark.yarn.queue":"default"}}`)
	if _, err := l.Admit(context.Background(), livy.Sessions, alice, "alice", req); err != nil || req["queue"] != nil {
		t.Errorf("a queue in conf is the request's queue: %v %s", err, req["queue"])
	}
	_, err = l.Admit(context.Background(), livy.Sessions, Caller{User: "eve", Groups: []string{"etl"}}, "eve", body(t, `{"queue":"default"}`))
	refusal(t, err, 400, "limits.overrides[0].queues")
}

func TestAdminsExemptUnlessConfigured(t *testing.T) {
	cfg := Default()
	cfg.Default = Set{MaxSessions: 1, MaxDriverMemory: "1g", Queues: []string{"default"}}
	l, fake := newLimiter(t, cfg)
	fake.Add("sessions", map[string]any{"proxyUser": "carol"})
	if _, err := l.Admit(context.Background(), livy.Sessions, carol, "carol", body(t, `{"driverMemory":"64g","queue":"prod"}`)); err != nil {
		t.Errorf("admin: %v", err)
	}
	cfg.AdminsExempt = false
	l2, err := New(cfg, Deps{Livy: client(t, fake.URL()), Log: logtest.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l2.Admit(context.Background(), livy.Sessions, carol, "carol", body(t, `{}`))
	refusal(t, err, 429, "you have 1 live sessions; the limit is 1")
	// An admin creating for alice (auth.admins_may_impersonate) counts alice's.
	fake.Add("sessions", map[string]any{"proxyUser": "alice"})
	_, err = l2.Admit(context.Background(), livy.Sessions, carol, "alice", body(t, `{}`))
	refusal(t, err, 429, "alice has 1 live sessions")
}

func TestTimeoutsClampedOrRefusedWithDefaults(t *testing.T) {
	cfg := Default()
	cfg.Timeouts = Timeouts{OverMax: "clamp",
		TTL:              Timeout{Default: 8 * time.Hour, Max: 24 * time.Hour},
		IdleTimeout:      Timeout{Default: time.Hour, Max: 2 * time.Hour},
		HeartbeatTimeout: Timeout{Max: 10 * time.Minute},
	}
	l, fake := newLimiter(t, cfg)
	req := body(t, `{"ttl":"3650d","idleTimeout":"90m","heartbeatTimeoutInSecond":0}`)
	if _, err := l.Admit(context.Background(), livy.Sessions, alice, "alice", req); err != nil {
		t.Fatal(err)
	}
	if string(req["ttl"]) != `"1d"` || string(req["idleTimeout"]) != `"90m"` || string(req["heartbeatTimeoutInSecond"]) != "600" {
		t.Errorf("clamped: ttl %s idle %s heartbeat %s", req["ttl"], req["idleTimeout"], req["heartbeatTimeoutInSecond"])
	}
	req = body(t, `{"kind":"spark"}`)
	if _, err := l.Admit(context.Background(), livy.Sessions, alice, "alice", req); err != nil {
		t.Fatal(err)
	}
	if string(req["ttl"]) != `"8h"` || string(req["idleTimeout"]) != `"1h"` || req["heartbeatTimeoutInSecond"] != nil {
		t.Errorf("defaults: %v", req)
	}
	// Admins: no maximum, defaults still.
	req = body(t, `{"ttl":"3650d"}`)
	if _, err := l.Admit(context.Background(), livy.Sessions, carol, "carol", req); err != nil || string(req["ttl"]) != `"3650d"` {
		t.Errorf("admin's ttl: %v %s", err, req["ttl"])
	}
	// Batches have no such timers.
	req = body(t, `{"file":"a.py"}`)
	if _, err := l.Admit(context.Background(), livy.Batches, alice, "alice", req); err != nil || req["ttl"] != nil {
		t.Errorf("batch: %v %v", err, req)
	}
	// What Livy cannot read either goes on unchanged: Livy refuses it with
	// its own "Rejected, Reason:" 400.
	req = body(t, `{"ttl":"forever","idleTimeout":"-5m"}`)
	if _, err := l.Admit(context.Background(), livy.Sessions, alice, "alice", req); err != nil ||
		string(req["ttl"]) != `"forever"` || string(req["idleTimeout"]) != `"-5m"` {
		t.Errorf("unreadable timers: %v %v", err, req)
	}
	// The version was asked once.
	n := 0
	for _, r := range fake.Requests() {
		if r.Path == "/version" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("GET /version asked %d times, want once", n)
	}

	cfg.Timeouts.OverMax = "refuse"
	l, _ = newLimiter(t, cfg)
	_, err := l.Admit(context.Background(), livy.Sessions, alice, "alice", body(t, `{"ttl":"3650d"}`))
	refusal(t, err, 400, `ttl "3650d" is over the maximum of 24h0m0s (limits.timeouts.ttl.max)`)
	_, err = l.Admit(context.Background(), livy.Sessions, alice, "alice", body(t, `{"heartbeatTimeoutInSecond":0}`))
	refusal(t, err, 400, "limits.timeouts.heartbeat_timeout.max")
}

// Livy 0.7 knows neither ttl nor idleTimeout: they are never sent to it,
// whether the client sent them or a default would add them. 0.8 takes ttl.
func TestFieldsTheBackendDoesNotKnowAreNeverSent(t *testing.T) {
	cfg := Default()
	cfg.Timeouts.TTL = Timeout{Default: time.Hour}
	cfg.Timeouts.IdleTimeout = Timeout{Default: time.Hour}
	cfg.Timeouts.HeartbeatTimeout = Timeout{Default: time.Minute}
	for _, c := range []struct {
		version       string
		ttl, idle, hb bool
	}{{"0.7.1-incubating", false, false, true}, {"0.8.0-incubating", true, false, true}, {"0.9.0-incubating", true, true, true}} {
		l, fake := newLimiter(t, cfg)
		fake.Version = c.version
		for _, b := range []string{`{"ttl":"2h","idleTimeout":"2h"}`, `{}`} {
			req := body(t, b)
			if _, err := l.Admit(context.Background(), livy.Sessions, alice, "alice", req); err != nil {
				t.Fatal(err)
			}
			if (req["ttl"] != nil) != c.ttl || (req["idleTimeout"] != nil) != c.idle || (req["heartbeatTimeoutInSecond"] != nil) != c.hb {
				t.Errorf("Livy %s, %s: sent %v", c.version, b, req)
			}
		}
	}
	// Configured: no call to Livy.
	fake := livytest.New()
	defer fake.Close()
	v, err := NewBackendVersion("0.7.1", client(t, fake.URL()).ServerVersion, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := New(cfg, Deps{Version: v.Get, Log: logtest.Discard()})
	req := body(t, `{"ttl":"2h"}`)
	if _, err := l.Admit(context.Background(), livy.Sessions, alice, "alice", req); err != nil || req["ttl"] != nil {
		t.Errorf("livy.version 0.7.1: %v %v", err, req)
	}
	if len(fake.Requests()) != 0 {
		t.Errorf("a configured version asked Livy: %v", fake.Requests())
	}
}

func TestBackendVersionRetriesAfterAFailure(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	calls, fail := 0, true
	v, _ := NewBackendVersion("", func(context.Context) (livy.Version, error) {
		calls++
		if fail {
			return livy.Version{}, errors.New("connection refused")
		}
		return livy.V09, nil
	}, clk.Now)
	if _, err := v.Get(context.Background()); err == nil {
		t.Fatal("no error while Livy is down")
	}
	_, _ = v.Get(context.Background())
	if calls != 1 {
		t.Errorf("asked %d times within the retry delay", calls)
	}
	fail = false
	clk.Add(retryAfter)
	if got, err := v.Get(context.Background()); err != nil || got != livy.V09 {
		t.Fatalf("%v %v", got, err)
	}
	_, _ = v.Get(context.Background())
	if calls != 2 {
		t.Errorf("asked %d times, want 2", calls)
	}
}

func TestLivyDownRefusesCountedCreates(t *testing.T) {
	cfg := Default()
	cfg.Default.MaxSessions = 2
	l, err := New(cfg, Deps{Livy: client(t, "http://127.0.0.1:1"), Log: logtest.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Admit(context.Background(), livy.Sessions, alice, "alice", body(t, `{}`))
	refusal(t, err, 503, "cannot check the default.max_sessions limit")
}

func TestValidate(t *testing.T) {
	cfg := Default()
	cfg.Default = Set{MaxSessions: -1, MaxDriverMemory: "2x", Queues: []string{"a"}, DefaultQueue: "b"}
	cfg.Overrides = []Override{{MaxExecutorMemory: strp("0")}}
	cfg.Timeouts = Timeouts{OverMax: "shrug", TTL: Timeout{Default: 2 * time.Hour, Max: time.Hour},
		HeartbeatTimeout: Timeout{Max: 1500 * time.Millisecond}}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"limits.default.max_sessions", "limits.default.max_driver_memory", "limits.default.default_queue",
		"limits.overrides[0]: names no groups or users", "limits.overrides[0].max_executor_memory", "limits.timeouts.over_max",
		"limits.timeouts.ttl.default", "limits.timeouts.heartbeat_timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestUnits(t *testing.T) {
	for s, want := range map[string]int64{"512m": 512 << 20, "2g": 2 << 30, "2gb": 2 << 30, "2G": 2 << 30, "1024": 1 << 30, "1t": 1 << 40, "100k": 100 << 10, "7b": 7} {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, bad := range []string{"", "1.5g", "-1g", "2x", "g"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) passed", bad)
		}
	}
	for s, want := range map[string]time.Duration{"3650d": 3650 * 24 * time.Hour, "90min": 90 * time.Minute, "1500": 1500 * time.Millisecond, "2H": 2 * time.Hour} {
		if got, err := ParseLivyTime(s); err != nil || got != want {
			t.Errorf("ParseLivyTime(%q) = %v, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "1w", "-5m", "1.5h"} {
		if _, err := ParseLivyTime(bad); err == nil {
			t.Errorf("ParseLivyTime(%q) passed", bad)
		}
	}
	for d, want := range map[time.Duration]string{24 * time.Hour: "1d", 90 * time.Minute: "90m", 1500 * time.Millisecond: "1500ms", 8 * time.Hour: "8h"} {
		if got := FormatLivyTime(d); got != want {
			t.Errorf("FormatLivyTime(%v) = %q", d, got)
		}
	}
}
