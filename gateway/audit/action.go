package audit

import (
	"strings"
)

// Multi sends every event to each of its sinks in turn (the log and the
// store). Each sink must itself be quick: the store only queues.
type Multi []Sink

// Record implements Sink.
func (m Multi) Record(e Event) {
	for _, s := range m {
		s.Record(e)
	}
}

// ActionOf names what a request did, for filtering the audit trail: "create
// batch", "delete session", "run statement", "admin kill batch", … It is
// derived from the method and path only, so the log lines stay as they are.
func ActionOf(method, path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	verb := strings.ToLower(method)
	noun := func(res string) string {
		switch res {
		case "sessions":
			return "session"
		case "batches":
			return "batch"
		}
		return ""
	}
	if segs[0] == "admin" {
		rest := segs[1:]
		if len(rest) > 0 && rest[0] == "ui" {
			rest = rest[1:]
		}
		switch {
		case method != "POST":
		case len(rest) == 4 && rest[0] == "sessions" && rest[3] == "kill" && noun(rest[1]) != "":
			return "admin kill " + noun(rest[1])
		case len(rest) == 2 && rest[0] == "sync" && rest[1] == "run":
			return "admin sync now"
		case len(rest) == 2 && rest[0] == "sync" && rest[1] == "dry-run":
			return "admin sync dry-run"
		case len(rest) == 1 && (rest[0] == "login" || rest[0] == "logout"):
			return "admin " + rest[0]
		}
		return "admin " + verb
	}
	n := noun(segs[0])
	if n == "" {
		return verb + " other"
	}
	switch {
	case len(segs) == 1 && method == "POST":
		return "create " + n
	case len(segs) == 1:
		return "list " + segs[0]
	case len(segs) == 2 && method == "DELETE":
		return "delete " + n
	case len(segs) == 3 && segs[2] == "statements" && method == "POST":
		return "run statement"
	case len(segs) == 5 && segs[2] == "statements" && segs[4] == "cancel":
		return "cancel statement"
	case method == "GET" || method == "HEAD":
		return "read " + n
	}
	return verb + " " + n
}
