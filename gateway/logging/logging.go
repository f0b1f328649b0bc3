// Package logging builds livygate's logrus logger: JSON lines with stable
// field names, written through a small buffer. Every proxied request logs a
// line, so the formatter and the writes are on the hot path.
package logging

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// FlushInterval bounds how long a request log line waits in the buffer.
const FlushInterval = 100 * time.Millisecond

// New returns a logger writing to out as configured, and a function that
// flushes what is buffered and stops the flusher (call it before exiting).
func New(cfg Config, out io.Writer) (*logrus.Logger, func()) {
	log := logrus.New()
	if lvl, err := logrus.ParseLevel(cfg.Level); err == nil {
		log.SetLevel(lvl)
	}
	if cfg.Format == "text" {
		log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	} else {
		log.SetFormatter(JSONFormatter{})
	}
	w := NewBufferedWriter(out, FlushInterval)
	log.SetOutput(w)
	return log, w.Close
}

// JSONFormatter writes what logrus.JSONFormatter writes (the same keys, sorted
// the same way, "time" in RFC 3339) without a map copy and reflection per
// line. Values of types it does not know fall back to encoding/json.
type JSONFormatter struct{}

// Format implements logrus.Formatter. It writes into the entry's pooled
// buffer when logrus provides one, as logrus's own formatters do.
func (JSONFormatter) Format(e *logrus.Entry) ([]byte, error) {
	var b []byte
	if e.Buffer != nil {
		b = e.Buffer.AvailableBuffer()
	}

	var stack [24]string
	keys := stack[:0]
	for k := range e.Data {
		if builtin(k) {
			k = "fields." + k // as logrus renames a field that clashes with its own
		}
		keys = append(keys, k)
	}
	keys = append(keys, "level", "msg", "time")
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, k)
		b = append(b, ':')
		var err error
		switch k {
		case "level":
			b = strconv.AppendQuote(b, e.Level.String())
		case "msg":
			b, err = appendValue(b, e.Message)
		case "time":
			b = strconv.AppendQuote(b, e.Time.Format(time.RFC3339))
		default:
			if orig, renamed := strings.CutPrefix(k, "fields."); renamed && builtin(orig) {
				k = orig
			}
			b, err = appendValue(b, e.Data[k])
		}
		if err != nil {
			return nil, fmt.Errorf("formatting log field %q: %w", k, err)
		}
	}
	b = append(b, '}', '\n')
	if e.Buffer != nil {
		e.Buffer.Write(b)
		return e.Buffer.Bytes(), nil
	}
	return b, nil
}

func builtin(k string) bool { return k == "level" || k == "msg" || k == "time" }

// appendValue writes v as JSON. Strings use strconv.AppendQuote, whose
// escapes for ASCII control characters and quotes are valid JSON; anything
// else non-ASCII or unusual goes through encoding/json to stay exact.
func appendValue(b []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case string:
		if isPlain(t) {
			return strconv.AppendQuote(b, t), nil
		}
	case int:
		return strconv.AppendInt(b, int64(t), 10), nil
	case int64:
		return strconv.AppendInt(b, t, 10), nil
	case bool:
		return strconv.AppendBool(b, t), nil
	case float64:
		// Inside this range encoding/json writes plain decimals too.
		if a := math.Abs(t); a == 0 || (a >= 1e-6 && a < 1e21) {
			return strconv.AppendFloat(b, t, 'f', -1, 64), nil
		}
	case error:
		return appendValue(b, t.Error())
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// isPlain reports a string of printable ASCII without the characters
// encoding/json escapes differently from strconv (<, >, &).
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// BufferedWriter gathers log lines and writes them out every interval, when
// the buffer fills, or on Flush: one write per batch instead of per line.
type BufferedWriter struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// NewBufferedWriter starts the flusher.
func NewBufferedWriter(out io.Writer, interval time.Duration) *BufferedWriter {
	bw := &BufferedWriter{w: bufio.NewWriterSize(out, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(bw.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-bw.stop:
				return
			case <-t.C:
				bw.Flush()
			}
		}
	}()
	return bw
}

// Write implements io.Writer.
func (bw *BufferedWriter) Write(p []byte) (int, error) {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	return bw.w.Write(p)
}

// Flush writes out what is buffered.
func (bw *BufferedWriter) Flush() {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	_ = bw.w.Flush()
}

// Close flushes and stops the flusher.
func (bw *BufferedWriter) Close() {
	select {
	case <-bw.stop:
	default:
		close(bw.stop)
		<-bw.done
	}
	bw.Flush()
}

// Flusher is what the audit sink calls after each event, so audit lines are
// never left waiting in the buffer.
type Flusher interface{ Flush() }

// FlushOf returns the logger's output as a Flusher, or nil.
func FlushOf(log *logrus.Logger) Flusher {
	f, _ := log.Out.(Flusher)
	return f
}
