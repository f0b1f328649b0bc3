package logging

import (
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// Request is the one line logged for every request.
type Request struct {
	RequestID, User, ProxyUser, SessionID, Client, Method, Path, Outcome string
	Status                                                               int
	DurationMS                                                           float64
}

// Fields are the line's logrus fields, with their stable names.
func (r *Request) Fields() logrus.Fields {
	return logrus.Fields{
		"request_id": r.RequestID, "user": r.User, "proxy_user": r.ProxyUser, "session_id": r.SessionID,
		"client": r.Client, "method": r.Method, "path": r.Path, "status": r.Status, "outcome": r.Outcome,
		"duration_ms": r.DurationMS,
	}
}

// LogRequest writes the request line at info level. It is on every proxied
// request's path, so with livygate's own logger (JSONFormatter into a
// BufferedWriter, no hooks) it appends the very bytes logrus would write
// straight into the buffer, skipping logrus's per-line map, entry and sort.
// Any other logger gets the line through logrus.
func LogRequest(log logrus.FieldLogger, r *Request) {
	if l, ok := log.(*logrus.Logger); ok && l.IsLevelEnabled(logrus.InfoLevel) && len(l.Hooks) == 0 {
		if _, own := l.Formatter.(JSONFormatter); own {
			if bw, buffered := l.Out.(*BufferedWriter); buffered {
				writeRequestLine(bw, r, time.Now())
				return
			}
		}
	}
	log.WithFields(r.Fields()).Info("request")
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// writeRequestLine writes r as JSONFormatter would: keys sorted, "level",
// "msg" and "time" among them.
func writeRequestLine(bw *BufferedWriter, r *Request, now time.Time) {
	bp := linePool.Get().(*[]byte)
	b := (*bp)[:0]
	str := func(key, v string) {
		b = append(b, key...)
		b, _ = appendValue(b, v) // strings never fail
	}
	str(`{"client":`, r.Client)
	b = append(b, `,"duration_ms":`...)
	b, _ = appendValue(b, r.DurationMS)
	str(`,"level":`, "info")
	str(`,"method":`, r.Method)
	str(`,"msg":`, "request")
	str(`,"outcome":`, r.Outcome)
	str(`,"path":`, r.Path)
	str(`,"proxy_user":`, r.ProxyUser)
	str(`,"request_id":`, r.RequestID)
	str(`,"session_id":`, r.SessionID)
	b = append(b, `,"status":`...)
	b, _ = appendValue(b, r.Status)
	b = append(b, `,"time":"`...)
	b = append(now.AppendFormat(b, time.RFC3339), '"') // RFC 3339 needs no escaping
	str(`,"user":`, r.User)
	b = append(b, '}', '\n')
	_, _ = bw.Write(b)
	*bp = b
	linePool.Put(bp)
}
