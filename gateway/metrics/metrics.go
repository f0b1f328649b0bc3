// Package metrics is livygate's Prometheus instrumentation: one registry
// holding every series the gateway exports, and the small hooks the server,
// the Livy transport, the sync and the minter call. Names follow
// Prometheus conventions (livygate_…_total, _seconds). No label value is
// ever a user name, a session id or a secret: labels are route classes,
// methods, status codes, error kinds and algorithms.
package metrics

import (
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the registry and the series livygate updates.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	livyDuration    *prometheus.HistogramVec
	livyErrors      *prometheus.CounterVec
	authentications *prometheus.CounterVec
	lockouts        prometheus.Counter
	syncRuns        *prometheus.CounterVec
	syncDuration    prometheus.Histogram
	minted          *prometheus.CounterVec
	warmStarts      prometheus.Counter
	warmAdoptions   prometheus.Counter
	warmExpiries    *prometheus.CounterVec
}

// latencyBuckets span a cached poll (sub-millisecond) to a slow create.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// New registers every series, the Go runtime's and the process's, and
// livygate_build_info for Version.
func New() *Metrics {
	version := Version
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg}
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m.requests = counters("livygate_http_requests_total",
		"Requests answered by the gateway, by route class (livy, admin, ui, token, keys, health, metrics), method and status code.",
		"route", "method", "code")
	m.requestDuration = latencies("livygate_http_request_duration_seconds",
		"Time from a request's arrival to its answer, by route class.",
		"route")
	m.livyDuration = latencies("livygate_livy_request_duration_seconds",
		"Time Livy took to start answering the gateway, by method.",
		"method")
	m.livyErrors = counters("livygate_livy_errors_total",
		"Calls to Livy that got no answer or a 5xx, by kind (timeout, refused, connection, status_5xx).",
		"kind")
	m.authentications = counters("livygate_authentications_total",
		"Authentication attempts by method (basic, bearer, token, none) and outcome (ok, invalid, locked, unavailable, missing).",
		"method", "outcome")
	m.lockouts = counter("livygate_lockouts_total",
		"Logins refused because the user or the client address is locked out after failed logins.")
	m.syncRuns = counters("livygate_sync_runs_total",
		"User sync runs by trigger (timer, admin, cron) and exit code (0 clean, 1 some users failed, 2 could not run).",
		"trigger", "exit_code")
	m.syncDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "livygate_sync_duration_seconds",
		Help:    "How long a user sync run took.",
		Buckets: []float64{.1, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
	})
	m.minted = counters("livygate_tokens_minted_total",
		"Per-user tokens minted, by signing algorithm.",
		"algorithm")
	m.warmStarts = counter("livygate_warm_starts_total",
		"Warm sessions started ahead of their user's first create.")
	m.warmAdoptions = counter("livygate_warm_adoptions_total",
		"Creates answered with a warm session.")
	m.warmExpiries = counters("livygate_warm_expiries_total",
		"Warm sessions ended unadopted, by reason (unused, server stopped, died, unknown).",
		"reason")
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "livygate_build_info",
		Help: "Always 1; the labels say which build runs.",
	}, []string{"version", "goversion"})
	build.WithLabelValues(version, runtime.Version()).Set(1)
	for _, c := range []prometheus.Collector{m.requests, m.requestDuration, m.livyDuration, m.livyErrors,
		m.authentications, m.lockouts, m.syncRuns, m.syncDuration, m.minted, build,
		m.warmStarts, m.warmAdoptions, m.warmExpiries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}

// counter is a counter without labels.
func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

// counters is a counter per combination of labels.
func counters(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// latencies is a latency histogram per combination of labels.
func latencies(name, help string, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets}, labels)
}

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request counts one answered request.
func (m *Metrics) Request(route, method string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, methodLabel(method), strconv.Itoa(code)).Inc()
	m.requestDuration.WithLabelValues(route).Observe(d.Seconds())
}

// Authentication counts one attempt; outcome "locked" counts a lockout too.
func (m *Metrics) Authentication(method, outcome string) {
	m.authentications.WithLabelValues(method, outcome).Inc()
	if outcome == "locked" {
		m.lockouts.Inc()
	}
}

