package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// LivyTransport times every call to Livy and counts the ones that fail.
func (m *Metrics) LivyTransport(next http.RoundTripper) http.RoundTripper {
	return roundTripper{next: next, m: m}
}

type roundTripper struct {
	next http.RoundTripper
	m    *Metrics
}

func (t roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	t.m.livyDuration.WithLabelValues(methodLabel(r.Method)).Observe(time.Since(start).Seconds())
	switch {
	case err != nil:
		t.m.livyErrors.WithLabelValues(errorKind(err)).Inc()
	case resp.StatusCode >= 500:
		t.m.livyErrors.WithLabelValues("status_5xx").Inc()
	}
	return resp, err
}

// errorKind sorts a failed call: no answer in time, nobody listening, the
// connection broke, or the caller went away.
func errorKind(err error) string {
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &oe) && oe.Op == "dial":
		return "refused"
	}
	return "connection"
}