// SyncRun counts a finished sync run.
func (m *Metrics) SyncRun(trigger string, exitCode int, d time.Duration) {
	m.syncRuns.WithLabelValues(triggerLabel(trigger), strconv.Itoa(exitCode)).Inc()
	m.syncDuration.Observe(d.Seconds())
}

// Minted counts a minted token.
func (m *Metrics) Minted(algorithm string) { m.minted.WithLabelValues(algorithm).Inc() }

// CacheRatio exports a cache's lookups as livygate_cache_lookups_total
// {cache, result}; hit / (hit + miss) is its hit ratio.
func (m *Metrics) CacheRatio(name string, lookups func() (hits, misses uint64)) {
	for _, result := range []string{"hit", "miss"} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "livygate_cache_lookups_total",
			Help:        "Lookups in the gateway's caches, by cache and result (hit or miss).",
			ConstLabels: prometheus.Labels{"cache": name, "result": result},
		}, func() float64 {
			hits, misses := lookups()
			if result == "hit" {
				return float64(hits)
			}
			return float64(misses)
		}))
	}
}

// StoreQueue exports the audit store's queue: its depth, and the events
// written and dropped.
func (m *Metrics) StoreQueue(stats func() (queued int, written, dropped uint64)) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "livygate_store_queue_depth",
			Help: "Audit events and mint records waiting to be written to the store.",
		}, func() float64 { q, _, _ := stats(); return float64(q) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "livygate_store_written_total",
			Help: "Audit events and mint records written to the store.",
		}, func() float64 { _, w, _ := stats(); return float64(w) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "livygate_store_dropped_total",
			Help: "Audit events and mint records the store could not take (queue full or database down); each is still in the log.",
		}, func() float64 { _, _, d := stats(); return float64(d) }),
	)
}

// ProxyLoad exports the requests being proxied to Livy and those waiting
// their turn (livy.max_connections).
func (m *Metrics) ProxyLoad(load func() (inFlight, waiting int)) {
	m.loadGauges(load,
		prometheus.GaugeOpts{
			Name: "livygate_proxy_requests_in_flight",
			Help: "Client requests being proxied to Livy now (at most livy.max_connections with livy.url).",
		},
		prometheus.GaugeOpts{
			Name: "livygate_proxy_requests_waiting",
			Help: "Client requests waiting for their turn to be proxied (livy.max_connections in flight already).",
		})
}

// RequestLoad exports the requests being handled and those waiting for a
// slot (listen.max_active_requests).
func (m *Metrics) RequestLoad(load func() (active, waiting int)) {
	m.loadGauges(load,
		prometheus.GaugeOpts{
			Name: "livygate_requests_active",
			Help: "Client requests being read and handled now (at most listen.max_active_requests).",
		},
		prometheus.GaugeOpts{
			Name: "livygate_requests_waiting",
			Help: "Client requests whose head has arrived, waiting for a slot to be handled (listen.max_active_requests taken).",
		})
}

// loadGauges registers a bound's two gauges: the requests it admitted and
// those waiting for it.
func (m *Metrics) loadGauges(load func() (admitted, waiting int), admitted, waiting prometheus.GaugeOpts) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(admitted, func() float64 { n, _ := load(); return float64(n) }),
		prometheus.NewGaugeFunc(waiting, func() float64 { _, n := load(); return float64(n) }),
	)
}

// methodLabel keeps the method label to a known set: a client can send any
// method name, and labels must not grow without bound.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// triggerLabel keeps "admin:carol" (the UI's trigger) from naming a user.
func triggerLabel(t string) string {
	switch t {
	case "timer", "cron":
		return t
	}
	return "admin"
}

// WarmStarted counts a warm session started.
func (m *Metrics) WarmStarted() { m.warmStarts.Inc() }

// WarmAdopted counts a create answered with a warm session.
func (m *Metrics) WarmAdopted() { m.warmAdoptions.Inc() }

// WarmExpired counts a warm session ended unadopted.
func (m *Metrics) WarmExpired(reason string) { m.warmExpiries.WithLabelValues(reason).Inc() }
